"""The hub keeps exactness, dedupe and delivery state on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from canonical.models import Customer, CustomerKind, Entity, Money, OrderLine, SalesOrder
from hub.deliveries import DeliveryLedger
from hub.engine import current_revision
from hub.schema import DeliveryStatus, InboxMessage, Xref
from hub.store import Hub, IncomingMessage

PLUS_TWO = timezone(timedelta(hours=2))


def _order(total: str = "0.10", updated: datetime | None = None) -> SalesOrder:
    money = Money(amount=Decimal(total), currency="EUR")
    return SalesOrder(
        order_number="1042",
        ordered_at=datetime(2026, 3, 1, 14, 30, tzinfo=PLUS_TWO),
        updated_at=updated or datetime(2026, 3, 1, 14, 30, tzinfo=PLUS_TWO),
        currency="EUR",
        lines=(
            OrderLine(
                line_number=1, sku="A-1", quantity=Decimal(1), unit_price=money, line_total=money
            ),
        ),
        total=money,
    )


def _incoming(
    key: str = "k1", delivery_id: str | None = "d1", body: bytes = b"{}"
) -> IncomingMessage:
    return IncomingMessage(
        source_system="webshop",
        kind="order.created",
        dedupe_key=key,
        body=body,
        delivery_id=delivery_id,
    )


def test_migrations_reach_head(hub: Hub) -> None:
    assert current_revision(hub.engine) == "0004"


def test_money_and_instants_round_trip_exactly(hub: Hub) -> None:
    with hub.begin() as hs:
        outcome = hs.upsert(_order("0.10"), canonical_id=None, source_system="webshop")
    with hub.begin() as hs:
        stored = hs.load(outcome.canonical_id, SalesOrder)
        row = hs.get(outcome.canonical_id)
    assert isinstance(stored, SalesOrder)
    assert stored.total.amount == Decimal("0.10")
    assert str(stored.total.amount) == "0.10"  # not 0.1, not 0.1000000000000000055
    assert stored.ordered_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert row is not None and row.source_updated_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    assert row.source_updated_at.tzinfo is not None


def test_naive_timestamps_are_refused_not_guessed(hub: Hub) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), hub.begin() as hs:
        hs.session.add(
            InboxMessage(
                id="x",
                dedupe_key="x",
                source_system="s",
                kind="k",
                content_type="c",
                raw_body=b"",
                received_at=datetime(2026, 1, 1),
            )
        )
        hs.session.flush()


def test_redelivery_is_recognised_by_its_dedupe_key(hub: Hub) -> None:
    first = hub.receive(_incoming("k1", "d1"))
    again = hub.receive(_incoming("k1", "d2"))
    # WooCommerce reuses a delivery id for different events within one second: not a duplicate
    same_delivery_id = hub.receive(_incoming("k2", "d1"))
    assert not first.duplicate and not same_delivery_id.duplicate
    assert again == first.__class__(first.message_id, duplicate=True)
    with hub.begin() as hs:
        assert hs.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 2


def test_concurrent_redelivery_stores_one_message(hub: Hub) -> None:
    results = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        results.append(hub.receive(_incoming("same", None, b'{"id": 1}')))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.message_id for r in results}) == 1


def test_inbox_claim_gives_each_message_to_one_worker(hub: Hub) -> None:
    for i in range(20):
        hub.receive(_incoming(f"k{i}", f"d{i}"))
    claimed: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        got = hub.claim_inbox("webshop", limit=7)
        with lock:
            claimed.extend(m.id for m in got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == len(set(claimed)) == 20


def test_older_update_never_wins_and_unchanged_is_not_a_change(hub: Hub) -> None:
    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with hub.begin() as hs:
        first = hs.upsert(_order("5.00", t0), canonical_id=None, source_system="webshop")
    with hub.begin() as hs:
        newer = hs.upsert(
            _order("7.00", t0 + timedelta(minutes=5)),
            canonical_id=first.canonical_id,
            source_system="webshop",
        )
        older = hs.upsert(
            _order("6.00", t0 + timedelta(minutes=1)),
            canonical_id=first.canonical_id,
            source_system="webshop",
        )
        same = hs.upsert(
            _order("7.00", t0 + timedelta(minutes=9)),
            canonical_id=first.canonical_id,
            source_system="webshop",
        )
    assert (newer.changed, newer.version) == (True, 2)
    assert (older.stale, older.changed) == (True, False)
    assert (same.changed, same.version) == (False, 2)
    with hub.begin() as hs:
        kept = hs.load(first.canonical_id, SalesOrder)
    assert isinstance(kept, SalesOrder) and kept.total.amount == Decimal("7.00")


def test_xref_is_unique_per_system_entity_and_external_id(hub: Hub) -> None:
    customer = Customer(kind=CustomerKind.PERSON, name="Ada")
    with hub.begin() as hs:
        a = hs.upsert(customer, canonical_id=None, source_system="webshop").canonical_id
        b = hs.upsert(customer, canonical_id=None, source_system="webshop").canonical_id
        assert hs.link(Entity.CUSTOMER, a, "erp", "C00010", "key1")
        assert hs.link(Entity.CUSTOMER, a, "erp", "C00010", "key2")  # idempotent, fresh version
        assert not hs.link(Entity.CUSTOMER, b, "erp", "C00010")  # conflict: first link stays
    with hub.begin() as hs:
        assert hs.resolve(Entity.CUSTOMER, "erp", "C00010") == a
        rows = list(hs.session.scalars(sa.select(Xref)))
        assert [(r.canonical_id, r.external_version) for r in rows] == [(a, "key2")]
    with pytest.raises(sa.exc.IntegrityError), hub.begin() as hs:
        hs.session.add(Xref(entity="customer", canonical_id=b, system="erp", external_id="C00010"))
        hs.session.flush()


def _queued_delivery(hub: Hub) -> int:
    received = hub.receive(_incoming())
    with hub.begin() as hs:
        cid = hs.upsert(_order(), canonical_id=None, source_system="webshop").canonical_id
        hs.enqueue(
            message_id=received.message_id,
            target_system="erp",
            entity=Entity.SALES_ORDER,
            canonical_id=cid,
            record_version=1,
            correlation_id="1042",
        )
    return 1


def test_delivery_retry_dead_letter_and_replay_are_recorded(hub: Hub) -> None:
    _queued_delivery(hub)
    ledger = DeliveryLedger(hub)
    [task] = ledger.claim_due()
    assert ledger.claim_due() == []  # in flight: nobody else takes it
    assert not ledger.fail(task, error="TransientError: ERP down", retry_at=datetime.now(UTC))
    [task] = ledger.claim_due()
    assert task.attempts == 2
    assert ledger.fail(task, error="PermanentError: credit limit", retry_at=None)
    [dead] = ledger.dead_letters()
    assert (dead.status, dead.last_error) == (DeliveryStatus.DEAD, "PermanentError: credit limit")
    assert ledger.replay(None, actor="ops") == [dead.id]
    [task] = ledger.claim_due()
    assert task.attempts == 1
    ledger.succeed(task, external_id="SO-10001")
    assert ledger.dead_letters() == []
    assert ledger.replay(None, actor="ops") == []  # delivered: nothing to replay


def test_expired_lease_makes_a_delivery_claimable_again(hub: Hub) -> None:
    _queued_delivery(hub)
    ledger = DeliveryLedger(hub)
    [task] = ledger.claim_due(lease=timedelta(seconds=-1))  # the worker "died" at once
    [again] = ledger.claim_due()
    assert again.id == task.id and again.attempts == 2


def test_cursor_moves_with_its_transaction(hub: Hub) -> None:
    with pytest.raises(RuntimeError), hub.begin() as hs:
        hs.set_cursor("webshop.orders", "2026-03-01T00:00:00Z")
        raise RuntimeError("crash before commit")
    with hub.begin() as hs:
        assert hs.get_cursor("webshop.orders") is None
        hs.set_cursor("webshop.orders", "2026-03-01T00:00:00Z")
    with hub.begin() as hs:
        assert hs.get_cursor("webshop.orders") == "2026-03-01T00:00:00Z"


def test_column_types_keep_money_and_offsets_exact(hub: Hub) -> None:
    """The column types themselves, on each database: Decimal text and UTC instants."""
    from hub.types import ExactDecimal, UtcDateTime

    meta = sa.MetaData()
    table = sa.Table(
        "t_exactness",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("amount", ExactDecimal()),
        sa.Column("at", UtcDateTime()),
    )
    meta.create_all(hub.engine)
    try:
        at = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=PLUS_TWO)
        with hub.engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "amount": Decimal("0.10"), "at": at}])
        with hub.engine.connect() as conn:
            amount, stored_at = conn.execute(sa.select(table.c.amount, table.c.at)).one()
        assert (amount, str(amount)) == (Decimal("0.10"), "0.10")
        assert stored_at == at and stored_at.utcoffset() == timedelta(0)
        with (
            pytest.raises(sa.exc.StatementError, match="money must be a Decimal"),
            hub.engine.begin() as conn,
        ):
            conn.execute(table.insert(), [{"id": 2, "amount": 0.1, "at": at}])
    finally:
        meta.drop_all(hub.engine)
