"""`make demo` / `make demo-once`: Tandem on Airflow over the whole sandbox landscape.

``python -m sandbox.demo`` starts the landscape (NAV-style SOAP ERP, web shop, CRM, a real
OpenSSH sshd with the 3PL, distributors and PDM working in its SFTP area; Tryton too with
``--tryton``), upgrades the hub, starts ``airflow standalone`` (SQLite, LocalExecutor, low
parallelism, examples off) with every connection and demo schedules, unpauses Tandem's DAGs,
generates traffic (signed web orders from the shop to the receiver inside Airflow, a service
request, the PDM catalogue, 3PL advices, distributors' reports and orders), prints the UI
address and login and waits. Ctrl+C or SIGTERM stops Airflow (SIGTERM to its process group)
and the landscape, and exits 0.

``python -m sandbox.demo --once`` (``make demo-once``, for CI) starts the same landscape without
Airflow, runs every flow once in dependency order through ``tandem run``, prints a summary
table and exits 0 (1 when a flow crashed). It uses only the ``tandem`` command line and the
peers' own protocols: nothing of the product is imported here.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from sandbox import demo_traffic as traffic
from sandbox.airflow_standalone import StandaloneAirflow
from sandbox.landscape import down, up

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# run order: products first, then customers, orders, stock, distributors, service; the second
# order-to-cash pass takes the 3PL's shipping advices to the 940s the first one sent
ONCE = (
    "catalog",
    "customer-sync",
    "leads",
    "webshop-orders",
    "order-to-cash",
    "inventory",
    "distributor-orders",
    "sell-through",
    "service",
    "bulk-customers",
    "order-to-cash",
    "deliver",
)
COLUMNS = ("read", "changed", "delivered", "quarantined", "dead")
DEMO_SCHEDULES = {
    "WEBSHOP_ORDERS": "* * * * *",
    "ORDER_TO_CASH": "*/2 * * * *",
    "SERVICE": "*/2 * * * *",
    "DELIVER": "*/2 * * * *",
    "CATALOG": "*/5 * * * *",
    "INVENTORY": "*/5 * * * *",
    "CUSTOMER_SYNC": "*/5 * * * *",
    "LEADS": "*/5 * * * *",
    "DISTRIBUTOR_ORDERS": "*/5 * * * *",
    "SELL_THROUGH": "*/10 * * * *",
    "BULK_CUSTOMERS": "@daily",
}


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


class Stop(Exception):
    """SIGTERM or Ctrl+C: stop everything cleanly."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


@dataclass
class Result:
    flow: str
    returncode: int
    seconds: float
    counts: dict[str, int]
    output: str

    @property
    def crashed(self) -> bool:
        return self.returncode not in (0, 3)  # 3: ran, with dead letters or quarantined input


def parse_counts(output: str) -> dict[str, int]:
    """The counts of `tandem run`'s summary table (header row, then the row of numbers)."""
    rows = [
        [cell.strip() for cell in re.split(r"[│┃]", line)[1:-1]]
        for line in output.splitlines()
        if line.lstrip().startswith(("│", "┃"))
    ]
    for header, values in itertools.pairwise(rows):
        if "read" in header and all(v.isdigit() for v in values) and len(values) == len(header):
            return {name: int(value) for name, value in zip(header, values, strict=True)}
    return {}


