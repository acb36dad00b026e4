"""The pieces every flow is built of, against a real peer (the staging-table ERP on SQLite):
pull into the inbox with the cursor, process into the hub, deliver through a connector."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from canonical.errors import PermanentError
from canonical.models import Customer, Entity
from connectors.base import Connector
from connectors.erp_sql import ErpSqlConnector
from flows.delivery import Delivered, DeliveryWorker, Handler
from flows.erp_orders import ErpWriter
from flows.golden import CUSTOMER_OWNERS, Survivorship
from flows.policy import RetryPolicy
from flows.processing import InboxProcessor, Processed, routes
from flows.pull import PullSpec, pull
from flows.spec import FlowSpec, RunOptions, Services, chosen_targets
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget
from hub.engine import upgrade
from hub.schema import Delivery, DeliveryStatus, InboxMessage, InboxStatus
from hub.store import DeliveryTask, Hub, HubSession
from mappings import erp_sql
from tests.connectors.test_erp_sql_support import Staging, open_staging

SPEC = PullSpec(system="erp_sql", stream="customers", kind="customer")


@pytest.fixture
def staging(tmp_path: Path) -> Iterator[Staging]:
    with open_staging("sqlite", tmp_path) as staging:
        yield staging


@pytest.fixture
def erp(staging: Staging) -> Iterator[ErpSqlConnector]:
    connector = staging.connector()
    yield connector
    connector.close()


class ErpCustomers(InboxProcessor):
    """Staging rows -> canonical customers, delivered to ``targets`` (the source excluded)."""

    flow, system, kinds = "test-customers", "erp_sql", ("customer",)

    def __init__(self, hub: Hub, targets: tuple[str, ...]) -> None:
        super().__init__(hub)
        self.targets = targets

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        customer = erp_sql.customer_from_staging(doc)
        key = str(doc["customer_no"])
        outcome = hs.upsert(
            customer, canonical_id=hs.resolve(Entity.CUSTOMER, self.system, key),
            source_system=self.system,
        )  # fmt: skip
        hs.link(Entity.CUSTOMER, outcome.canonical_id, self.system, key)
        self.count(outcome, summary)
        if outcome.changed:
            for target in routes(self.targets, self.system):
                hs.enqueue(
                    message_id=message.id, target_system=target, entity=Entity.CUSTOMER,
                    canonical_id=outcome.canonical_id, record_version=outcome.version,
                    correlation_id=key,
                )  # fmt: skip
        return Processed(key, Entity.CUSTOMER, outcome.canonical_id, outcome)


def inbox(hub: Hub) -> list[InboxMessage]:
    with hub.begin() as hs:
        return list(hs.session.scalars(select(InboxMessage).order_by(InboxMessage.received_at)))


def test_a_pull_stores_each_record_once_and_moves_the_cursor_with_it(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    staging.erp.change_customers(5)  # 10 with the 5 the staging tables start with
    first = pull(hub, erp, SPEC)
    assert (first.read, first.unchanged) == (10, 0)
    with hub.begin() as hs:
        cursor = hs.get_cursor(SPEC.cursor_name)
    assert cursor
    again = pull(hub, erp, SPEC)
    assert again.read == 0, "a second pull from the stored cursor reads nothing"
    changed = staging.erp.change_customers(2, new=False)
    later = pull(hub, erp, SPEC)
    assert later.read == 2
    full = pull(hub, erp, SPEC, full=True)  # a full resync re-reads, the hub dedupes
    assert full.read == 10 and full.unchanged == 10
    messages = inbox(hub)
    assert len(messages) == 12
    assert {m.dedupe_key.split(":")[2] for m in messages[-2:]} == set(changed)


def test_a_row_the_connector_cannot_read_is_quarantined_with_its_bytes(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    staging.erp.change_customers(1)
    bad = staging.erp.customer_values(77) | {"credit_limit": "n/a"}
    staging.erp.put_row("erp_customer_out", customer_no="C-BAD", changed_at=datetime.now(UTC)
                        .replace(tzinfo=None), **bad)  # fmt: skip
    summary = pull(hub, erp, SPEC)
    assert summary.quarantined == 1 and summary.read == 6
    parked = [m for m in inbox(hub) if m.status == InboxStatus.QUARANTINED]
    assert len(parked) == 1
    assert "C-BAD" in (parked[0].error or "") and "credit_limit" in (parked[0].error or "")
    assert b"n/a" in parked[0].raw_body


def test_processing_stores_records_and_never_echoes_to_the_source(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    staging.erp.change_customers(3)
    pull(hub, erp, SPEC)
    summary = ErpCustomers(hub, targets=("erp_sql", "crm")).run()
    assert (summary.read, summary.changed, summary.quarantined) == (8, 8, 0)
    from hub.schema import Delivery

    with hub.begin() as hs:
        targets = {d.target_system for d in hs.session.scalars(select(Delivery))}
    assert targets == {"crm"}, "a change from the ERP is not written back to the ERP"
    assert all(m.status == InboxStatus.PROCESSED for m in inbox(hub))


def test_a_delivery_whose_content_the_target_already_holds_is_not_sent_again(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    pull(hub, erp, SPEC)
    ErpCustomers(hub, targets=("erp_copy",)).run()

    def without_phone(hs: HubSession, customer: Any, known: str | None) -> dict[str, Any]:
        row = erp_sql.customer_to_staging(customer, ext_customer_id=f"COPY-{customer.id}")
        # this target keeps neither phone numbers nor credit limits
        return row | {"phone_no": None, "credit_limit": None}

    target = ConnectorTarget(
        system="erp_copy", entity=Entity.CUSTOMER, model=Customer, connector=erp,
        stream="customers", to_target=without_phone,
    )  # fmt: skip
    worker = DeliveryWorker(
        hub, {("erp_copy", Entity.CUSTOMER): target.handler(hub)}, RetryPolicy()
    )
    assert worker.run().delivered == 5
    before = staging.rows("erp_customer_in")
    assert len(before) == 5
    staging.erp.change_customers(2, new=False)  # new phone numbers and credit limits
    pull(hub, erp, SPEC)
    assert ErpCustomers(hub, targets=("erp_copy",)).run().changed == 2
    summary = worker.run()
    assert (summary.delivered, summary.skipped) == (0, 2)
    assert staging.rows("erp_customer_in") == before, "nothing was written to the target"


def test_golden_fields_come_from_their_owner_else_the_most_recent_system() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    views: dict[str, tuple[dict[str, Any], datetime]] = {
        "erp": ({"name": "Alpen Kaffee GmbH", "email": "old@alpen.example",
                 "credit_limit": {"amount": "5000", "currency": "EUR"}}, now - timedelta(days=3)),
        "webshop": ({"name": "Alpen Kaffee", "email": "shop@alpen.example",
                     "credit_limit": None}, now - timedelta(days=1)),
        "crm": ({"name": "ALPEN KAFFEE GMBH", "phone": "+43 1 555"}, now),
    }  # fmt: skip
    golden, sources = Survivorship(CUSTOMER_OWNERS).merge(views)
    assert golden["credit_limit"] == {"amount": "5000", "currency": "EUR"}
    assert sources["credit_limit"].system == "erp" and sources["credit_limit"].rule == "owner"
    assert golden["email"] == "shop@alpen.example" and sources["email"].system == "webshop"
    assert golden["name"] == "ALPEN KAFFEE GMBH" and sources["name"].rule == "recency"
    assert sources["phone"].system == "crm"


class FlakyPeer(ErpCustomers):
    """Processing that meets a peer that is down (a transient failure)."""

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        from canonical.errors import TransientError

        raise TransientError("the CRM answered 503")


def test_a_transiently_failing_message_waits_instead_of_spinning(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    pull(hub, erp, SPEC)
    flaky = FlakyPeer(hub, targets=("crm",))
    first = flaky.run()
    assert (first.read, first.retrying) == (5, 5), "each message tried once, then kept back"
    assert flaky.run().read == 0, "kept back: not taken again at once"
    assert all(m.status == InboxStatus.PROCESSING for m in inbox(hub))
    with hub.begin() as hs:  # the wait is over
        past = datetime.now(UTC) - timedelta(seconds=1)
        hs.session.execute(InboxMessage.__table__.update().values(lease_until=past))  # type: ignore[attr-defined]
    later = ErpCustomers(hub, targets=("crm",)).run()
    assert later.changed == 5 and all(m.status == InboxStatus.PROCESSED for m in inbox(hub))


@pytest.mark.postgres
def test_a_delivery_that_loses_the_hub_connection_is_retried_not_dead_lettered(
    postgres_url: str, pg_schema_url: str, tmp_path: Path
) -> None:
    """The hub's database connection is cut (``pg_terminate_backend``) while a handler reads the
    hub: a transient failure, retried later, not a dead letter (and not a crash of the run)."""
    upgrade(pg_schema_url)
    hub = Hub(pg_schema_url)
    admin = create_engine(postgres_url)
    cut: list[int] = []

    def reads_the_hub(task: DeliveryTask) -> Delivered:
        with hub.begin() as hs:
            pid = hs.session.execute(text("select pg_backend_pid()")).scalar_one()
            if not cut:  # the first delivery loses its connection mid-read
                with admin.begin() as conn:
                    conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
                cut.append(pid)
            hs.session.execute(text("select 1"))
        return Delivered(external_id=f"X-{task.correlation_id}")

    try:
        with open_staging("sqlite", tmp_path) as staging:
            connector = staging.connector()
            pull(hub, connector, SPEC)
            connector.close()
        ErpCustomers(hub, targets=("crm",)).run()
        worker = DeliveryWorker(
            hub, {("crm", Entity.CUSTOMER): reads_the_hub}, RetryPolicy(base_delay=0, jitter=0)
        )
        summary = worker.run()  # the retry falls due at once (no backoff) and is delivered
        assert cut and (summary.delivered, summary.retrying, summary.dead) == (5, 1, 0), summary
    finally:
        hub.close()
        admin.dispose()


# -- on-demand runs: some records, some targets ------------------------------------------------


@dataclass
class Peers:
    """What a flow gets from the application: the hub and the staging ERP (its ``erp`` role is
    played by the system ``erp_copy``)."""

    hub: Hub
    staging_erp: ErpSqlConnector
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)

    def erp(self) -> ErpWriter:
        raise AssertionError("this flow writes no sales orders")

    def connector(self, system: str) -> Connector:
        return self.staging_erp

    def system_name(self, role: str) -> str:
        return "erp_copy" if role == "erp" else role


COPIES = ("erp_copy", "mirror")  # the systems the flow queues deliveries for


def copies_flow() -> FlowSpec:
    """Staging ERP customers -> hub -> two copies in the staging ERP's import table (rows
    ``COPY-*`` for the ``erp`` role's system, ``MIRROR-*`` for ``mirror``)."""

    def copy_to(system: str, services: Services) -> Handler:
        prefix = system.rsplit("_", maxsplit=1)[-1].upper()

        def row(hs: HubSession, customer: Any, known: str | None) -> dict[str, Any]:
            return erp_sql.customer_to_staging(customer, ext_customer_id=f"{prefix}-{customer.id}")

        return ConnectorTarget(
            system=system, entity=Entity.CUSTOMER, model=Customer,
            connector=services.connector("erp"), stream="customers", to_target=row,
        ).handler(services.hub)  # fmt: skip

    def run(services: Services, options: RunOptions) -> FlowSummary:
        pull(services.hub, services.connector("erp"), SPEC)
        summary = ErpCustomers(services.hub, COPIES).run(entity_ids=options.entity_ids)
        handlers: dict[tuple[str, str], Handler] = {
            (s, Entity.CUSTOMER): copy_to(s, services) for s in COPIES
        }
        worker = DeliveryWorker(services.hub, handlers, services.retry_policy)
        summary.merge(worker.run(targets=chosen_targets(options, COPIES)))
        return summary

    return FlowSpec(name="copies", description="customer copies", source="erp_sql",
                    targets=("erp", "mirror"), run=run)  # fmt: skip


