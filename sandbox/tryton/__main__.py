"""``python -m sandbox.tryton --port 8000 --workdir DIR``: Tryton 8.2 on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from sandbox.tryton.server import start_tryton
from sandbox.tryton.template import ensure_template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.tryton", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--cache-dir", type=Path, default=None, help="template cache")
    args = parser.parse_args(argv)
    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="tandem-tryton-"))
    template = ensure_template(args.cache_dir)
    handle = start_tryton(workdir, port=args.port, template=template)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(
        f"Tryton 8.2 ready on {handle.url}/ database {handle.database} "
        f"(JSON-RPC {handle.rpc_url}, login {handle.login}, password in {handle.password_file}; "
        f"started in {handle.started_in:.1f} s)",
        flush=True,
    )
    try:
        while not stop.is_set() and handle.process.poll() is None:
            stop.wait(0.5)
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
