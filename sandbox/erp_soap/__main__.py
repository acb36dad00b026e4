"""``python -m sandbox.erp_soap --host 127.0.0.1 --port 7047 --company CRONUS --state FILE``.

Starts with seeded company data (``--seed N``, default 1; kept when ``--state`` already holds
data); ``--empty`` starts with no records."""

from __future__ import annotations

import argparse
import os
import sys

from sandbox.erp_soap.app import Knobs
from sandbox.erp_soap.server import make_erp_server


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox.erp_soap", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7047)
    p.add_argument("--company", default="CRONUS")
    p.add_argument("--state", default=None, help="JSON file that keeps the data across restarts")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument(
        "--seed", type=int, default=1, help="seed of the starting data and of the error knobs"
    )
    p.add_argument("--empty", action="store_true", help="start without any records")
    p.add_argument("--allow-negative-inventory", action="store_true")
    p.add_argument(
        "--no-strict-items", action="store_true", help="accept order lines for unknown items"
    )
    p.add_argument("--down", action="store_true")
    p.add_argument("--user", default=None, help="require HTTP Basic auth with this user")
    p.add_argument(
        "--password-env", default="SANDBOX_ERP_PASSWORD", help="env var holding the password"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    knobs = Knobs(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        down=args.down,
        seed=args.seed,
        strict_items=not args.no_strict_items,
        allow_negative_inventory=args.allow_negative_inventory,
    )
    credentials = None
    if args.user:
        credentials = (args.user, os.environ.get(args.password_env, ""))
    app, server = make_erp_server(
        args.host,
        args.port,
        company=args.company,
        state_path=args.state,
        knobs=knobs,
        credentials=credentials,
        seed=None if args.empty else args.seed,
    )
    port = server.server_port
    counts = ", ".join(f"{app.store.count(page)} {page}" for page in app.services)
    print(
        f"sandbox ERP ready on http://{args.host}:{port}/WS/{app.company}/Page/ "
        f"(pages: {', '.join(app.services)}; codeunits: {', '.join(app.codeunits)}; "
        f"records: {counts})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