def copied(staging: Staging, prefix: str) -> set[str]:
    """The names of the customers in the import table as ``prefix`` rows."""
    rows = staging.rows("erp_customer_in")
    return {r["name"] for r in rows if str(r["ext_customer_id"]).startswith(f"{prefix}-")}


def test_a_run_for_some_records_processes_theirs_and_leaves_the_others_waiting(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    flow, peers = copies_flow(), Peers(hub, erp)
    asked = staging.erp.change_customers(3)[:2]  # 8 customers, 2 asked for
    names = {r["customer_no"]: r["name"] for r in staging.rows("erp_customer_out")}
    with pytest.raises(PermanentError, match="copies: entity_ids is empty"):
        flow.run(peers, RunOptions(entity_ids=[]))
    assert inbox(hub) == [], "a wrong option stops the run before it reads anything"

    first = flow.run(peers, RunOptions(entity_ids=asked))
    assert (first.read, first.changed, first.delivered) == (2, 2, 4)
    assert copied(staging, "COPY") == copied(staging, "MIRROR") == {names[k] for k in asked}
    status = {json.loads(m.headers)["key"]: m.status for m in inbox(hub)}
    assert len(status) == 8, "the pull read every record: they wait in the inbox"
    assert {k for k, s in status.items() if s == InboxStatus.PROCESSED} == set(asked)
    assert {s for k, s in status.items() if k not in asked} == {InboxStatus.RECEIVED}
    assert pull(hub, erp, SPEC).read == 0, "the cursor moved on: nothing is read twice"

    later = flow.run(peers, RunOptions())  # a run without entity ids takes the others
    assert (later.read, later.changed, later.delivered) == (6, 6, 12)
    assert copied(staging, "COPY") == copied(staging, "MIRROR") == set(names.values())
    assert {m.status for m in inbox(hub)} == {InboxStatus.PROCESSED}


def test_a_run_for_some_targets_keeps_the_others_deliveries_queued_for_a_later_run(
    hub: Hub, staging: Staging, erp: ErpSqlConnector
) -> None:
    flow, peers = copies_flow(), Peers(hub, erp)
    names = {r["name"] for r in staging.rows("erp_customer_out")}
    with pytest.raises(PermanentError, match=r"'crm'; valid targets: erp, erp_copy, mirror"):
        flow.run(peers, RunOptions(targets=["crm"]))
    with pytest.raises(PermanentError, match="copies: targets is empty"):
        flow.run(peers, RunOptions(targets=[]))
    assert inbox(hub) == [], "a wrong option stops the run before it reads anything"

    first = flow.run(peers, RunOptions(targets=["erp"]))  # the role: its system erp_copy
    assert (first.changed, first.delivered) == (5, 5)
    assert (copied(staging, "COPY"), copied(staging, "MIRROR")) == (names, set())
    with hub.begin() as hs:
        queued = list(
            hs.session.scalars(select(Delivery).where(Delivery.target_system == "mirror"))
        )
    assert [(d.status, d.attempts) for d in queued] == [(DeliveryStatus.PENDING, 0)] * 5
    assert flow.run(peers, RunOptions(targets=["erp_copy"])).delivered == 0  # by system name

    later = flow.run(peers, RunOptions())  # every target: the queued copies go out
    assert later.delivered == 5 and copied(staging, "MIRROR") == names
    with hub.begin() as hs:
        states = {d.status for d in hs.session.scalars(select(Delivery))}
    assert states == {DeliveryStatus.DELIVERED}
