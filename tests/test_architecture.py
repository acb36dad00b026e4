"""Imports point one way (canonical <- mappings/connectors/hub <- flows <- tandem/dags)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_canonical_imports_nothing_of_ours() -> None:
    code = (
        "import sys, canonical; "
        "ours = {'connectors','mappings','flows','hub','monitoring','tandem','sandbox','dags'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ours))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
