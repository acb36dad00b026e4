"""Incremental reads: the records of a model changed after a cursor, page by page.

Every Tryton record has ``last_modified_at`` (its ``write_date``, else its ``create_date``):
the start of the transaction that last wrote it, to the microsecond, in UTC. Many records share
one stamp (everything one transaction wrote), so the position is ``(stamp, id)`` and a read asks
for ``stamp > t OR (stamp = t AND id > i)`` ordered by ``(stamp, id)``: equal stamps neither
come twice nor get skipped, and paging needs no offsets (which shift under concurrent writes).

A record can change through its parts: a party through its addresses and contact mechanisms, a
sale through its lines, a product through its template. A ``Feed`` names those ``Dependent``
models and the field leading back to the record; each keeps its own ``(stamp, id)`` in the
cursor, and a changed part brings its whole record again. One read returns a record at most
once. A first read (no cursor) starts the parts at their newest change, since it reads every
record anyway.

Limit: the stamp is when a transaction *started*. A transaction that runs longer than a read
and commits after it can leave records behind the cursor; Tryton's RPC transactions are short.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from canonical.errors import PermanentError
from connectors.erp_tryton.rpc import Row, TrytonRpc

STAMP = "last_modified_at"
Position = tuple[datetime, int]


@dataclass(frozen=True)
class Dependent:
    """A model whose changes change the record: ``link`` is its field leading to the record
    (a Many2One id, or a list of ids as for a template's ``products``)."""

    model: str
    link: str


@dataclass(frozen=True)
class Feed:
    model: str
    fields: tuple[str, ...]
    domain: tuple[Any, ...] = ()
    dependents: tuple[Dependent, ...] = ()
    extend: Callable[[TrytonRpc, list[Row]], None] | None = field(default=None, compare=False)


def decode(cursor: str | None, what: str) -> dict[str, Position]:
    if cursor is None:
        return {}
    try:
        data = json.loads(cursor)
        return {
            model: (datetime.fromisoformat(str(stamp)), int(record_id))
            for model, (stamp, record_id) in data.items()
        }
    except (ValueError, TypeError, AttributeError) as exc:
        raise PermanentError(
            f"Tryton {what} cursor {cursor[:80]!r} is not one this connector wrote ({exc})"
        ) from None


def encode(positions: dict[str, Position]) -> str | None:
    if not positions:
        return None
    data = {model: [stamp.isoformat(), rid] for model, (stamp, rid) in sorted(positions.items())}
    return json.dumps(data, separators=(",", ":"))


def after(position: Position | None) -> list[Any]:
    if position is None:
        return []
    stamp, record_id = position
    return [["OR", [(STAMP, ">", stamp)], [(STAMP, "=", stamp), ("id", ">", record_id)]]]


ORDER = ((STAMP, "ASC"), ("id", "ASC"))


def _position(row: Row) -> Position:
    stamp = row.get(STAMP)
    if not isinstance(stamp, datetime):
        raise PermanentError(f"record {row.get('id')} has no {STAMP} timestamp")
    return stamp, int(row["id"])


def _newest(rpc: TrytonRpc, model: str) -> Position | None:
    rows = rpc.search_read(
        model, [], ["id", STAMP], limit=1, order=((STAMP, "DESC"), ("id", "DESC"))
    )
    return _position(rows[0]) if rows else None


def _linked(value: Any) -> list[int]:
    if isinstance(value, list):
        return [int(v) for v in value]
    if isinstance(value, dict):
        return [int(value["id"])]
    return [int(value)] if value else []


class ChangeReader:
    """``pages(cursor)``: ``(records, cursor after them)`` for one feed."""

    def __init__(self, rpc: TrytonRpc, feed: Feed, page_size: int, what: str) -> None:
        self.rpc, self.feed, self.page_size, self.what = rpc, feed, page_size, what

    def pages(self, cursor: str | None) -> Iterator[tuple[list[Row], str | None]]:
        positions = decode(cursor, self.what)
        if cursor is None:
            for dep in self.feed.dependents:
                newest = _newest(self.rpc, dep.model)
                if newest is not None:
                    positions[dep.model] = newest
        seen: set[int] = set()
        last = cursor
        for rows in self._primary(positions):
            seen.update(int(r["id"]) for r in rows)
            last = encode(positions)
            yield self._extended(rows), last
        for dep in self.feed.dependents:
            for rows in self._dependent(dep, positions, seen):
                last = encode(positions)
                yield self._extended(rows), last
        final = encode(positions)
        if final != last:
            yield [], final

    def _extended(self, rows: list[Row]) -> list[Row]:
        if rows and self.feed.extend is not None:
            self.feed.extend(self.rpc, rows)
        return rows

    def _primary(self, positions: dict[str, Position]) -> Iterator[list[Row]]:
        model, fields = self.feed.model, [*self.feed.fields, STAMP]
        while True:
            domain = [*self.feed.domain, *after(positions.get(model))]
            rows = self.rpc.search_read(model, domain, fields, limit=self.page_size, order=ORDER)
            if not rows:
                return
            positions[model] = _position(rows[-1])
            yield rows
            if len(rows) < self.page_size:
                return

    def _dependent(
        self, dep: Dependent, positions: dict[str, Position], seen: set[int]
    ) -> Iterator[list[Row]]:
        while True:
            changed = self.rpc.search_read(
                dep.model,
                after(positions.get(dep.model)),
                ["id", dep.link, STAMP],
                limit=self.page_size,
                order=ORDER,
            )
            if not changed:
                return
            positions[dep.model] = _position(changed[-1])
            wanted = sorted({i for r in changed for i in _linked(r.get(dep.link))} - seen)
            rows = self._fetch(wanted) if wanted else []
            seen.update(wanted)
            yield rows
            if len(changed) < self.page_size:
                return

    def _fetch(self, ids: Sequence[int]) -> list[Row]:
        domain = [*self.feed.domain, ("id", "in", list(ids))]
        return self.rpc.search_read(
            self.feed.model, domain, [*self.feed.fields, STAMP], order=ORDER
        )
