"""Bulk loading: a batch of source records -> inbox, canonical records, xrefs and deliveries.

``BulkLoader.load(batch)`` stores what a batch of records of one system says, in ONE
transaction, with the semantics of ``HubSession.upsert``/``link``/``enqueue`` record by record:

- every record is an inbox message (raw body kept) with a deterministic dedupe key: a record
  already held in the same version is skipped before it is even mapped;
- the mapper turns the rest into canonical records; a bad one (``PermanentError``, so
  ``InvalidRecord`` too) is quarantined with its reason, the batch goes on;
- the content hash is ``hub.session.content_hash``: an unchanged record keeps its version and
  causes no delivery; a changed one gets ``version + 1``; an update older than the stored one
  never wins (stale); of several versions of one record in a batch only the newest counts
  (the others are kept as ``ignored`` messages);
- a new record gets its xref (unique per system, entity, external id) and version 1;
- each created or changed record is queued for every target but its source (no echo), once
  per (message, target, entity).

The statements per batch are few and of many rows each: one look-up of the held dedupe keys,
one of the xrefs with their records' hashes, multi-row inserts of messages, records, xrefs and
deliveries, and updates of the changed records only. A concurrent writer that links the same
external id or changes the same record first makes the batch fail; it is tried once more
from scratch and then sees that writer's rows.

Works on SQLite and PostgreSQL. Instants are bound through ``UtcDateTime`` (UTC, exact).
"""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from canonical.errors import PermanentError
from canonical.models import Entity, Record
from hub.bulk_sql import (
    DELIVERY_COLUMNS,
    INBOX_COLUMNS,
    RECORD_COLUMNS,
    UPDATE_RECORD,
    XREF_COLUMNS,
    as_uuid,
    hash_and_payload,
    insert_rows,
    json_text,
    keys_in,
    set_cursor,
    time_ordered_ids,
)
from hub.schema import (
    Base,
    CanonicalRecord,
    Delivery,
    DeliveryStatus,
    Event,
    InboxMessage,
    InboxStatus,
    Xref,
)
from hub.session import _ID_PREFIX
from hub.store import Hub
from hub.types import utcnow

_INBOX = Base.metadata.tables[InboxMessage.__tablename__]
_RECORDS = Base.metadata.tables[CanonicalRecord.__tablename__]
_XREF = Base.metadata.tables[Xref.__tablename__]
_DELIVERIES = Base.metadata.tables[Delivery.__tablename__]
_EVENTS = Base.metadata.tables[Event.__tablename__]
ANALYZE_FIRST = 10_000

Mapper = Callable[[Any], Record]
"""Maps one source record (``SourceRecord.data``) to its canonical record; raises
``InvalidRecord`` (or another ``PermanentError``) for a record that cannot be accepted."""


@dataclass(frozen=True)
class SourceRecord:
    key: str  # the source system's id of the record (the xref's external id)
    dedupe_key: str  # the same record in the same version has the same key
    body: bytes  # the record as received, kept in the inbox
    data: Any  # what the mapper reads
    version: str | None = None  # the source's change stamp (kept as the xref's version)


