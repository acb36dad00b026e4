"""Bulk and incremental customer sync against same-run baselines, on SQLite and PostgreSQL.

    python -m bench.bench_bulk [--records 100000] [--small-hub 10000] [--changes 1000]
                               [--db sqlite,postgresql] [--no-dlt] [--batch 2000]

Generated, realistic web shop customers (``flows.bulk_customers.generated``: names,
addresses, e-mails, ~2% duplicate persons, ~1% records read twice) go through the product's
bulk path (read -> mapping -> validation -> hub upsert with xref and 2 delivery rows each,
``hub.bulk.BulkLoader``). Each case runs in a child process of its own, so its peak RSS
(``ru_maxrss``) is its alone. Per database:

- P1 ``tandem``: ``--records`` customers into an empty hub (records/s, peak RSS);
- ``raw``: the rows that load wrote (inbox, records, xref, deliveries, events), read back
  untimed and inserted into another empty hub with SQLAlchemy Core executemany: the
  practical limit. Goal: tandem >= 0.5x raw;
- ``dlt``: dlt loading the same customers (generated, mapped and validated the same way)
  with ``merge`` on the primary key into the same database. Goal: tandem >= 4x dlt;
- P2 ``incremental``: ``--changes`` changed customers (spread over the hub) synced into the
  hub of ``--small-hub`` customers and into the P1 hub (``--records``): median seconds of 3
  rounds each. Goal: time ratio big/small <= 1.5. Then the no-change runs: the same records
  again, and records with new change stamps but the same content: no delivery rows at all.

Prints one JSON document and a summary line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import bulk_support
from flows import bulk_customers
from hub.schema import Delivery
from hub.store import Hub

TARGETS = ("crm", "erp_soap")
GOALS = {"vs_raw": 0.5, "vs_dlt": 4.0, "incremental_ratio": 1.5}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def deliveries(hub: Hub) -> int:
    with hub.begin() as hs:
        return int(hs.session.scalar(select(func.count()).select_from(Delivery)) or 0)


def child_tandem(url: str, records: int, batch: int) -> dict[str, Any]:
    hub = Hub(url, sqlite_synchronous="NORMAL")
    started = time.perf_counter()
    counts = bulk_customers.load(
        hub, bulk_customers.generated(range(1, records + 1)), TARGETS, batch=batch
    )
    seconds = time.perf_counter() - started
    hub.close()
    return {"seconds": seconds, "records_per_s": records / seconds, "counts": counts.as_dict(),
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def child_incremental(url: str, hub_size: int, changes: int, batch: int) -> dict[str, Any]:
    """Rounds of ``changes`` changed customers, then the two no-change runs."""
    hub = Hub(url, sqlite_synchronous="NORMAL")
    rng = random.Random(hub_size)
    rounds: list[float] = []
    ids: list[int] = []
    for revision in (1, 2, 3):
        ids = sorted(rng.sample(range(1, hub_size + 1), changes))
        started = time.perf_counter()
        counts = bulk_customers.load(
            hub, bulk_customers.generated(ids, revision=revision), TARGETS, batch=batch
        )
        rounds.append(time.perf_counter() - started)
        if counts.changed != changes:
            raise SystemExit(f"round {revision}: {counts.changed} changed, not {changes}")
    before = deliveries(hub)
    again = bulk_customers.load(hub, bulk_customers.generated(ids, revision=3), TARGETS)
    restamped = bulk_customers.load(
        hub, bulk_customers.generated(ids, revision=3, restamp=1), TARGETS
    )
    after = deliveries(hub)
    hub.close()
    return {
        "hub_size": hub_size,
        "round_seconds": rounds,
        "median_seconds": statistics.median(rounds),
        "no_change_again": again.as_dict(),
        "no_change_restamped": restamped.as_dict(),
        "delivery_rows_added_by_no_change_runs": after - before,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_bulk", "--child", *args],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"bench child {' '.join(args[:2])} failed ({out.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_db(db: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    batch = str(args.batch)
    big = bulk_support.hub_url(db, "big", folder)
    tandem = run_child("tandem", big, str(args.records), batch)
    raw_url = bulk_support.hub_url(db, "raw", folder)
    raw = bulk_support.raw_copy(big, raw_url)
    raw["records_per_s"] = args.records / raw["seconds"]
    result: dict[str, Any] = {"database": bulk_support.database_version(db), "tandem": tandem,
                              "raw": raw}  # fmt: skip
    result["vs_raw"] = tandem["records_per_s"] / raw["records_per_s"]
    if not args.no_dlt:
        dlt = run_child("dlt", db, str(folder), str(args.records), batch)
        dlt["records_per_s"] = args.records / dlt["seconds"]
        result["dlt"] = dlt
        result["vs_dlt"] = tandem["records_per_s"] / dlt["records_per_s"]
    small = bulk_support.hub_url(db, "small", folder)
    result["small_load"] = run_child("tandem", small, str(args.small_hub), batch)
    changes = str(args.changes)
    small_inc = run_child("incremental", small, str(args.small_hub), changes, batch)
    big_inc = run_child("incremental", big, str(args.records), changes, batch)
    ratio = big_inc["median_seconds"] / small_inc["median_seconds"]
    result["incremental"] = {"small": small_inc, "big": big_inc, "ratio": ratio}
    for name in ("big", "raw", "small", "dlt"):
        bulk_support.drop(db, name)
    return result


def child(args: list[str]) -> dict[str, Any]:
    case, rest = args[0], args[1:]
    if case == "tandem":
        return child_tandem(rest[0], int(rest[1]), int(rest[2]))
    if case == "incremental":
        return child_incremental(rest[0], int(rest[1]), int(rest[2]), int(rest[3]))
    if case == "dlt":
        found = bulk_support.dlt_load(rest[0], "dlt", Path(rest[1]), int(rest[2]), int(rest[3]))
        return found | {"peak_rss_mb": peak_rss_mb()}
    raise SystemExit(f"unknown case {case}")


def summary(report: dict[str, Any]) -> str:
    lines = []
    for db, r in report["databases"].items():
        line = (f"{db}: tandem {r['tandem']['records_per_s']:,.0f}/s = {r['vs_raw']:.2f}x raw "
                f"({r['raw']['records_per_s']:,.0f}/s)")  # fmt: skip
        if "vs_dlt" in r:
            line += f", {r['vs_dlt']:.1f}x dlt ({r['dlt']['records_per_s']:,.0f}/s)"
        inc = r["incremental"]
        line += (f"; incremental {inc['big']['median_seconds']:.3f}s vs "
                 f"{inc['small']['median_seconds']:.3f}s = {inc['ratio']:.2f}; no-change delivery "
                 f"rows {inc['big']['delivery_rows_added_by_no_change_runs']}; peak RSS "
                 f"{r['tandem']['peak_rss_mb']} MB")  # fmt: skip
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--small-hub", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=bulk_customers.BATCH)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--no-dlt", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    report: dict[str, Any] = {"records": args.records, "small_hub": args.small_hub,
                              "changes": args.changes, "batch": args.batch, "goals": GOALS,
                              "databases": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_bulk_") as tmp:
        for db in args.db.split(","):
            report["databases"][db] = bench_db(db, args, Path(tmp))
            print(json.dumps({db: report["databases"][db]}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))
    print(summary(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
