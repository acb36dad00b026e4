"""`make demo` (the main job on the embedded default) runs to the end and shows the slice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_delivers_every_order_once_and_replays_the_dead_letter(tmp_path: Path) -> None:
    env = {**os.environ, "TANDEM_DEMO_HOME": str(tmp_path / "demo"), "COLUMNS": "250"}
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert out.count("(1 order)") == 5  # five web orders, the duplicated one included, once each
    assert "HTTP 200, 200, 200" in out  # the duplicate deliveries were all acknowledged
    assert "web order 1100 is in the ERP 1 time(s)" in out
    assert "dead_letter" in out and "replay_requested" in out
    assert "body is not valid JSON" in out  # the truncated order is quarantined, not lost
    assert "demo-webhook-secret" not in out
    assert "demo-webhook-secret" not in (tmp_path / "demo" / "tandem-serve.log").read_text()
