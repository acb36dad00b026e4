"""The reliability suites: a fast subset by default, the long trials with ``-m slow`` (or
``TANDEM_RELIABILITY_SLOW=1``, which ``make reliability`` sets).

Every log line the suites write (in this process and in the flow subprocesses) goes to one
folder, which ``test_security`` scans for the configured secrets.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SLOW_ENV = "TANDEM_RELIABILITY_SLOW"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(SLOW_ENV) == "1" or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason=f"long trial: run with -m slow or {SLOW_ENV}=1")
    for item in items:
        if item.get_closest_marker("slow") and HERE in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(os.environ.get("TANDEM_RELIABILITY_LOGS") or tmp_path_factory.mktemp("rel-logs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def _log_everything(log_dir: Path) -> Iterator[None]:
    handler = logging.FileHandler(log_dir / "in-process.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(min(before, logging.INFO) if before else logging.INFO)
    yield
    root.removeHandler(handler)
    root.setLevel(before)
    handler.close()


SECRETS_FILE = "configured-secrets.txt"  # not *.log: the scan reads it, it is not scanned


def note_secrets(log_dir: Path, *values: str) -> None:
    """Tell the secret scan (``test_security``) the secrets a suite configured for processes
    whose logs go to ``log_dir``."""
    with (log_dir / SECRETS_FILE).open("a", encoding="utf-8") as out:
        out.writelines(f"{value}\n" for value in values if value)


def noted_secrets(log_dir: Path) -> list[str]:
    path = log_dir / SECRETS_FILE
    return path.read_text("utf-8").splitlines() if path.exists() else []
