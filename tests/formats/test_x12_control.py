"""Control numbers: durable, per partner and kind, never handed out twice (two processes)."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from canonical.errors import PermanentError
from connectors.formats.x12 import ControlNumbers, SentDocument
from tests.services import MARIADB_URL, need_service


def _draw(url: str, partner: str, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = ControlNumbers(url)
    out.put([store.next(partner, "ISA13") for _ in range(n)])
    store.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        "mariadb",
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'c.db'}"
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_schema_url")
        return url
    need_service("MariaDB", MARIADB_URL)
    return MARIADB_URL


def test_numbers_count_up_per_partner_and_kind_and_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = ControlNumbers(url)
    assert [store.next("A", "ISA13") for _ in range(3)] == [1, 2, 3]
    assert store.next("A", "GS06") == 1
    assert store.next("B", "ISA13") == 1
    store.close()
    again = ControlNumbers(url)
    assert again.next("A", "ISA13") == 4
    assert again.current("A", "GS06") == 1
    names = {
        c["name"] for c in inspect(create_engine(url)).get_unique_constraints("x12_control_numbers")
    }
    assert "uq_x12_control_numbers_partner_kind" in names


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="kind"):
        ControlNumbers(f"sqlite:///{tmp_path / 'c.db'}").next("A", "SE02")


def test_two_processes_never_get_the_same_number(store_url: str) -> None:
    partner = f"ZZ:RACE-{uuid.uuid4().hex[:8]}"  # the MariaDB test database is shared
    ControlNumbers(store_url).close()  # the table exists before the race
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    workers = [ctx.Process(target=_draw, args=(store_url, partner, 100, out)) for _ in range(2)]
    for w in workers:
        w.start()
    drawn = out.get(timeout=120) + out.get(timeout=120)
    for w in workers:
        w.join(timeout=30)
    assert len(drawn) == 200
    assert sorted(drawn) == list(range(1, 201)), "a number was handed out twice or skipped"


def test_a_sent_document_is_remembered_and_matched_by_its_997(tmp_path: Path) -> None:
    store = ControlNumbers(f"sqlite:///{tmp_path / 'c.db'}")
    doc = SentDocument("P", "940", "SO-1", "abc", 5, 6, 7, "940_SO-1_abc.x12")
    assert store.record_sent(doc) == doc
    assert store.record_sent(SentDocument("P", "940", "SO-1", "abc", 9, 9, 9, "other")) == doc
    assert store.find_sent("P", "940", "SO-1", "abc") == doc
    assert store.find_sent("P", "940", "SO-1", "changed") is None
    assert store.record_ack("P", 6, 7, "A") == 1
    assert store.record_ack("P", 6, 8, "A") == 0
    assert store.sent("P")[0].ack_status == "A"
