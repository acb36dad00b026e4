"""`python -m sandbox.crm --port 8091 [--seed 1] [--token-ttl 60]`.

Prints a ready line with the token URL and the client id. The client secret is never printed:
it is read from the environment variable named by ``--client-secret-env`` when that is set,
else generated and written to ``--secret-file`` (mode 0600).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sandbox.crm.auth import Client
from sandbox.crm.peer import DEFAULT_CLIENT_ID, make_crm, new_client
from sandbox.webshop.serving import bind, serve_forever


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox.crm", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8091, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--token-ttl", type=float, default=60.0, help="access token lifetime (s)")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    p.add_argument("--client-secret-env", default="SANDBOX_CRM_CLIENT_SECRET")
    p.add_argument("--secret-file", type=Path, default=None, help="where a generated secret goes")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=0.0, help="share of requests left hanging")
    p.add_argument("--drop-connection", type=float, default=0.0)
    p.add_argument("--malformed-rate", type=float, default=0.0)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    given = os.environ.get(args.client_secret_env, "")
    client = Client(args.client_id, given or new_client(args.client_id).client_secret)
    knobs = {
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "timeout": args.timeout,
        "drop_connection": args.drop_connection,
        "malformed_rate": args.malformed_rate,
    }
    api = make_crm(seed=args.seed, client=client, token_ttl_seconds=args.token_ttl, knobs=knobs)
    where = f"${args.client_secret_env}"
    if not given:
        path: Path = args.secret_file or Path(tempfile.gettempdir()) / f"sandbox-crm-{port}.secret"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(client.client_secret + "\n")
        os.chmod(path, 0o600)
        where = str(path)
    print(
        f"sandbox CRM ready on http://{args.host}:{port}/legacy/Api/ "
        f"(client id {client.client_id}; client secret in {where})",
        flush=True,
    )
    serve_forever(api.asgi, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