@dataclass
class BulkCounts:
    read: int = 0
    duplicate: int = 0  # already held in this version (or twice in the batch): skipped
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    superseded: int = 0  # a newer version of the same record came in the same batch
    quarantined: int = 0
    deliveries: int = 0

    def add(self, other: BulkCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _Retry(Exception):
    """A concurrent writer changed a record between our read and our write."""


@dataclass
class _Item:
    src: SourceRecord
    message_id: str
    status: str = InboxStatus.PROCESSED
    error: str | None = None
    record: Record | None = None
    canonical_id: str | None = None


@dataclass(frozen=True)
class _Held:
    canonical_id: str
    external_version: str | None
    content_hash: str
    version: int
    source_updated_at: datetime | None


class BulkLoader:
    """Loads batches of one system's records of one entity into the hub."""

    def __init__(
        self,
        hub: Hub,
        *,
        system: str,
        entity: Entity,
        kind: str,
        mapper: Mapper,
        targets: Sequence[str],
    ) -> None:
        if hub.engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"bulk loading supports SQLite and PostgreSQL, not {hub.engine.dialect.name}"
            )
        self.hub, self.system, self.entity, self.kind = hub, system, entity, kind
        self.mapper = mapper
        self.targets = tuple(t for t in targets if t != system)  # never echo to the source
        self._prefix = _ID_PREFIX[entity]
        self._created, self._analyze_at = 0, ANALYZE_FIRST

    def load(
        self, batch: Sequence[SourceRecord], *, cursor: tuple[str, str] | None = None
    ) -> BulkCounts:
        """Store one batch in one transaction (tried twice when a concurrent writer won),
        with the named ``cursor`` set to the position after it in the same transaction."""
        for attempt in (1, 2):
            try:
                with _GC_PAUSE, self.hub.engine.begin() as conn:
                    counts = self._load(conn, batch)
                    if cursor is not None:
                        set_cursor(conn, *cursor)
                self._created += counts.created
                if self._created >= self._analyze_at:
                    self._analyze()
                return counts
            except (IntegrityError, _Retry):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _analyze(self) -> None:
        """Refresh PostgreSQL's statistics of the tables a bulk load fills (at 10,000 new
        records, then at every fourfold). Until autovacuum gets to them, a fast-growing
        table's statistics say it is small, and the planner then answers the batch's key
        look-ups by scanning the whole table: each batch slower than the one before."""
        self._analyze_at = max(self._analyze_at, self._created) * 4
        if self.hub.engine.dialect.name == "postgresql":
            with self.hub.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE inbox, xref, records")

    # -- one batch ---------------------------------------------------------------------------

    def _load(self, conn: Connection, batch: Sequence[SourceRecord]) -> BulkCounts:
        counts = BulkCounts(read=len(batch))
        items = self._new_messages(conn, batch, counts)
        winners = self._map(items, counts)
        held = self._resolve(conn, list(winners))
        now = utcnow()
        new_rows: list[list[Any]] = []
        xref_rows: list[list[Any]] = []
        changed_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        queued: list[tuple[_Item, int]] = []
        ids = time_ordered_ids(len(winners) - len(held))
        for key, item in winners.items():
            record = item.record
            assert record is not None
            found = held.get(key)
            if found is None:
                cid = f"{self._prefix}_{next(ids)}"
                digest, payload = hash_and_payload(record, cid)
                new_rows.append([cid, self.entity.value, payload, digest, 1, self.system,
                                 record.updated_at, now, now])  # fmt: skip
                xref_rows.append([self.entity.value, cid, self.system, key, item.src.version,
                                  now, now])  # fmt: skip
                item.canonical_id = cid
                queued.append((item, 1))
                counts.created += 1
                continue
            cid = item.canonical_id = found.canonical_id
            stamp = record.updated_at
            known = found.source_updated_at
            if stamp is not None and known is not None and stamp < known:
                counts.stale += 1
                continue
            if item.src.version is not None and item.src.version != found.external_version:
                version_rows.append({"b_id": cid, "b_key": key, "b_version": item.src.version})
            digest, payload = hash_and_payload(record, cid)
            if digest == found.content_hash:
                counts.unchanged += 1
                continue
            changed_rows.append(
                {"payload": payload, "content_hash": digest, "version": found.version + 1,
                 "source_system": self.system, "source_updated_at": stamp or known,
                 "updated_at": now, "b_id": cid, "b_version": found.version}
            )  # fmt: skip
            queued.append((item, found.version + 1))
            counts.changed += 1
        self._write(conn, items, now, new_rows, xref_rows, changed_rows, version_rows)
        entity, pending = self.entity.value, DeliveryStatus.PENDING.value
        deliveries = [
            [item.message_id, target, entity, item.canonical_id, version, pending, 0, now, now, now]
            for item, version in queued
            for target in self.targets
        ]
        if deliveries:
            insert_rows(conn, _DELIVERIES, DELIVERY_COLUMNS, deliveries)
        counts.deliveries = len(deliveries)
        if items:
            conn.execute(
                _EVENTS.insert(),
                [
                    {
                        "kind": "bulk_loaded",
                        "at": now,
                        "system": self.system,
                        "detail": json.dumps(counts.as_dict()),
                    }
                ],
            )
        return counts

    def _new_messages(
        self, conn: Connection, batch: Sequence[SourceRecord], counts: BulkCounts
    ) -> list[_Item]:
        """The batch's records not yet held (by dedupe key), each with a new message id."""
        first: dict[str, SourceRecord] = {}
        for src in batch:
            first.setdefault(src.dedupe_key, src)
        held: set[str] = set()
        if first:
            stmt = select(_INBOX.c.dedupe_key).where(
                keys_in(_INBOX.c.dedupe_key, conn.dialect.name)
            )
            held = set(conn.scalars(stmt, {"keys": list(first)}))
        fresh = [src for key, src in first.items() if key not in held]
        counts.duplicate = len(batch) - len(fresh)
        ids = time_ordered_ids(len(fresh))
        return [_Item(src, as_uuid(next(ids))) for src in fresh]

    def _map(self, items: list[_Item], counts: BulkCounts) -> dict[str, _Item]:
        """Map each message; the newest valid version of each record wins."""
        winners: dict[str, _Item] = {}
        for item in items:
            try:
                item.record = self.mapper(item.src.data)
            except PermanentError as exc:
                item.status, item.error = InboxStatus.QUARANTINED, str(exc)
                counts.quarantined += 1
                continue
            rival = winners.get(item.src.key)
            if rival is not None:
                loser = rival if _newer_or_same(item, rival) else item
                if loser is rival:
                    winners[item.src.key] = item
                loser.status, loser.error = InboxStatus.IGNORED, "superseded in the same batch"
                counts.superseded += 1
            else:
                winners[item.src.key] = item
        return winners

    def _resolve(self, conn: Connection, keys: list[str]) -> dict[str, _Held]:
        if not keys:
            return {}
        stmt = (
            select(
                _XREF.c.external_id,
                _XREF.c.canonical_id,
                _XREF.c.external_version,
                _RECORDS.c.content_hash,
                _RECORDS.c.version,
                _RECORDS.c.source_updated_at,
            )
            .join(_RECORDS, _RECORDS.c.id == _XREF.c.canonical_id)
            .where(
                _XREF.c.system == self.system,
                _XREF.c.entity == self.entity.value,
                keys_in(_XREF.c.external_id, conn.dialect.name),
            )
        )
        return {row[0]: _Held(*row[1:]) for row in conn.execute(stmt, {"keys": keys})}

    def _write(
        self,
        conn: Connection,
        items: list[_Item],
        now: datetime,
        new_rows: list[list[Any]],
        xref_rows: list[list[Any]],
        changed_rows: list[dict[str, Any]],
        version_rows: list[dict[str, Any]],
    ) -> None:
        if items:
            system, kind, entity = self.system, self.kind, self.entity.value
            inbox = [
                [item.message_id, item.src.dedupe_key, system, kind, entity, item.canonical_id,
                 "application/json", '{"key": ' + json_text(item.src.key) + "}", item.src.body,
                 item.status, item.error, now, now]
                for item in items
            ]  # fmt: skip
            insert_rows(conn, _INBOX, INBOX_COLUMNS, inbox)
        if new_rows:
            insert_rows(conn, _RECORDS, RECORD_COLUMNS, new_rows)
            insert_rows(conn, _XREF, XREF_COLUMNS, xref_rows)
        if changed_rows:
            result = conn.execute(UPDATE_RECORD, changed_rows)
            sane = conn.dialect.supports_sane_multi_rowcount
            if sane and result.rowcount != len(changed_rows):
                raise _Retry(f"{len(changed_rows) - result.rowcount} record(s) changed meanwhile")
        if version_rows:
            stmt = (
                update(_XREF)
                .where(
                    _XREF.c.system == self.system,
                    _XREF.c.entity == self.entity.value,
                    _XREF.c.external_id == bindparam("b_key"),
                    _XREF.c.canonical_id == bindparam("b_id"),
                )
                .values(external_version=bindparam("b_version"), updated_at=utcnow())
            )
            conn.execute(stmt, version_rows)


class _GcPause:
    """The cyclic garbage collector paused while batches are loaded (re-entrant, across
    threads: it runs again when the last one is done, if it ran before the first). A batch
    allocates tens of thousands of container objects (rows, models, dicts), and on Python 3.11
    the collections that sets off, full ones walking every object of the process, were a fifth
    of a load's time. Reference counting frees a batch all the same; the few cycles it may
    leave wait for the collector's next run after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._resume:
                gc.enable()


_GC_PAUSE = _GcPause()


def _newer_or_same(item: _Item, rival: _Item) -> bool:
    """Whether ``item`` (later in the batch) wins over ``rival``: not older by its stamp."""
    assert item.record is not None and rival.record is not None
    mine, theirs = item.record.updated_at, rival.record.updated_at
    return mine is None or theirs is None or mine >= theirs
