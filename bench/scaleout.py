"""A real scale-out run: the partitioned bulk customer load on Airflow with Celery workers.

    python -m bench.scaleout [--customers 200000] [--partitions 8] [--workers 1,2]

One Airflow cluster (``sandbox.airflow_celery``: api-server, scheduler, dag-processor, each its
own process; metadata on PostgreSQL, Redis as the Celery broker) runs the ``bulk-customers``
flow's DAG with its run mapped over ``--partitions`` parts (``TANDEM_PARTITIONS_BULK_CUSTOMERS``):
once per entry of ``--workers`` (the same load, a fresh hub database each, the workers started
for that phase and stopped after it). Each phase asserts that every part succeeded, that with
more than one worker the parts ran on more than one (the task instances' hostname, from the
REST API), and that the hub holds exactly ``--customers`` distinct records and xrefs (nothing
duplicated or lost). The load's throughput is the customers over the time from the first part
starting to the last one ending; the ratio is against the first phase of the same run.

Needs PostgreSQL (``--postgres``, trust auth) and Redis (``--redis``). Prints one JSON
document and a summary table; writes them to ``var/scaleout/result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sandbox.airflow_celery import CeleryAirflow

ROOT = Path(__file__).resolve().parents[1]
DAG = "tandem_bulk_customers"
TASK = "run_flow"


def recreate_database(server: str, name: str) -> str:
    """An empty database ``name`` on the PostgreSQL server; its SQLAlchemy URL (psycopg 3)."""
    engine = sa.create_engine(
        f"postgresql+psycopg://{server}/postgres", isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"postgresql+psycopg://{server}/{name}"


def hub_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    queries = {
        "records": "select count(*) from records where entity = 'customer'",
        "distinct_records": "select count(distinct id) from records where entity = 'customer'",
        "xrefs": "select count(*) from xref where system = 'webshop'",
        "distinct_xrefs": "select count(distinct external_id) from xref where system = 'webshop'",
        "distinct_xref_canonical": "select count(distinct canonical_id) from xref "
        "where system = 'webshop'",
    }
    with engine.connect() as conn:
        counts = {k: int(conn.execute(sa.text(q)).scalar_one()) for k, q in queries.items()}
    engine.dispose()
    return counts


def upgrade_hub(url: str, settings: Path) -> None:
    env = {**os.environ, "TANDEM_DATABASE_URL": url, "TANDEM_SETTINGS_FILE": str(settings)}
    tandem = str(Path(sys.executable).parent / "tandem")
    subprocess.run([tandem, "db", "upgrade"], env=env, check=True, capture_output=True)


def _when(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def wait_for_parts(
    cluster: CeleryAirflow, run_id: str, parts: int, timeout: float
) -> list[dict[str, Any]]:
    """The run's ``run_flow`` task instances once all are finished (or one failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tis = [t for t in cluster.task_instances(DAG, run_id) if t["task_id"] == TASK]
        states = [t["state"] for t in tis]
        if len(tis) == parts and all(s in ("success", "failed", "upstream_failed") for s in states):
            return tis
        if "failed" in states and all(s != "running" for s in states):
            return tis
        time.sleep(2)
    raise TimeoutError(f"{DAG} run {run_id}: parts not finished after {timeout:.0f}s")


