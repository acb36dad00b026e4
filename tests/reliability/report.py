"""``make reliability``: run the reliability suites (long trials included) and print one table.

    python -m tests.reliability.report            # everything, slow trials too
    python -m tests.reliability.report --fast     # the default-run subset only
    python -m tests.reliability.report -- -k crash  # extra pytest arguments after --

Every test appends its figures (``tests.reliability.figures``); the table sums them per suite
with the measured duration of the whole run. The exit code is pytest's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.reliability.figures import ENV

COLUMNS = ("suite", "trials", "delivered", "dead_lettered", "quarantined", "lost", "duplicated")


def table(rows: list[dict[str, object]]) -> str:
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        into = totals.setdefault(str(row["suite"]), dict.fromkeys(COLUMNS[1:], 0))
        for name in COLUMNS[1:]:
            into[name] += int(row.get(name, 0))  # type: ignore[call-overload]
    lines = [[*COLUMNS]] + [
        [suite, *(str(v[c]) for c in COLUMNS[1:])] for suite, v in sorted(totals.items())
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(lines):
        out.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(line)
            )
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fast = "--fast" in args
    extra = args[args.index("--") + 1 :] if "--" in args else []
    with tempfile.TemporaryDirectory(prefix="tandem-reliability-") as tmp:
        figures = Path(tmp) / "figures.jsonl"
        env = dict(os.environ) | {ENV: str(figures), "TANDEM_RELIABILITY_LOGS": tmp}
        if not fast:
            env["TANDEM_RELIABILITY_SLOW"] = "1"
        started = time.monotonic()
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:logging",
             "--durations=10", *extra],
            env=env,
        )  # fmt: skip
        took = time.monotonic() - started
        rows = [json.loads(line) for line in figures.read_text().splitlines()] if (
            figures.exists()
        ) else []  # fmt: skip
    print()
    print(table(rows))
    print(f"\n{'fast subset' if fast else 'all suites'}: {took:.0f} s, pytest exit code {code}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
