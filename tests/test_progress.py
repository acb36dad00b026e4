"""`tandem run`'s live progress line counts what the hub saw happen during the run."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from flows.pull import PullSpec, pull
from hub.store import Hub
from tandem.progress import counts_since, with_progress
from tests.connectors.test_erp_sql_support import Staging, open_staging

SPEC = PullSpec(system="erp_sql", stream="customers", kind="customer")


@pytest.fixture
def staging(tmp_path: Path) -> Iterator[Staging]:
    with open_staging("sqlite", tmp_path) as staging:
        yield staging


def test_the_progress_line_shows_the_records_read_so_far(hub: Hub, staging: Staging) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    connector = staging.connector()

    def slow_pull() -> int:
        summary = pull(hub, connector, SPEC)
        time.sleep(1.2)  # the line is redrawn twice a second: let it show the count
        return summary.read

    try:
        assert with_progress(console, hub, "pull customers", slow_pull) == 5
    finally:
        connector.close()
    assert "pull customers" in screen.getvalue()
    assert "5 read" in screen.getvalue()


def test_nothing_is_drawn_when_the_output_is_not_a_terminal(hub: Hub) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=False)
    assert with_progress(console, hub, "quiet", lambda: 42) == 42
    assert screen.getvalue() == ""
    assert counts_since(hub, datetime.now(UTC))["read"] == 0