def phase(
    cluster: CeleryAirflow, args: argparse.Namespace, shape: str, settings: Path
) -> dict[str, Any]:
    """One load with ``shape`` workers: ``N`` (N workers of the cluster's concurrency) or
    ``NxC`` (N workers of C slots each)."""
    count, _, slots = shape.partition("x")
    workers, concurrency = int(count), int(slots or cluster.concurrency)
    hub_url = recreate_database(args.postgres, args.hub_db)
    upgrade_hub(hub_url, settings)
    env = {"TANDEM_DATABASE_URL": hub_url, "TANDEM_SETTINGS_FILE": str(settings)}
    names = [f"worker{i + 1}" for i in range(workers)]
    for name in names:
        cluster.add_worker(name, env, concurrency)
    time.sleep(args.worker_warmup)  # the workers connect to the broker
    started = time.time()
    run_id = cluster.trigger(DAG)
    try:
        tis = wait_for_parts(cluster, run_id, args.partitions, args.timeout)
        wall = time.time() - started
    finally:
        # the load is what is measured: the run's deliveries (to a CRM and ERP that this
        # benchmark does not start) are not run
        cluster.set_run_state(DAG, run_id, "failed")
        for name in names:
            cluster.stop_process(name)
    failed = [t["map_index"] for t in tis if t["state"] != "success"]
    if failed:
        raise AssertionError(f"{workers} worker(s): parts {failed} did not succeed")
    first = min(_when(t["start_date"]) for t in tis)
    last = max(_when(t["end_date"]) for t in tis)
    by_host: dict[str, int] = {}
    for t in tis:
        by_host[t["hostname"]] = by_host.get(t["hostname"], 0) + 1
    counts = hub_counts(hub_url)
    expected = args.customers
    for key in ("records", "distinct_records", "xrefs", "distinct_xrefs"):
        if counts[key] != expected:
            raise AssertionError(f"{workers} worker(s): {key} = {counts[key]}, not {expected}")
    if workers > 1 and len(by_host) < 2:
        raise AssertionError(f"{workers} workers but all parts ran on {sorted(by_host)}")
    load_s = last - first
    return {
        "workers": workers,
        "slots_per_worker": concurrency,
        "run_id": run_id,
        "parts_by_worker": dict(sorted(by_host.items())),
        "hub": counts,
        "load_s": round(load_s, 2),
        "trigger_to_done_s": round(wall, 2),
        "customers_per_s": round(expected / load_s),
        "task_s_sum": round(sum(_when(t["end_date"]) - _when(t["start_date"]) for t in tis), 1),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", type=int, default=200_000)
    p.add_argument("--partitions", type=int, default=8)
    p.add_argument(
        "--workers", default="1,2", help="one phase each: N workers, or NxC (C slots each)"
    )
    p.add_argument("--postgres", default="postgres@127.0.0.1:5432", help="user@host:port")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--airflow-db", default="tandem_airflow")
    p.add_argument("--hub-db", default="tandem_hub_scaleout")
    p.add_argument("--home", type=Path, default=ROOT / "var" / "scaleout")
    p.add_argument("--timeout", type=float, default=1800.0, help="per phase")
    p.add_argument("--worker-warmup", type=float, default=8.0)
    args = p.parse_args(argv)

    args.home.mkdir(parents=True, exist_ok=True)
    settings = args.home / "tandem.toml"
    settings.write_text("")
    metadata = recreate_database(args.postgres, args.airflow_db).replace("+psycopg", "+psycopg2")
    env = {
        "TANDEM_PARTITIONS_BULK_CUSTOMERS": str(args.partitions),
        "TANDEM_BULK_SOURCE": f"generated:{args.customers}",
        "TANDEM_SCHEDULE_BULK_CUSTOMERS": "none",
    }
    cluster = CeleryAirflow(args.home / "airflow", metadata, args.redis, env=env)
    started = time.monotonic()
    phases = []
    with cluster:
        up_s = time.monotonic() - started
        cluster.wait_for_dag(DAG)
        cluster.unpause(DAG)
        for shape in args.workers.split(","):
            phases.append(phase(cluster, args, shape.strip(), settings))
    base = phases[0]["customers_per_s"]
    for result in phases:
        result["ratio_vs_first"] = round(result["customers_per_s"] / base, 2)
    report = {
        "customers": args.customers,
        "partitions": args.partitions,
        "parallelism": cluster.parallelism,
        "worker_concurrency": cluster.concurrency,
        "cores": os.cpu_count(),
        "cluster_up_s": round(up_s, 1),
        "total_s": round(time.monotonic() - started, 1),
        "phases": phases,
    }
    text = json.dumps(report, indent=2)
    (args.home / "result.json").write_text(text + "\n")
    print(text)
    print("\n| workers | slots each | parts by worker | load s | customers/s | ratio |")
    print("|---|---|---|---|---|---|")
    for r in phases:
        cells = ("workers", "slots_per_worker", "parts_by_worker", "load_s", "customers_per_s",
                 "ratio_vs_first")  # fmt: skip
        print("| " + " | ".join(str(r[c]) for c in cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