def tandem(
    env: dict[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tandem"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_flow(env: dict[str, str], flow: str) -> Result:
    started = time.monotonic()
    try:
        done = tandem(env, "run", flow)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, output = -1, f"timed out after {exc.timeout:.0f} s"
    seconds = time.monotonic() - started
    return Result(flow, code, seconds, parse_counts(output), output)


def summary_table(results: list[Result]) -> str:
    head = f"{'flow':<20}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'seconds':>9}  result"
    lines = [head, "-" * len(head)]
    for r in results:
        status = "CRASHED" if r.crashed else ("ok" if r.returncode == 0 else "ok, see dead/quar.")
        cells = "".join(f"{r.counts.get(c, 0):>12}" for c in COLUMNS)
        lines.append(f"{r.flow:<20}{cells}{r.seconds:>9.1f}  {status}")
    return "\n".join(lines)


def environment(home: Path, landscape_env: dict[str, str]) -> dict[str, str]:
    """The settings every Tandem process of the demo gets (CLI and Airflow's workers)."""
    settings = home / "tandem.toml"
    settings.write_text("# the demo passes its settings as TANDEM_* variables\n")
    secret = landscape_env["TANDEM_WEBSHOP_WEBHOOK_SECRET"]
    service_source = {"webshop-service": {"scheme": "woocommerce", "secret": secret}}
    return {
        **os.environ,
        **landscape_env,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TANDEM_HOME": str(home),
        "TANDEM_SETTINGS_FILE": str(settings),
        "TANDEM_DATABASE_URL": f"sqlite:///{home / 'tandem.sqlite'}",
        "TANDEM_WEBHOOK_SOURCES": json.dumps(service_source),
        "TANDEM_SELL_THROUGH_EXPORT_DIR": str(home / "planning"),
        "TANDEM_DISTRIBUTOR_ACCOUNTS": traffic.distributor_accounts(landscape_env),
        "TANDEM_RETRY_MAX_ATTEMPTS": "3",
        "TANDEM_RETRY_BASE_DELAY": "0.5",
        "TANDEM_RETRY_MAX_DELAY": "5",
        "COLUMNS": "200",
    }


def run_once(env: dict[str, str]) -> int:
    say("traffic: paid orders at the shop's checkout")
    print("  web orders", ", ".join(traffic.place_orders(env, 3)))
    results: list[Result] = []
    for flow in ONCE:
        if flow == "order-to-cash" and any(r.flow == flow for r in results):
            time.sleep(2)  # the 3PL ships a second after our 940s: its 945s are due now
        print(f"  tandem run {flow} ...", end=" ", flush=True)
        result = run_flow(env, flow)
        results.append(result)
        print(f"{result.seconds:.1f} s" + ("  CRASHED" if result.crashed else ""), flush=True)
        if result.crashed:
            print(result.output[-3000:], file=sys.stderr)
    say("every flow once")
    print(summary_table(results))
    crashed = [r.flow for r in results if r.crashed]
    if crashed:
        print(f"\nflows that crashed: {', '.join(crashed)}", file=sys.stderr)
    return 1 if crashed else 0


def _retrying(call: Callable[[], object], what: str, attempts: int = 4) -> None:
    for attempt in range(1, attempts + 1):
        try:
            call()
            return
        except httpx.HTTPError as exc:
            if attempt == attempts:
                print(f"  {what}: {type(exc).__name__} {exc} (carrying on)", file=sys.stderr)
            time.sleep(2)


def run_airflow(env: dict[str, str], home: Path, port: int, password: str | None) -> int:
    airflow_env = {k: v for k, v in env.items() if k.startswith(("TANDEM_", "AIRFLOW_CONN_"))}
    airflow_env |= {f"TANDEM_SCHEDULE_{k}": v for k, v in DEMO_SCHEDULES.items()}
    # Tandem's DAGs start unpaused (the unpause calls below only confirm it: on a busy machine
    # the API's SQLite may answer slowly)
    airflow_env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "False"
    airflow = StandaloneAirflow(home / "airflow", env=airflow_env, port=port, password=password)
    airflow_env |= {
        "TANDEM_AIRFLOW_API_URL": airflow.url,
        "TANDEM_AIRFLOW_PASSWORD": airflow.password,
    }
    airflow.extra_env = airflow_env
    say(f"starting airflow standalone on {airflow.url} (logs in {airflow.home})")
    try:
        airflow.start()
        dags = [f"tandem_{flow.lower()}" for flow in DEMO_SCHEDULES]
        for dag in dags:
            airflow.wait_for_dag(dag, timeout=300)
            _retrying(functools.partial(airflow.unpause, dag), f"unpause {dag}")
        print(f"  unpaused {len(dags)} DAGs: {', '.join(dags)}")
        say("traffic: orders at the shop's checkout (signed webhooks to the receiver in Airflow)")
        traffic.subscribe_webhooks(env, f"{airflow.url}/tandem/webhooks")
        print("  web orders", ", ".join(traffic.place_orders(env, 5)))
        traffic.request_service(env)
        print("  a service request from the shop's form; PDM catalogue, 3PL advices and")
        print("  distributors' reports arrive in the partners' SFTP folders")
        say("the demo is running")
        print(f"  Airflow UI  {airflow.url}   login: admin / {airflow.password}")
        print(f"  hub         {env['TANDEM_DATABASE_URL']}")
        print("  try         TANDEM_* settings: " + str(home / "landscape" / "connections.env"))
        print("  stop        Ctrl+C (or SIGTERM)", flush=True)
        while True:
            time.sleep(1)
            if airflow.process is not None and airflow.process.poll() is not None:
                print("airflow standalone exited; see its log", file=sys.stderr)
                return 1
    except Stop as why:
        say(f"{why}: stopping Airflow and the landscape")
        return 0
    finally:
        airflow.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo", description=__doc__)
    parser.add_argument("--once", action="store_true", help="run every flow once and exit")
    parser.add_argument("--tryton", action="store_true", help="also start the Tryton ERP")
    parser.add_argument("--port", type=int, default=0, help="Airflow's port (default: free)")
    parser.add_argument("--password", help="Airflow's admin password (default: generated)")
    args = parser.parse_args(argv)
    home = Path(os.environ.get("TANDEM_DEMO_HOME", ROOT / "var" / "demo")).resolve()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.chdir(home)  # relative defaults (X12 control numbers) land in the demo's folder
    # a small seeded history: first runs take seconds, not minutes
    os.environ.setdefault("SANDBOX_SEED_SCALE", os.environ.get("DEMO_SEED_SCALE", "0.05"))
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    landscape_dir = home / "landscape"
    code = 1
    try:
        say("starting the sandbox landscape" + (" with Tryton" if args.tryton else ""))
        landscape = up(landscape_dir, tryton=args.tryton)
        for peer in landscape.peers:
            print(f"  {peer.name:<14} {peer.url}")
        traffic.quick_partners(landscape_dir)
        env = environment(home, landscape.env)
        say("hub schema")
        upgraded = tandem(env, "db", "upgrade")
        print((upgraded.stdout + upgraded.stderr).strip())
        if upgraded.returncode != 0:
            return 1
        once = args.once
        code = run_once(env) if once else run_airflow(env, home, args.port, args.password)
    except Stop as why:
        say(f"{why}: stopping")
        code = 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        left = down(landscape_dir)
        print("landscape down" + (f"; still running: {', '.join(left)}" if left else ""))
    say(f"done; the hub is {home / 'tandem.sqlite'}, logs in {home}")
    return code


if __name__ == "__main__":
    sys.exit(main())
