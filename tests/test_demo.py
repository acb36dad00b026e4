"""`make demo-once`: the whole landscape, every flow once, a summary, exit 0, nothing left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.demo import ONCE, parse_counts
from tests.services import need_program

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(900)
def test_demo_once_runs_every_flow_and_stops_everything(tmp_path: Path) -> None:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    home = tmp_path / "demo"
    env = {**os.environ, "TANDEM_DEMO_HOME": str(home)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "sandbox.demo", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = demo.communicate(timeout=840)
    except subprocess.TimeoutExpired:
        demo.send_signal(signal.SIGTERM)  # the demo stops its landscape on SIGTERM
        out, _ = demo.communicate(timeout=60)
        pytest.fail(f"demo-once took longer than 14 minutes:\n{out}")
    assert demo.returncode == 0, out
    table = out.split("== every flow once", 1)[1]
    rows: dict[str, list[list[int]]] = {}
    for line in table.splitlines():
        cells = line.split()
        if cells and cells[0] in ONCE and len(cells) >= 7:
            rows.setdefault(cells[0], []).append([int(c) for c in cells[1:6]])
    assert set(rows) == set(ONCE), table
    assert len(rows["order-to-cash"]) == 2  # a second pass takes the 3PL's shipping advices
    catalog = rows["catalog"][0]
    assert catalog[0] > 0 and catalog[2] > 0  # the PDM catalogue was read and delivered
    first, second = rows["order-to-cash"]
    assert first[2] > 0 and second[0] > 0  # orders went out; advices and invoices came back
    assert rows["distributor-orders"][0][0] > 0 and rows["sell-through"][0][0] > 0
    assert "CRASHED" not in table
    assert "landscape down" in out and "still running" not in out
    secrets = [p.read_text().strip() for p in (home / "landscape" / "secrets").iterdir()]
    assert secrets and not [s for s in secrets if s in out]
    leftovers = subprocess.run(
        ["pgrep", "-f", str(home)], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == "", f"processes left: {leftovers.stdout}"


def test_the_summary_is_read_from_tandem_runs_table() -> None:
    table = """
                                   order-to-cash: summary
┏━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━┳━━━━━━┓
┃ read ┃ changed ┃ unchanged ┃ stale ┃ quarantined ┃ delivered ┃ skipped ┃ retrying ┃ dead ┃
┡━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━╇━━━━━━┩
│ 40   │ 26      │ 0         │ 0     │ 1           │ 39        │ 0       │ 0        │ 2    │
└──────┴─────────┴───────────┴───────┴─────────────┴───────────┴─────────┴──────────┴──────┘
"""
    counts = parse_counts(table)
    assert counts["read"] == 40 and counts["delivered"] == 39
    assert counts["quarantined"] == 1 and counts["dead"] == 2
    assert parse_counts(re.sub(r"│ 40 ", "│ ?? ", table)) == {}  # no numbers, no counts
