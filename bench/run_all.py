"""Run every benchmark in bench/ and write bench/results/latest.json and latest.md.

    python -m bench.run_all [--full] [--only bulk,mapping] [--set "bulk=--records 50000"]
                            [--no-readme]

Quick mode (the default, ~10 minutes on 2 cores) runs the large benches at reduced size (the
1 GB files at 100 MB, 100,000 customers instead of 1,000,000); ``--full`` (``BENCH_FULL=1
make bench``) runs them at full size. Each bench runs as its own process; its JSON document
and its summary line are kept with the machine's description (CPU, cores, Python, database
versions, load average before and after: the machine may be shared). The markdown table
goes into README.md between the ``bench:start``/``bench:end`` markers.

The headline of every bench is a ratio against a baseline measured in the same run;
absolute numbers are context.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# name -> (quick args, full args); every bench prints one JSON document, then a summary
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "bulk": (["--records", "100000"], ["--records", "1000000"]),
    "mapping": (["--rounds", "3", "--seconds", "0.3"], []),
    "identity": (["--size", "2000"], []),
    "soap": (["--calls", "200"], []),
    "sftp": (["--mb", "50", "--rounds", "2"], []),
    "webhook": (["--duration", "10"], ["--postgres"]),
    "x12": (["--mb", "100", "--file", "/tmp/bench_846_100mb.x12"], ["--mb", "1000"]),
    "pdm": (["--products", "70000"], []),
    "customer_sync": ([], []),
    "airflow_latency": (["--orders", "5"], []),
}


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())  # fmt: skip
    versions: dict[str, str | None] = {}
    for package in ("sqlalchemy", "pydantic", "psycopg", "dlt"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "packages": versions,
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _postgres_version() -> str | None:
    try:
        from bench.bulk_support import database_version

        return database_version("postgresql").removeprefix("PostgreSQL ")
    except Exception as exc:  # not reachable: say so in the report
        return f"unavailable ({type(exc).__name__})"


def parse_output(stdout: str) -> tuple[Any, str]:
    """The bench's JSON document and what it printed after it (its summary)."""
    decoder = json.JSONDecoder()
    for start, char in enumerate(stdout):
        if char in "{[" and (start == 0 or stdout[start - 1] == "\n"):
            try:
                document, end = decoder.raw_decode(stdout, start)
            except json.JSONDecodeError:
                continue
            return document, stdout[end:].strip()
    return None, stdout.strip()


def run_bench(name: str, args: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", f"bench.bench_{name}", *args]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = round(time.perf_counter() - started, 1)
    document, summary = parse_output(proc.stdout)
    result: dict[str, Any] = {"command": " ".join(["python", "-m", f"bench.bench_{name}", *args]),
                              "seconds": seconds, "exit_code": proc.returncode,
                              "summary": summary, "result": document}  # fmt: skip
    if proc.returncode != 0:
        result["error"] = proc.stderr.strip().splitlines()[-5:]
    return result


def table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Run {report['started_at']} ({report['mode']} mode, {report['seconds']:.0f} s): "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m['postgresql']}; load average {report['load_before']} before, "
        f"{report['load_after']} after.",
        "",
        "| bench | arguments | headline (ratios against same-run baselines) | s |",
        "|---|---|---|---|",
    ]
    for name, r in report["benches"].items():
        if r["exit_code"] == 0:
            text = r["summary"].replace("\n", "<br>").replace("|", "\\|") or "see latest.json"
        else:
            text = "failed: " + " ".join(r.get("error") or ["(no output)"])[-200:]
        arguments = r["command"].split(f"bench.bench_{name}", 1)[-1].strip() or "(defaults)"
        lines.append(f"| {name} | `{arguments}` | {text} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def update_readme(markdown: str) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        return
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{markdown}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1")
    parser.add_argument("--only", help="comma-separated bench names (default: all)")
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=ARGS",
        help='arguments for one bench instead of its mode\'s, e.g. "bulk=--records 50000"',
    )
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHES)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "full" if args.full else "quick",
        "machine": machine(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "benches": {},
    }
    chosen = {name: list(BENCHES[name][1 if args.full else 0]) for name in names}
    for item in args.set:
        name, _, rest = item.partition("=")
        chosen[name] = rest.split()
    started = time.perf_counter()
    for name in names:
        print(f"bench {name} ...", file=sys.stderr, flush=True)
        report["benches"][name] = run_bench(name, chosen[name])
        print(f"  {report['benches'][name]['summary'][:300]}", file=sys.stderr, flush=True)
    report["seconds"] = time.perf_counter() - started
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    markdown = table(report)
    (RESULTS / "latest.md").write_text(markdown)
    if not args.no_readme:
        update_readme(markdown)
    print(markdown)
    return 0 if all(r["exit_code"] == 0 for r in report["benches"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
