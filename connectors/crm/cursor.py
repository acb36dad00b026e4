"""The read position of a CRM module, and the list request that continues from it.

SuiteCRM stamps ``date_modified`` to the second and its ids are random UUIDs, so many records
share a stamp and a record changed later in the same second can have a smaller id than the
last one read: a plain ``(timestamp, last id)`` cursor would skip it. A second is **open**
while the CRM's clock (the answer's ``Date`` header) is less than ``margin`` past it — records
may still get that stamp — and **closed** after. The position has three forms:

- ``ids``: the ids read at an open stamp. Next request: ``date_modified >= stamp`` sorted by
  ``date_modified``, ``page_size + len(ids)`` records, the held ids dropped (so every full
  page brings at least ``page_size`` new records; no offsets, which shift when records change
  during a read).
- ``after``: a closed stamp whose records are being read in id order, up to ``after``
  (``""``: none yet). Next request: ``date_modified = stamp`` and ``id > after`` sorted by
  ``id``. Thousands of records of one second (an import) cost one pass, and the cursor stays
  small.
- neither: everything up to and at a closed stamp is read. Next: ``date_modified > stamp``.

When a full page sorted by ``date_modified`` ends inside a closed second, the records of that
second are held back and read in id order next (the page's order within a second is the
database's). The cursor text is JSON, opaque to everyone else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from canonical.errors import PermanentError

Row = tuple[datetime, str]  # (date_modified, id)


def parse_stamp(value: object) -> datetime | None:
    """A CRM datetime (ISO 8601 with an offset, or ``YYYY-MM-DD HH:MM:SS`` in UTC) in UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def filter_value(moment: datetime) -> str:
    """A timestamp as SuiteCRM's filters take it (its database format, UTC, whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Query:
    filters: dict[str, dict[str, str]]
    sort: str
    size: int

    @property
    def by_id(self) -> bool:
        return self.sort == "id"


@dataclass(frozen=True)
class Position:
    stamp: datetime | None = None
    seen: frozenset[str] = field(default_factory=frozenset)
    after: str | None = None

    # -- text ------------------------------------------------------------------------------

    @classmethod
    def decode(cls, cursor: str | None) -> Position:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor)
            stamp = parse_stamp(data["t"])
            ids, after = data.get("ids", []), data.get("after")
            if stamp is None or not isinstance(ids, list) or not isinstance(after, str | None):
                raise ValueError("bad fields")
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(
                f"CRM cursor {cursor[:80]!r} is not one this connector wrote ({exc})"
            ) from None
        return cls(stamp, frozenset(str(i) for i in ids), after)

    def encode(self) -> str | None:
        if self.stamp is None:
            return None
        data: dict[str, object] = {"t": self.stamp.isoformat()}
        if self.seen:
            data["ids"] = sorted(self.seen)
        if self.after is not None:
            data["after"] = self.after
        return json.dumps(data, separators=(",", ":"))

    # -- reading ---------------------------------------------------------------------------

    def query(self, page_size: int) -> Query:
        if self.stamp is None:
            return Query({}, "date_modified", page_size)
        stamp = filter_value(self.stamp)
        if self.after is not None:
            filters = {"date_modified": {"eq": stamp}}
            if self.after:
                filters["id"] = {"gt": self.after}
            return Query(filters, "id", page_size)
        if self.seen:
            return Query(
                {"date_modified": {"gte": stamp}}, "date_modified", page_size + len(self.seen)
            )
        return Query({"date_modified": {"gt": stamp}}, "date_modified", page_size)

    def admits(self, stamp: datetime, record_id: str) -> bool:
        """Whether a listed record at ``stamp`` is beyond this position (not read yet)."""
        if self.stamp is None or stamp > self.stamp:
            return True
        if stamp < self.stamp:
            return False
        if self.after is not None:
            return record_id > self.after
        return bool(self.seen) and record_id not in self.seen

    def step(
        self, rows: Sequence[Row], *, query: Query, full: bool, closed_before: datetime | None
    ) -> tuple[int, Position]:
        """How many of the new ``rows`` (in the answer's order) to hand out now, and the
        position after them. ``closed_before``: stamps before it are closed (None: unknown)."""
        if query.by_id:
            assert self.stamp is not None
            if full and rows:
                return len(rows), Position(self.stamp, after=rows[-1][1])
            return len(rows), Position(self.stamp)
        if not rows:
            return 0, self
        last = rows[-1][0]
        closed = closed_before is not None and last < closed_before
        if closed and full and not (self.seen and last == self.stamp):
            kept = sum(1 for stamp, _ in rows if stamp < last)
            return kept, Position(last, after="")
        if closed and not full:
            return len(rows), Position(last)
        seen = set(self.seen) if last == self.stamp else set()
        seen.update(record_id for stamp, record_id in rows if stamp == last)
        return len(rows), Position(last, frozenset(seen))


def closed_before(server_now: datetime | None, margin: float) -> datetime | None:
    return None if server_now is None else server_now - timedelta(seconds=margin)
