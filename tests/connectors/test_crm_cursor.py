"""The CRM read position on its own: its three forms, their requests, and how pages move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canonical.errors import PermanentError
from connectors.crm.cursor import Position, Query

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
T1 = T0 + timedelta(seconds=1)
LONG_AFTER = T1 + timedelta(hours=1)  # both seconds closed


def _step(
    position: Position, rows: list[tuple[datetime, str]], *, full: bool, closed: datetime | None
) -> tuple[int, Position]:
    """Rows whose content hash is their id upper-cased (each record's own content)."""
    hashed = [(stamp, key, key.upper()) for stamp, key in rows]
    return position.step(hashed, query=position.query(3), full=full, closed_before=closed)


def _held(*keys: str) -> dict[str, str]:
    return {key: key.upper() for key in keys}


@pytest.mark.parametrize(
    "position",
    [
        Position(T0, _held("b", "a")),
        Position(T0, after="c"),
        Position(T0, after=""),
        Position(T0),
    ],
)
def test_every_form_survives_its_text(position: Position) -> None:
    text = position.encode()
    assert text is not None and Position.decode(text) == position


def test_each_form_asks_for_what_follows_it() -> None:
    assert Position().query(3) == Query({}, "date_modified", 3)
    held = Position(T0, _held("a", "b"))
    assert held.query(3) == Query(
        {"date_modified": {"gte": "2026-03-01 09:30:00"}}, "date_modified", 5
    )
    keyset = Position(T0, after="c")
    assert keyset.query(3) == Query(
        {"date_modified": {"eq": "2026-03-01 09:30:00"}, "id": {"gt": "c"}}, "id", 3
    )
    assert Position(T0, after="").query(3).filters == {
        "date_modified": {"eq": "2026-03-01 09:30:00"}
    }
    assert Position(T0).query(3) == Query(
        {"date_modified": {"gt": "2026-03-01 09:30:00"}}, "date_modified", 3
    )


def test_a_full_page_ending_in_a_closed_second_holds_that_second_back() -> None:
    count, after = _step(
        Position(), [(T0, "x"), (T1, "b"), (T1, "a")], full=True, closed=LONG_AFTER
    )
    assert (count, after) == (1, Position(T1, after=""))


def test_an_open_second_keeps_the_ids_read_at_it() -> None:
    count, after = _step(Position(), [(T0, "x"), (T1, "b"), (T1, "a")], full=True, closed=T0)
    assert (count, after) == (3, Position(T1, _held("a", "b")))
    count, again = _step(after, [(T1, "c")], full=False, closed=T0)
    assert (count, again) == (1, Position(T1, _held("a", "b", "c")))


def test_without_the_crms_clock_every_second_counts_as_open() -> None:
    count, after = _step(Position(), [(T0, "x"), (T1, "a")], full=True, closed=None)
    assert (count, after) == (2, Position(T1, _held("a")))


def test_a_second_read_by_id_ends_when_a_page_is_short() -> None:
    count, after = _step(
        Position(T0, after=""), [(T0, "a"), (T0, "b"), (T0, "c")], full=True, closed=LONG_AFTER
    )
    assert (count, after) == (3, Position(T0, after="c"))
    count, done = _step(after, [(T0, "d")], full=False, closed=LONG_AFTER)
    assert (count, done) == (1, Position(T0))


def test_records_at_or_before_the_position_are_not_admitted() -> None:
    held = Position(T0, _held("a"))
    assert not held.admits(T0, "a", "A") and held.admits(T0, "0", "0") and held.admits(T1, "a", "A")
    assert not held.admits(T0 - timedelta(seconds=1), "z", "Z")
    keyset = Position(T0, after="c")
    assert not keyset.admits(T0, "b", "B") and keyset.admits(T0, "d", "D")
    assert not Position(T0).admits(T0, "z", "Z")


def test_a_record_changed_again_within_its_second_is_read_again() -> None:
    """SuiteCRM stamps to the second: the second edit keeps the stamp, only the content moves."""
    held = Position(T0, _held("a"))
    assert held.admits(T0, "a", "A-edited")
    count, after = held.step(
        [(T0, "a", "A-edited")], query=held.query(3), full=False, closed_before=T0
    )
    assert (count, after) == (1, Position(T0, {"a": "A-edited"}))
    assert not after.admits(T0, "a", "A-edited")


def test_a_cursor_written_before_content_hashes_reads_its_held_records_once_more() -> None:
    old = Position.decode('{"t":"2026-03-01T09:30:00+00:00","ids":["a"]}')
    assert old.stamp == T0 and old.admits(T0, "a", "A")


@pytest.mark.parametrize(
    "text", ["2025-01-01", "{}", '{"t": "soon"}', '{"t": "2025-01-01T00:00:00", "ids": 3}']
)
def test_a_foreign_cursor_is_refused(text: str) -> None:
    with pytest.raises(PermanentError, match="is not one this connector wrote"):
        Position.decode(text)
