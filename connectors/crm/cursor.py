"""The read position of a CRM module, and the list request that continues from it.

SuiteCRM stamps ``date_modified`` to the second and its ids are random UUIDs, so many records
share a stamp and a record changed later in the same second can have a smaller id than the
last one read: a plain ``(timestamp, last id)`` cursor would skip it. A second is **open**
while the CRM's clock (the answer's ``Date`` header) is less than ``margin`` past it — records
may still get that stamp — and **closed** after. The position has three forms:

- ``ids``: the ids read at an open stamp, each with a short hash of the record's content.
  Next request: ``date_modified >= stamp`` sorted by ``date_modified``, ``page_size +
  len(ids)`` records, the held records dropped unless their content changed (a record edited
  twice within one second keeps its stamp: its new content is what tells the edit apart). Every
  full page brings at least ``page_size`` new records; no offsets, which shift when records
  change during a read.
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

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from canonical.errors import PermanentError

Row = tuple[datetime, str, str]  # (date_modified, id, content hash)


def fingerprint(data: Mapping[str, object]) -> str:
    """A short hash of a record's content: a record changed within its stamp's second differs."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


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
    seen: Mapping[str, str] = field(default_factory=dict)  # id -> content hash
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
            if (
                stamp is None
                or not isinstance(ids, list | dict)
                or not isinstance(after, str | None)
            ):
                raise ValueError("bad fields")
            # a list is an older cursor without hashes: those records are read once more
            seen = (
                {str(k): str(v) for k, v in ids.items()}
                if isinstance(ids, dict)
                else {str(i): "" for i in ids}
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise PermanentError(
                f"CRM cursor {cursor[:80]!r} is not one this connector wrote ({exc})"
            ) from None
        return cls(stamp, seen, after)

    def encode(self) -> str | None:
        if self.stamp is None:
            return None
        data: dict[str, object] = {"t": self.stamp.isoformat()}
        if self.seen:
            data["ids"] = dict(sorted(self.seen.items()))
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

    def admits(self, stamp: datetime, record_id: str, content: str) -> bool:
        """Whether a listed record at ``stamp`` with content hash ``content`` is beyond this
        position (not read yet, or changed since it was read within the same second)."""
        if self.stamp is None or stamp > self.stamp:
            return True
        if stamp < self.stamp:
            return False
        if self.after is not None:
            return record_id > self.after
        return bool(self.seen) and self.seen.get(record_id) != content

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
            kept = sum(1 for stamp, _, _ in rows if stamp < last)
            return kept, Position(last, after="")
        if closed and not full:
            return len(rows), Position(last)
        seen = dict(self.seen) if last == self.stamp else {}
        seen.update((record_id, content) for stamp, record_id, content in rows if stamp == last)
        return len(rows), Position(last, seen)


def closed_before(server_now: datetime | None, margin: float) -> datetime | None:
    return None if server_now is None else server_now - timedelta(seconds=margin)
