"""``python -m sandbox.files --root DIR [--interval S]``: run the 3PL, DRP and PDM partners."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from pathlib import Path

from sandbox.files.runner import start_file_partners


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.files", description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="the partners' tree (SFTP home)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--products", type=int, default=20, help="extra PDM products")
    parser.add_argument("--knobs", default="{}", help='JSON, e.g. \'{"threepl": {"delay_s": 0}}\'')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    partners = start_file_partners(
        args.root,
        interval=args.interval,
        seed=args.seed,
        knobs=json.loads(args.knobs),
        extra_products=args.products,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(
        f"file partners running on {args.root} (3pl/, drp/, pdm/); knobs: {partners.control_file}",
        flush=True,
    )
    done.wait()
    partners.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
