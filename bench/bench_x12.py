"""X12 reader benchmark: a large generated 846 streamed through the reader, one run.

    python -m bench.bench_x12 [--mb 1000] [--file /tmp/bench_846.x12] [--keep]

Generates (once; reused when the file exists with the right size) an inventory advice file
of about ``--mb`` megabytes: one interchange, one group, transaction sets of 500 items each
(LIN with VN sku and EN gtin, QTY*17 on hand, QTY*33 available), one segment per line. Then,
each in a fresh child process so its peak resident memory (``VmHWM``) is its own:

- ``baseline``: read the file in 1 MiB chunks and split each by the segment terminator,
  no parsing at all: the floor any reader pays;
- ``reader``: ``X12Reader`` over the file: envelope checks, SE01/SE02/GE/IEA counts, every
  transaction set yielded;
- ``reader+846``: the same, plus the logistics connector's 846 parser making one inventory
  dict per LIN item (what the ``inventory`` stream hands on).

Each run reports wall-clock MB/s and MB/s per CPU second of the process: on a shared machine
the CPU figure is the one that does not depend on what else runs.

Prints one JSON document (MB/s, seconds, items, peak RSS per run, ratios to the baseline)
and a summary line. Goals: reader+846 >= 20 MB/s and <= 300 MB peak RSS on a 1 GB file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

GOAL_MBS = 20.0
GOAL_RSS_MB = 300.0
ITEMS_PER_SET = 500


def generate(path: Path, megabytes: int) -> int:
    """Write the 846 file; its size in bytes."""
    target = megabytes * 1_000_000
    isa = (
        "ISA*00*          *00*          *ZZ*NORTHWAY3PL    *ZZ*TANDEM         *261124*0615*U*"
        "00401*000000001*0*P*>~\n"
    )
    with path.open("w", encoding="ascii") as out:
        out.write(isa + "GS*IB*NORTHWAY3PL*TANDEM*20261124*0615*1*X*004010~\n")
        n = 0
        while out.tell() < target:
            n += 1
            lines = [
                f"ST*846*{n:04d}~",
                f"BIA*00*SI*INV{n:08d}*20261124*0615~",
                "DTM*007*20261124~",
            ]
            for i in range(ITEMS_PER_SET):
                lines.append(f"LIN**VN*SKU-{n:06d}-{i:03d}*EN*{n * 1000 + i:014d}~")
                lines.append(f"QTY*17*{(n + i) % 997}*EA~")
                lines.append(f"QTY*33*{(n + i) % 991}*EA~")
            lines.append(f"CTT*{ITEMS_PER_SET}~")
            lines.append(f"SE*{len(lines) + 1}*{n:04d}~")
            out.write("\n".join(lines) + "\n")
        out.write(f"GE*{n}*1~\nIEA*1*000000001~\n")
    return path.stat().st_size


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(kind: str, path: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    items = errors = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    if kind == "baseline":
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                items += len(chunk.split(b"~"))
    else:
        from connectors.formats.x12 import TransactionSet, X12Reader
        from connectors.logistics.x12_docs import parse_846

        with path.open("rb") as f:
            for item in X12Reader(f, path.name):
                if not isinstance(item, TransactionSet):
                    errors += 1
                elif kind == "reader":
                    items += 1
                else:
                    for _record in parse_846(item, "NORTHWAY3PL"):
                        items += 1
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    size = path.stat().st_size
    return {
        "kind": kind,
        "seconds": round(seconds, 3),
        "mb_s": round(size / 1e6 / seconds, 1),
        "cpu_seconds": round(cpu, 3),
        "mb_s_cpu": round(size / 1e6 / cpu, 1),
        "items": items,
        "errors": errors,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_child(kind: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_x12", "--child", kind, "--file", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1000)
    parser.add_argument("--file", type=Path, default=Path("/tmp/bench_846.x12"))
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--child", choices=("baseline", "reader", "reader+846"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.file)))
        return
    path: Path = args.file
    wanted = args.mb * 1_000_000
    if not path.exists() or not wanted <= path.stat().st_size < wanted + 2_000_000:
        started = time.perf_counter()
        generate(path, args.mb)
        print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    try:
        runs = [run_child(kind, path) for kind in ("baseline", "reader", "reader+846")]
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
    base = runs[0]["mb_s"]
    report = {
        "file_mb": round(wanted / 1e6),
        "runs": runs,
        "ratio_to_baseline": {r["kind"]: round(r["mb_s"] / base, 3) for r in runs[1:]},
        "cpu_ratio_to_baseline": {
            r["kind"]: round(r["mb_s_cpu"] / runs[0]["mb_s_cpu"], 3) for r in runs[1:]
        },
        "goals": {"mb_s": GOAL_MBS, "peak_rss_mb": GOAL_RSS_MB},
    }
    print(json.dumps(report, indent=2))
    full = runs[2]
    fast = max(full["mb_s"], full["mb_s_cpu"]) >= GOAL_MBS
    ok = fast and full["peak_rss_mb"] <= GOAL_RSS_MB and full["errors"] == 0
    print(
        f"reader+846: {full['mb_s']} MB/s wall, {full['mb_s_cpu']} MB/s per CPU second "
        f"({report['cpu_ratio_to_baseline']['reader+846']}x the split-only baseline of "
        f"{runs[0]['mb_s_cpu']}), peak RSS {full['peak_rss_mb']} MB, {full['items']} items: "
        f"{'goal met' if ok else 'GOAL MISSED'}"
    )


if __name__ == "__main__":
    main()
