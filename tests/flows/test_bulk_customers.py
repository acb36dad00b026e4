"""The bulk customer load: generated and real web shop customers into the hub, in partitions,
with duplicates absorbed, bad records quarantined and no-change runs touching no target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import RawRecord
from flows import bulk_customers
from flows.bulk_customers import Partition, generated, load, run_partition
from flows.registry import discovered
from flows.spec import RunOptions
from hub.engine import upgrade
from hub.schema import CanonicalRecord, Delivery, InboxMessage, InboxStatus, Xref
from hub.store import Hub
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.webshop.peer import start_in_thread as start_webshop
from tests.flows.customer_landscape import ERP_SECRET, ERP_USER, Landscape, PeerServices

TARGETS = ("crm", "erp_soap")


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    upgrade(url)
    hub = Hub(url)
    yield hub
    hub.close()


def count(hub: Hub, model: type, *where: sa.ColumnElement[bool]) -> int:
    with hub.begin() as hs:
        found = hs.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    return int(found or 0)


def xrefs(hub: Hub, system: str) -> list[Xref]:
    with hub.begin() as hs:
        return list(hs.session.scalars(sa.select(Xref).where(Xref.system == system)))


def test_generated_customers_load_once_and_a_rerun_touches_no_target(hub: Hub) -> None:
    first = load(hub, generated(range(1, 301)), TARGETS, batch=64)
    assert (first.created, first.deliveries) == (300, 600)
    assert first.duplicate == 3  # ids 3, 103, 203 are read twice
    assert count(hub, CanonicalRecord) == count(hub, Xref) == 300
    again = load(hub, generated(range(1, 301)), TARGETS, batch=64)
    assert (again.duplicate, again.created, again.deliveries) == (303, 0, 0)
    restamped = load(hub, generated(range(1, 301), restamp=5), TARGETS, batch=64)
    assert (restamped.unchanged, restamped.deliveries) == (300, 0)
    changed = load(hub, generated(range(1, 11), revision=1), TARGETS)
    assert (changed.changed, changed.deliveries) == (10, 20)
    assert count(hub, Delivery) == 620


def test_partitions_are_disjoint_and_together_load_everything(sqlite_hub: Hub) -> None:
    parts = [Partition(i, 3) for i in range(3)]
    created = [
        load(sqlite_hub, generated(range(1, 401), partition=p), TARGETS).created for p in parts
    ]
    assert sum(created) == 400 and all(n > 80 for n in created)
    assert count(sqlite_hub, Xref) == 400
    assert Partition.parse("2/3") == Partition(2, 3)
    with pytest.raises(ValueError, match="i/n"):
        Partition.parse("2-3")
    with pytest.raises(ValueError, match="does not exist"):
        Partition(3, 3)


def test_a_bad_customer_is_quarantined_and_the_batch_goes_on(sqlite_hub: Hub) -> None:
    good = list(generated(range(1, 6)))
    data = dict(good[1].data)
    data["billing"] = {**data["billing"], "country": "UK", "city": ""}
    bad = RawRecord("customers", good[1].key, data, version="bad")
    counts = load(sqlite_hub, [good[0], bad, *good[2:]], TARGETS)
    assert (counts.created, counts.quarantined) == (4, 1)
    with sqlite_hub.begin() as hs:
        error = hs.session.scalar(
            sa.select(InboxMessage.error).where(InboxMessage.status == InboxStatus.QUARANTINED)
        )
    assert error is not None and "webshop customer 2" in error
    assert "billing.country" in error and "billing.city" in error


def test_the_flow_reads_the_shops_customers_from_its_partition_cursor(sqlite_hub: Hub) -> None:
    shop, crm = start_webshop(seed=1), start_crm(seed=1)
    erp = start_erp(seed=1, credentials=(ERP_USER, ERP_SECRET))
    services = PeerServices(sqlite_hub, Landscape(shop, crm, erp))
    try:
        halves = [run_partition(services, RunOptions(), Partition(i, 2)) for i in range(2)]
        rerun = run_partition(services, RunOptions(), Partition(0, 2))
        dry = run_partition(services, RunOptions(dry_run=True), Partition(0, 1))
    finally:
        services.close()
        shop.stop()
        crm.stop()
        erp.stop()
    customers = count(sqlite_hub, Xref, Xref.system == "webshop")
    assert sum(h.changed for h in halves) == customers == 399
    assert count(sqlite_hub, Delivery) == 2 * customers
    assert (rerun.read, rerun.changed) == (0, 0)  # nothing after the partition's cursor
    with sqlite_hub.begin() as hs:
        assert hs.get_cursor("bulk-customers.webshop.customers.0of2") is not None
    assert dry.read == 0 and "dry run" in dry.notes[0]


def test_the_flow_is_registered() -> None:
    assert bulk_customers.FLOW in discovered()


def test_a_run_for_some_customers_loads_only_them_and_leaves_the_cursor(sqlite_hub: Hub) -> None:
    shop, crm = start_webshop(seed=1), start_crm(seed=1)
    erp = start_erp(seed=1, credentials=(ERP_USER, ERP_SECRET))
    services = PeerServices(sqlite_hub, Landscape(shop, crm, erp))
    people = [c for c in shop.api.store.data.customers.values() if c["role"] == "customer"]
    asked = [str(people[0]["id"]), str(people[-1]["id"])]
    try:
        some = bulk_customers.FLOW.run(services, RunOptions(entity_ids=asked))
        loaded = {x.external_id for x in xrefs(sqlite_hub, "webshop")}
        with sqlite_hub.begin() as hs:
            cursor = hs.get_cursor("bulk-customers.webshop.customers.0of1")
        rest = bulk_customers.FLOW.run(services, RunOptions(targets=["crm"]))
    finally:
        services.close()
        shop.stop()
        crm.stop()
        erp.stop()
    assert (some.changed, loaded, cursor) == (2, set(asked), None)
    assert rest.changed == 397, "the others were read by the next run, none skipped"
    assert count(sqlite_hub, Delivery) == 2 * 399, "queued for both: the ERP's wait"
