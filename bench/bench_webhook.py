"""Webhook intake benchmark: Tandem's receiver against a bare endpoint, in one run.

    python -m bench.bench_webhook [--duration 30] [--synchronous FULL|NORMAL|both] [--single]
                                  [--postgres]

Each target runs as its own process (one uvicorn worker) on loopback and is driven by
``wrk -t2 -c50 --latency -s bench/wrk_signed.lua``: 50 connections each sending distinct,
signed WooCommerce order webhooks (~3.1 KB). Targets:

- ``bare``: a Starlette endpoint that reads the body and answers 200 (verifies and stores
  nothing): the baseline.
- ``tandem-sqlite``: the real ``tandem serve --no-worker`` on a fresh SQLite hub (HMAC check,
  group-commit inbox writer, WAL + synchronous=FULL, the default).
- ``tandem-sqlite-normal`` (``--synchronous NORMAL`` or ``both``): the same with
  ``TANDEM_SQLITE_SYNCHRONOUS=NORMAL`` (a commit survives a crash of the process, not a power cut).
- ``single-sqlite`` (``--single``): the same receiver with one commit per request
  (``HubInboxSink``), for comparison.
- ``tandem-postgres`` (``--postgres``): ``tandem serve --no-worker`` on a fresh schema of the
  PostgreSQL at ``TANDEM_TEST_POSTGRES_URL`` (dropped afterwards).

For each Tandem target the inbox is counted against wrk's successful answers: every accepted
request must be stored exactly once, so ``ok <= rows <= ok + connections`` (requests in
flight when wrk stops are committed but not counted by wrk), every row is a distinct bench
body, and nothing else is stored. Prints one JSON document, then a summary with the ratios
and the goals (>= 0.35x the bare requests/s, p99 <= 15 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("wrk_signed.lua")
SECRET = "bench-webhook-secret"
PATH = "/webhooks/webshop"
THREADS, CONNECTIONS = 2, 50
RATIO_GOAL, P99_GOAL_MS = 0.35, 15.0
BODY_ID = re.compile(rb'\A\{"bench_id":(\d+),')
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- the bare baseline (served by a child process: uvicorn bench.bench_webhook:bare_app) ---


async def _bare(request: Request) -> Response:
    await request.body()
    return JSONResponse({"status": "accepted"})


bare_app = Starlette(routes=[Route(PATH, _bare, methods=["POST"])])


# --- the single-commit variant (child process: python -m bench.bench_webhook --serve-single) -


def serve_single(port: int) -> None:
    """Tandem's receiver with one commit per request, served like ``tandem serve`` does."""
    import uvicorn

    from connectors.webhooks.app import create_webhook_app
    from flows.intake import HubInboxSink
    from tandem.runtime import Runtime

    rt = Runtime()
    app = create_webhook_app(
        rt.webhook_sources(),
        HubInboxSink(rt.hub),
        max_body_bytes=rt.settings.webhook_max_body_bytes,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- driving a target ---------------------------------------------------------------------


@dataclass
class Result:
    target: str
    wrk: dict[str, Any]
    inbox: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return float(self.wrk["requests_per_s"])

    @property
    def p99_ms(self) -> float:
        return float(self.wrk["p99_us"]) / 1000.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Start a server process in its own session, wait until it answers, stop it after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(proc, url, log)
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start in 30 s:\n{log.read_text()}")


def run_wrk(url: str, duration: int, env: dict[str, str]) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(LUA),
        url + PATH,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            parsed: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return parsed
    raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")


def count_inbox(url: str, ok: int) -> dict[str, Any]:
    """Rows against answers: each accepted request stored once, nothing else stored."""
    engine = sa.create_engine(url)
    ids: set[int] = set()
    rows = foreign = 0
    try:
        with engine.connect() as conn:
            stmt = sa.text("SELECT substr(raw_body, 1, 40) FROM inbox")
            for (head,) in conn.execute(stmt):
                rows += 1
                match = BODY_ID.match(bytes(head))
                if match is None:
                    foreign += 1
                else:
                    ids.add(int(match.group(1)))
    finally:
        engine.dispose()
    exact = ok <= rows <= ok + CONNECTIONS and len(ids) == rows and foreign == 0
    return {
        "rows": rows,
        "distinct_bodies": len(ids),
        "foreign_rows": foreign,
        "ok_answers": ok,
        "in_flight_allowance": CONNECTIONS,
        "exactly_once": exact,
    }


# --- the targets --------------------------------------------------------------------------


def body_template(work: Path) -> dict[str, str]:
    """Write the body's prefix and suffix for the Lua script; the id goes between them."""
    from sandbox.webshop import make_order

    order = make_order(7, 1001)  # a realistic WooCommerce order, ~3 KB as sent
    order.pop("id", None)
    rest = json.dumps(order, separators=(",", ":"))
    prefix, suffix = work / "body.prefix", work / "body.suffix"
    prefix.write_text('{"bench_id":')
    suffix.write_text("," + rest[1:])
    return {
        "BENCH_WEBHOOK_SECRET": SECRET,
        "BENCH_BODY_PREFIX": str(prefix),
        "BENCH_BODY_SUFFIX": str(suffix),
    }


def bench_bare(work: Path, duration: int, wrk_env: dict[str, str]) -> Result:
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "bench.bench_webhook:bare_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with server(cmd, dict(os.environ), port, work / "bare.log") as url:
        return Result("bare", run_wrk(url, duration, wrk_env))


def tandem_env(work: Path, db_url: str, synchronous: str = "FULL") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    (work / "empty.toml").write_text("")
    env.update(
        TANDEM_HOME=str(work),
        TANDEM_DATABASE_URL=db_url,
        TANDEM_WEBSHOP_WEBHOOK_SECRET=SECRET,
        TANDEM_WEBSHOP_WEBHOOK_SCHEME="woocommerce",
        TANDEM_SETTINGS_FILE=str(work / "empty.toml"),
        TANDEM_SQLITE_SYNCHRONOUS=synchronous,
    )
    return env


def bench_tandem(
    target: str,
    db_url: str,
    work: Path,
    duration: int,
    wrk_env: dict[str, str],
    *,
    single: bool,
    synchronous: str = "FULL",
) -> Result:
    env = tandem_env(work, db_url, synchronous)
    tandem = str(Path(sys.executable).with_name("tandem"))
    subprocess.run([tandem, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    if single:
        cmd = [sys.executable, "-m", "bench.bench_webhook", "--serve-single", str(port)]
    else:
        cmd = [tandem, "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    with server(cmd, env, port, work / f"{target}.log") as url:
        result = Result(target, run_wrk(url, duration, wrk_env))
    result.inbox = count_inbox(db_url, int(result.wrk["ok"]))
    return result


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- report -------------------------------------------------------------------------------


def summary(results: list[Result]) -> str:
    base = results[0]
    lines = [
        f"{'target':<20} {'req/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'ok':>8} {'rows':>8}  check"
    ]
    for r in results:
        ratio = r.rps / base.rps if base.rps else 0.0
        rows = r.inbox.get("rows", "-")
        if r is base:
            verdict = "baseline"
        else:
            exact = "exactly once" if r.inbox["exactly_once"] else "COUNT MISMATCH"
            goals = ratio >= RATIO_GOAL and r.p99_ms <= P99_GOAL_MS
            verdict = f"{exact}; goals {'met' if goals else 'MISSED'}"
        lines.append(
            f"{r.target:<20} {r.rps:>9.0f} {ratio:>6.2f} {r.wrk['p50_us'] / 1000:>7.2f} "
            f"{r.p99_ms:>7.2f} {r.wrk['ok']:>8} {rows!s:>8}  {verdict}"
        )
    lines.append(
        f"goals: >= {RATIO_GOAL}x the bare req/s and p99 <= {P99_GOAL_MS:g} ms; "
        f"wrk -t{THREADS} -c{CONNECTIONS}, one uvicorn worker per target"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_webhook", description=__doc__)
    parser.add_argument("--duration", type=int, default=30, help="seconds per target")
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL", "both"),
        default="FULL",
        help="SQLite synchronous setting of the Tandem target(s) (default FULL)",
    )
    parser.add_argument("--single", action="store_true", help="also one commit per request")
    parser.add_argument("--postgres", action="store_true", help="also Tandem on PostgreSQL")
    parser.add_argument("--serve-single", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_single is not None:
        serve_single(args.serve_single)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        work = Path(tmp)
        wrk_env = {**os.environ, **body_template(work)}
        results = [bench_bare(work, args.duration, wrk_env)]
        for synchronous in ("FULL", "NORMAL"):
            if args.synchronous not in (synchronous, "both"):
                continue
            target = "tandem-sqlite" if synchronous == "FULL" else "tandem-sqlite-normal"
            url = f"sqlite:///{work / f'group-{synchronous.lower()}.sqlite'}"
            results.append(
                bench_tandem(
                    target, url, work, args.duration, wrk_env, single=False, synchronous=synchronous
                )
            )
        if args.single:
            single_url = f"sqlite:///{work / 'single.sqlite'}"
            results.append(
                bench_tandem("single-sqlite", single_url, work, args.duration, wrk_env, single=True)
            )
        if args.postgres:
            pg_base = os.environ.get("TANDEM_TEST_POSTGRES_URL", DEFAULT_PG)
            with postgres_schema(pg_base) as pg_url:
                results.append(
                    bench_tandem(
                        "tandem-postgres", pg_url, work, args.duration, wrk_env, single=False
                    )
                )
    print(json.dumps([asdict(r) for r in results], indent=2))
    print(summary(results))
    exact = all(r.inbox.get("exactly_once", True) for r in results)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
