"""`python -m sandbox.webshop --port 8090 [--seed 1] [--webhook-url URL]`.

Prints a ready line with the API root and the consumer key. The consumer secret is never
printed: it is read from the environment variable named by ``--consumer-secret-env`` when
that is set, else generated and written to ``--secret-file`` (mode 0600).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sandbox.webshop.api import Credentials
from sandbox.webshop.peer import make_webshop, new_credentials
from sandbox.webshop.serving import bind, serve_forever


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sandbox.webshop", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=1, help="seed of the generated shop data")
    p.add_argument("--consumer-key", default=None, help="default: a new ck_... key")
    p.add_argument("--consumer-secret-env", default="SANDBOX_WEBSHOP_CONSUMER_SECRET")
    p.add_argument("--secret-file", type=Path, default=None, help="where a generated secret goes")
    p.add_argument("--webhook-url", action="append", default=[], help="webhook delivery URL")
    p.add_argument("--webhook-secret-env", default="SANDBOX_WEBSHOP_WEBHOOK_SECRET")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--timeout", type=float, default=0.0, help="share of requests left hanging")
    p.add_argument("--drop-connection", type=float, default=0.0)
    p.add_argument("--duplicate-webhooks", type=int, default=1)
    p.add_argument("--malformed-webhook-rate", type=float, default=0.0)
    p.add_argument("--webhook-retries", type=int, default=0, help="0 behaves like WooCommerce")
    return p


def _secret_file(args: argparse.Namespace, port: int, secret: str) -> Path:
    path: Path = args.secret_file or Path(tempfile.gettempdir()) / f"sandbox-webshop-{port}.secret"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    hook_secret = os.environ.get(args.webhook_secret_env, "")
    if args.webhook_url and not hook_secret:
        parser.error(f"--webhook-url needs the webhook secret in ${args.webhook_secret_env}")
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    url = f"http://{args.host}:{port}"
    generated = new_credentials()
    given_secret = os.environ.get(args.consumer_secret_env, "")
    credentials = Credentials(
        args.consumer_key or generated.consumer_key, given_secret or generated.consumer_secret
    )
    knobs = {
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "timeout": args.timeout,
        "drop_connection": args.drop_connection,
        "duplicate_webhooks": args.duplicate_webhooks,
        "malformed_webhook_rate": args.malformed_webhook_rate,
        "webhook_retries": args.webhook_retries,
    }
    api = make_webshop(
        url,
        seed=args.seed,
        credentials=credentials,
        knobs=knobs,
        webhooks=tuple((hook, hook_secret) for hook in args.webhook_url),
    )
    where = f"${args.consumer_secret_env}"
    if not given_secret:
        where = str(_secret_file(args, port, credentials.consumer_secret))
    print(
        f"sandbox web shop ready on {url}/wp-json/wc/v3/ "
        f"(consumer key {credentials.consumer_key}; consumer secret in {where})",
        flush=True,
    )
    try:
        serve_forever(api.asgi, sock)
    finally:
        api.dispatcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
