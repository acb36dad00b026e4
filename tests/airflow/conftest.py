"""The environment of an Airflow process the tests start: its own ``AIRFLOW_HOME`` (SQLite),
Tandem's DAG folder, no examples, and none of the caller's ``AIRFLOW*``/``TANDEM_*`` settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "empty.toml").write_text("")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "TANDEM_")) or k == "TANDEM_REQUIRE_SERVICES"
    }
    return env | {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "TANDEM_SETTINGS_FILE": str(tmp_path / "empty.toml"),
        "TANDEM_SCHEDULE_DELIVER": "*/7 * * * *",
    }
