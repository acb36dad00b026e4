"""PDM benchmark: a ~1 GB BMEcat 2005 catalogue through the connector vs a bare lxml parse.

    python -m bench.bench_pdm [--products 700000] [--cache DIR] [--rounds 1] [--workers N]

The catalogue is written once by the sandbox PDM (``python -m sandbox.pdm --products N``)
into the cache directory (default ``$TANDEM_BENCH_CACHE`` or ``~/.cache/tandem-bench``) and
reused by later runs. Each case runs in a child process of its own, so its peak RSS
(``VmHWM`` from /proc/self/status) is its alone:

- ``lxml``: ``etree.iterparse`` over the file with ``tag="{*}PRODUCT"``, counting products,
  clearing each element and dropping read siblings (the floor for a streaming parse);
- ``connector``: ``PdmConnector`` on the cache folder (folder source, no settle wait,
  ``workers`` parse processes: the setting's default ``min(2, cpu count)`` unless
  ``--workers`` says), reading the ``products`` stream page by page from no cursor, counting
  records: the whole reader (hardened prolog, products parsed into plain dicts, checks,
  pages with cursors).

Prints one JSON document (MB/s by wall clock and by CPU time, peak RSS MB, products, seconds
per case, the ratios of the connector to lxml, the load average: on a shared machine the
CPU-time figures are the steadier ones) and a summary line. With workers, the CPU time is
that of all processes (the reader's and its ended children's), ``busiest_process_cpu_mb_s``
the speed the busiest process alone would allow, ``worker_peak_rss_mb`` the largest
``VmHWM`` of a worker (sampled twice a second) and ``total_peak_rss_mb`` the reader's peak
plus that for each worker (an upper bound of all processes together).
Goals: peak RSS <= 300 MB and >= 20 MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

GOAL_MB_S = 20.0
GOAL_RSS_MB = 300.0


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_lxml(path: Path) -> int:
    from lxml import etree

    count = 0
    for _event, element in etree.iterparse(
        str(path), events=("end",), tag="{*}PRODUCT", resolve_entities=False, no_network=True
    ):
        count += 1
        element.clear()
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]
    return count


def run_connector(path: Path, workers: int | None) -> int:
    from connectors.pdm import PdmConnector, PdmSettings

    chosen = {} if workers is None else {"workers": workers}
    settings = PdmSettings(folder=path.parent, pattern=path.name, settle_seconds=0, **chosen)
    count = 0
    quarantined = 0
    with PdmConnector(settings) as connector:
        for page in connector.read("products", None):
            count += len(page.records)
            quarantined += len(page.quarantined)
    if quarantined:
        raise SystemExit(f"{quarantined} product(s) quarantined in a valid catalogue")
    return count


def children_cpu() -> float:
    """CPU seconds of the ended child processes (the connector's parse workers)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ChildrenPeak:
    """Samples the peak RSS (``VmHWM``) of this process's children twice a second (Linux
    ``ru_maxrss`` of a child includes its parent's RSS at fork time, so it would overstate)."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        me = os.getpid()
        while not self.stop.wait(0.5):
            try:
                kids = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            except OSError:
                return
            for kid in kids:
                try:
                    status = Path(f"/proc/{kid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[int(kid)] = int(line.split()[1]) / 1024

    def largest(self) -> float:
        self.stop.set()
        self.thread.join()
        return max(self.peaks.values(), default=0.0)


def child(case: str, path: Path, workers: int | None) -> None:
    sampler = ChildrenPeak()
    started, cpu_started = time.perf_counter(), time.process_time()
    count = run_lxml(path) if case == "lxml" else run_connector(path, workers)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    workers_cpu, workers_rss = children_cpu(), sampler.largest()
    result = {
        "products": count,
        "seconds": seconds,
        "cpu_seconds": cpu + workers_cpu,
        "main_cpu_seconds": cpu,
        "workers_cpu_seconds": workers_cpu,
        "peak_rss_mb": peak_rss_mb(),
        "worker_peak_rss_mb": workers_rss,
    }
    print(json.dumps(result))


def catalogue(cache: Path, products: int) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"bmecat2005_{products}.xml"
    if not path.exists():
        part = path.with_name(path.name + ".part")
        print(f"writing {path} ({products} products) once ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "sandbox.pdm", "--products", str(products), "--out", str(part)],
            check=True,
        )
        part.replace(path)
    return path


def measure(case: str, path: Path, workers: int | None) -> dict[str, Any]:
    chosen = [] if workers is None else ["--workers", str(workers)]
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_pdm", "--child", case, "--file", str(path), *chosen],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["mb_s"] = path.stat().st_size / 1e6 / result["seconds"]
    result["cpu_mb_s"] = path.stat().st_size / 1e6 / result["cpu_seconds"]
    # the busiest process bounds the speed on an idle machine with a core per process
    busiest = max(result["main_cpu_seconds"], result["workers_cpu_seconds"] / (workers or 1))
    result["busiest_cpu_mb_s"] = path.stat().st_size / 1e6 / busiest
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_pdm", description=__doc__)
    parser.add_argument("--products", type=int, default=700_000)
    default_cache = os.environ.get("TANDEM_BENCH_CACHE") or Path.home() / ".cache/tandem-bench"
    parser.add_argument("--cache", type=Path, default=Path(default_cache))
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per case")
    parser.add_argument(
        "--workers",
        type=int,
        help="the connector's parse processes (default: its setting, min(2, cpu count))",
    )
    parser.add_argument("--child", choices=("lxml", "connector"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.file, args.workers)
        return 0
    path = catalogue(args.cache, args.products)
    runs: dict[str, list[dict[str, Any]]] = {"lxml": [], "connector": []}
    workers = args.workers if args.workers is not None else min(2, os.cpu_count() or 1)
    for _ in range(args.rounds):
        for case, results in runs.items():
            results.append(measure(case, path, workers if case == "connector" else None))
    best = {case: max(results, key=lambda r: r["mb_s"]) for case, results in runs.items()}
    report = {
        "file": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 1),
        "cases": {
            case: {
                "products": r["products"],
                "seconds": round(r["seconds"], 2),
                "mb_s": round(r["mb_s"], 1),
                "cpu_seconds": round(r["cpu_seconds"], 2),
                "cpu_mb_s": round(r["cpu_mb_s"], 1),
                "main_cpu_seconds": round(r["main_cpu_seconds"], 2),
                "workers_cpu_seconds": round(r["workers_cpu_seconds"], 2),
                "busiest_process_cpu_mb_s": round(r["busiest_cpu_mb_s"], 1),
                "peak_rss_mb": round(r["peak_rss_mb"], 1),
                "worker_peak_rss_mb": round(r["worker_peak_rss_mb"], 1),
                # upper bound of all processes together: main + each worker at the largest peak
                "total_peak_rss_mb": round(
                    r["peak_rss_mb"] + r["worker_peak_rss_mb"] * (workers if case != "lxml" else 0),
                    1,
                ),
            }
            for case, r in best.items()
        },
        "workers": workers,
        "connector_vs_lxml_speed": round(best["connector"]["mb_s"] / best["lxml"]["mb_s"], 2),
        "connector_vs_lxml_cpu": round(best["connector"]["cpu_mb_s"] / best["lxml"]["cpu_mb_s"], 2),
        "load_average": os.getloadavg(),
        "goals": {"mb_s": GOAL_MB_S, "peak_rss_mb": GOAL_RSS_MB},
    }
    print(json.dumps(report, indent=2))
    conn = report["cases"]["connector"]
    rss = conn["total_peak_rss_mb"]
    verdict = "met" if conn["mb_s"] >= GOAL_MB_S and rss <= GOAL_RSS_MB else "NOT met"
    print(
        f"pdm connector ({workers} worker(s)): {conn['mb_s']:.1f} MB/s, peak RSS {rss:.0f} MB "
        f"in all ({report['connector_vs_lxml_speed']}x bare lxml at "
        f"{best['lxml']['mb_s']:.1f} MB/s; CPU time of all processes: {conn['cpu_mb_s']:.1f} "
        f"MB/s, {report['connector_vs_lxml_cpu']}x; busiest process "
        f"{conn['busiest_process_cpu_mb_s']:.1f} MB/s of CPU); goals {GOAL_MB_S:.0f} MB/s and "
        f"{GOAL_RSS_MB:.0f} MB: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
