"""A mapped task instance's partition (``RunOptions.partition``, set by the DAG factory) is
the part the bulk customer load does; the environment variable is the fallback."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows import bulk_customers
from flows.spec import RunOptions
from hub.engine import upgrade
from tandem.runtime import Runtime

CUSTOMERS = 200


def xref_ids(url: str) -> set[int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("select external_id from xref where system = 'webshop'"))
        ids = {int(row[0]) for row in found}
    engine.dispose()
    return ids


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    upgrade(url)
    settings = tmp_path / "tandem.toml"
    settings.write_text("")
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(settings))
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    monkeypatch.setenv("TANDEM_BULK_SOURCE", f"generated:{CUSTOMERS}")
    monkeypatch.setenv("TANDEM_BULK_PARTITION", "0/2")  # must lose to the run's option
    return Runtime()


def part(index: int, count: int) -> set[int]:
    return {i for i in range(1, CUSTOMERS + 1) if zlib.crc32(str(i).encode()) % count == index}


def test_the_runs_partition_option_wins_over_the_environment(runtime: Runtime) -> None:
    try:
        summary = bulk_customers.FLOW.run(runtime, RunOptions(partition="3/8"))
        assert xref_ids(runtime.settings.hub_url) == part(3, 8)
        assert "partition 4 of 8" in summary.notes[-1]
    finally:
        runtime.close()


def test_without_the_option_the_environment_names_the_partition(runtime: Runtime) -> None:
    try:
        bulk_customers.FLOW.run(runtime, RunOptions())
        assert xref_ids(runtime.settings.hub_url) == part(0, 2)
    finally:
        runtime.close()
