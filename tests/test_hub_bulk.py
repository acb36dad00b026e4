"""The bulk path keeps HubSession's semantics: hashes, versions, stale updates, xrefs,
deliveries once per (message, target), quarantine, exact money and UTC instants — on SQLite
and PostgreSQL alike."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from canonical.errors import InvalidRecord
from canonical.models import Customer, Entity, Money, Record
from hub.bulk import BulkLoader, SourceRecord
from hub.schema import CanonicalRecord, Delivery, InboxMessage, InboxStatus, Xref
from hub.store import Hub, content_hash

PLUS_TWO = timezone(timedelta(hours=2))
STAMP = datetime(2026, 3, 1, 14, 30, tzinfo=PLUS_TWO)


def to_customer(data: Any) -> Record:
    if not data.get("name"):
        raise InvalidRecord.single("shop", str(data.get("id")), "name", "is required")
    return Customer(
        kind="person",
        name=data["name"],
        email=data.get("email"),
        credit_limit=Money(amount=Decimal(data.get("limit", "0.10")), currency="EUR"),
        updated_at=datetime.fromisoformat(data["modified"]),
    )


def src(key: str, name: str = "Ada", *, modified: datetime = STAMP, **extra: str) -> SourceRecord:
    data = {"id": key, "name": name, "modified": modified.isoformat(), **extra}
    body = json.dumps(data).encode()
    return SourceRecord(key, f"shop:customers:{key}:{data['modified']}:{name}", body, data,
                        version=data["modified"])  # fmt: skip


def loader(hub: Hub) -> BulkLoader:
    return BulkLoader(hub, system="shop", entity=Entity.CUSTOMER, kind="customer",
                      mapper=to_customer, targets=("crm", "erp", "shop"))  # fmt: skip


def rows(hub: Hub, model: Any) -> list[Any]:
    with hub.begin() as hs:
        return list(hs.session.scalars(sa.select(model)))


def test_new_records_get_xref_version_one_and_a_delivery_per_other_system(hub: Hub) -> None:
    counts = loader(hub).load([src("1"), src("2", "Bob")])
    assert (counts.created, counts.deliveries) == (2, 4)
    xrefs = {x.external_id: x for x in rows(hub, Xref)}
    assert set(xrefs) == {"1", "2"} and xrefs["1"].external_version == STAMP.isoformat()
    records = {r.id: r for r in rows(hub, CanonicalRecord)}
    assert {r.version for r in records.values()} == {1}
    deliveries = rows(hub, Delivery)
    assert sorted(d.target_system for d in deliveries) == ["crm", "crm", "erp", "erp"]  # no echo
    messages = {m.id: m for m in rows(hub, InboxMessage)}
    assert {d.message_id for d in deliveries} == set(messages)
    assert all(m.status == InboxStatus.PROCESSED for m in messages.values())
    assert {json.loads(m.raw_body)["id"] for m in messages.values()} == {"1", "2"}
    assert {m.canonical_id for m in messages.values()} == set(records)


def test_money_and_instants_round_trip_exactly_through_the_bulk_path(hub: Hub) -> None:
    loader(hub).load([src("1", limit="0.10")])
    (xref,) = rows(hub, Xref)
    with hub.begin() as hs:
        stored = hs.load(xref.canonical_id, Customer)
        row = hs.get(xref.canonical_id)
    assert isinstance(stored, Customer) and stored.credit_limit is not None
    assert str(stored.credit_limit.amount) == "0.10"  # exact, not a float
    assert stored.id == xref.canonical_id
    assert stored.updated_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert row is not None and row.source_updated_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert row.source_updated_at.tzinfo is not None
    # the same hash as the record-by-record path: HubSession sees it unchanged
    assert row.content_hash == content_hash(stored)
    with hub.begin() as hs:
        outcome = hs.upsert(stored, canonical_id=stored.id, source_system="shop")
    assert (outcome.changed, outcome.version) == (False, 1)


def test_unchanged_records_cause_no_delivery_and_changes_a_new_version(hub: Hub) -> None:
    bulk = loader(hub)
    bulk.load([src("1"), src("2", "Bob")])
    again = bulk.load([src("1"), src("2", "Bob")])
    assert (again.duplicate, again.deliveries) == (2, 0)
    restamped = bulk.load([src("1", modified=STAMP + timedelta(minutes=5))])
    assert (restamped.unchanged, restamped.deliveries) == (1, 0)
    changed = bulk.load([src("2", "Robert", modified=STAMP + timedelta(hours=1))])
    assert (changed.changed, changed.deliveries) == (1, 2)
    stale = bulk.load([src("2", "Bobby", modified=STAMP - timedelta(days=1))])
    assert (stale.stale, stale.deliveries) == (1, 0)
    (xref,) = [x for x in rows(hub, Xref) if x.external_id == "2"]
    with hub.begin() as hs:
        record = hs.load(xref.canonical_id, Customer)
        row = hs.get(xref.canonical_id)
    assert isinstance(record, Customer) and record.name == "Robert"
    assert row is not None and row.version == 2
    assert xref.external_version == (STAMP + timedelta(hours=1)).isoformat()
    versions = sorted(d.record_version for d in rows(hub, Delivery) if d.canonical_id == row.id)
    assert versions == [1, 1, 2, 2]


def test_a_bad_record_is_quarantined_with_its_raw_body_and_the_rest_goes_on(hub: Hub) -> None:
    counts = loader(hub).load([src("1"), src("2", ""), src("3", "Cy")])
    assert (counts.created, counts.quarantined, counts.deliveries) == (2, 1, 4)
    (bad,) = [m for m in rows(hub, InboxMessage) if m.status == InboxStatus.QUARANTINED]
    assert bad.error is not None and "shop 2: name: is required" in bad.error
    assert json.loads(bad.raw_body)["id"] == "2"


def test_of_two_versions_in_one_batch_the_newest_wins(hub: Hub) -> None:
    newer = src("1", "New", modified=STAMP + timedelta(hours=1))
    counts = loader(hub).load([newer, src("1", "Old")])
    assert (counts.created, counts.superseded, counts.deliveries) == (1, 1, 2)
    (xref,) = rows(hub, Xref)
    with hub.begin() as hs:
        record = hs.load(xref.canonical_id, Customer)
    assert isinstance(record, Customer) and record.name == "New"
    statuses = sorted(m.status for m in rows(hub, InboxMessage))
    assert statuses == [InboxStatus.IGNORED, InboxStatus.PROCESSED]


def test_records_linked_by_the_session_path_are_updated_not_duplicated(hub: Hub) -> None:
    with hub.begin() as hs:
        first = hs.upsert(to_customer(src("1").data), canonical_id=None, source_system="shop")
        hs.link(Entity.CUSTOMER, first.canonical_id, "shop", "1")
    counts = loader(hub).load([src("1", "Ada Lovelace", modified=STAMP + timedelta(hours=1))])
    assert (counts.created, counts.changed) == (0, 1)
    (row,) = rows(hub, CanonicalRecord)
    assert (row.id, row.version) == (first.canonical_id, 2)


def test_the_cursor_moves_in_the_batch_transaction(hub: Hub) -> None:
    loader(hub).load([src("1")], cursor=("bulk.shop.customers", "page-2"))
    with hub.begin() as hs:
        assert hs.get_cursor("bulk.shop.customers") == "page-2"
    loader(hub).load([src("2")], cursor=("bulk.shop.customers", "page-3"))
    with hub.begin() as hs:
        assert hs.get_cursor("bulk.shop.customers") == "page-3"


def test_a_growing_load_refreshes_postgres_statistics(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.bulk.ANALYZE_FIRST", 2)
    bulk = loader(hub)
    bulk.load([src("1"), src("2", "Bob"), src("3", "Cy")])
    if hub.engine.dialect.name != "postgresql":
        return  # SQLite's planner uses the unique indexes without statistics
    with hub.engine.connect() as conn:
        analyzed = conn.execute(
            sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND schemaname = current_schema()"
            )
        ).scalars()
        assert {"inbox", "xref", "records"} <= set(analyzed)


def test_the_garbage_collector_runs_again_after_a_batch_even_a_failed_one(hub: Hub) -> None:
    def broken(data: Any) -> Record:
        raise RuntimeError("mapper bug")

    assert gc.isenabled()
    loader(hub).load([src("1")])
    assert gc.isenabled()
    failing = BulkLoader(hub, system="shop", entity=Entity.CUSTOMER, kind="customer",
                         mapper=broken, targets=("crm",))  # fmt: skip
    with pytest.raises(RuntimeError, match="mapper bug"):
        failing.load([src("2")])
    assert gc.isenabled()
