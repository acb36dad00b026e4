"""Incremental reads of the ERP connector beyond the contract: timestamp boundaries, changes
behind the bookmark, FlowFields (inventory, payment status), settings from a connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr

from canonical.errors import PermanentError
from connectors.base import RawRecord
from connectors.connection import parse_connection
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings
from connectors.transports.soap import RetryPolicy
from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from tests.connectors.contract import drain

FAST = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02, jitter=0)
CUSTOMER, ITEM = PAGES["Customer"], PAGES["Item"]


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread()
    yield handle
    handle.stop()


@pytest.fixture
def seeded() -> Iterator[ErpHandle]:
    handle = start_in_thread(seed=1)
    handle.app.store.allow_negative_inventory = True
    yield handle
    handle.stop()


def connector(erp: ErpHandle, **overrides: Any) -> ErpSoapConnector:
    values: dict[str, Any] = {"base_url": erp.base_url, "retry": FAST, **overrides}
    return ErpSoapConnector(ErpSoapSettings(**values))


class FrozenClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def add_customers(erp: ErpHandle, n: int) -> list[str]:
    return [
        str(erp.app.store.create(CUSTOMER, {"Name": f"Same Second {i}"})["No"]) for i in range(n)
    ]


def change(erp: ErpHandle, no: str, **fields: Any) -> None:
    current = erp.app.store.read(CUSTOMER, no)
    assert current is not None
    erp.app.store.update(CUSTOMER, {"Key": current["Key"], **fields})


def test_records_sharing_the_watermark_timestamp_come_once_and_none_is_skipped(
    erp: ErpHandle,
) -> None:
    clock = FrozenClock()
    erp.app.store.clock = clock
    erp_soap = connector(erp, page_size=3)
    first = add_customers(erp, 7)  # 7 records, one timestamp, three pages
    keys, cursor = drain(erp_soap, "customers", None)
    assert keys == first
    more = add_customers(erp, 2)  # the same timestamp as the watermark
    keys, cursor = drain(erp_soap, "customers", cursor)
    assert keys == more
    clock.now += timedelta(milliseconds=1)
    change(erp, first[0], City="Wels")
    keys, cursor = drain(erp_soap, "customers", cursor)
    assert keys == [first[0]]
    assert drain(erp_soap, "customers", cursor)[0] == []


def test_a_record_changed_behind_the_bookmark_during_a_read_comes_in_the_next_read(
    erp: ErpHandle,
) -> None:
    clock = FrozenClock()
    erp.app.store.clock = clock
    nos = add_customers(erp, 6)
    erp_soap = connector(erp, page_size=2)
    pages = erp_soap.read("customers", None)
    cursor = next(pages).cursor  # C00010, C00011 read
    for no, later in ((nos[0], 1), (nos[5], 2)):  # behind the bookmark, then ahead of it
        clock.now += timedelta(seconds=later)
        change(erp, no, City="Steyr")
    seen: list[str] = []
    for page in pages:
        seen.extend(r.key for r in page.records)
        cursor = page.cursor
    assert seen == nos[2:]  # C00015 with its newest stamp; C00010's change is behind
    keys, cursor = drain(erp_soap, "customers", cursor)
    assert keys == [nos[0]], "the change behind the bookmark was skipped"
    assert drain(erp_soap, "customers", cursor)[0] == []


def test_an_inventory_change_by_a_posted_shipment_returns_the_item(seeded: ErpHandle) -> None:
    erp_soap = connector(seeded)
    _, cursor = drain(erp_soap, "items", None)
    store, item = seeded.app.store, "TDM-MUG-BLK-350"
    before = Decimal(store.records["Item"][item]["Inventory"])
    order = store.create(
        PAGES["Sales_Order"],
        {
            "Sell_to_Customer_No": "C00012",
            "SalesLines": [{"Type": "Item", "No": item, "Quantity": "3"}],
        },
    )
    seeded.app.posting.post_shipment(str(order["No"]))
    pages = list(erp_soap.read("items", cursor))
    changed = [r for p in pages for r in p.records]
    assert [r.key for r in changed] == [item]
    assert changed[0].data["Inventory"] == before - 3
    assert drain(erp_soap, "items", pages[-1].cursor)[0] == []


def test_payments_change_an_invoice_until_it_is_closed(seeded: ErpHandle) -> None:
    erp_soap = connector(seeded)
    records: list[RawRecord] = []
    cursor: str | None = None
    for page in erp_soap.read("posted_invoices", None):
        records.extend(page.records)
        cursor = page.cursor
    open_invoice = next(r for r in records if not r.data["Closed"])
    remaining = open_invoice.data["Remaining_Amount"]
    seeded.app.posting.register_payment(open_invoice.key, Decimal("0.01"))
    changed = [r for p in erp_soap.read("posted_invoices", cursor) for r in p.records]
    assert [(r.key, r.data["Remaining_Amount"]) for r in changed] == [
        (open_invoice.key, remaining - Decimal("0.01"))
    ]
    assert changed[0].version != open_invoice.version
    _, cursor = drain(erp_soap, "posted_invoices", cursor)
    seeded.app.posting.register_payment(open_invoice.key, remaining - Decimal("0.01"))
    paid = [r for p in erp_soap.read("posted_invoices", cursor) for r in p.records]
    assert [(r.key, r.data["Closed"], r.data["Remaining_Amount"]) for r in paid] == [
        (open_invoice.key, True, Decimal(0))
    ]


def test_posted_documents_are_read_by_number_with_their_lines(seeded: ErpHandle) -> None:
    erp_soap = connector(seeded, page_size=25)
    pages = list(erp_soap.read("posted_shipments", None))
    shipments = [r for p in pages for r in p.records]
    assert len(pages) == 3 and len(shipments) == seeded.app.store.count("Posted_Sales_Shipment")
    first = shipments[0].data
    assert first["Order_No"] and first["SalesShipmLines"]["Posted_Sales_Shipment_Line"]


def test_settings_from_a_connection_uri_with_stream_changes() -> None:
    conn = parse_connection(
        "erp_soap",
        "http://svc:p%40ss@erp.example:7047/DynamicsNAV/WS/CRONUS/Page?__extra__="
        + json.dumps(
            {
                "page_size": 250,
                "pages": {"item": "Item_Card"},
                "streams": {
                    "items": {"watch_fields": []},
                    "posted_shipments": None,
                    "open_orders": {"page": "sales_order", "modified_field": "SystemModifiedAt"},
                },
            }
        ),
    )
    settings = ErpSoapSettings.from_connection(conn, lookback_seconds=60)
    assert settings.base_url == "http://erp.example:7047/DynamicsNAV/WS/CRONUS/Page/"
    assert settings.username == "svc"
    assert settings.password is not None and settings.password.get_secret_value() == "p@ss"
    assert (settings.page_size, settings.lookback_seconds) == (250, 60)
    assert settings.page_name("item") == "Item_Card"
    assert settings.page_name("customer") == "Customer"
    streams = settings.streams
    assert "posted_shipments" not in streams
    assert streams["items"].watch_fields == ()
    assert streams["items"].modified_field == "Last_DateTime_Modified"
    assert streams["open_orders"].modified_field == "SystemModifiedAt"
    erp_soap = ErpSoapConnector(settings)
    assert sorted(erp_soap.streams) == [
        "customers",
        "items",
        "open_orders",
        "posted_invoices",
        "sales_orders",
        "shipment_postings",  # write-only: the posting codeunit, not a page
    ]
    assert erp_soap.streams["items"].client.page == "Item_Card"  # type: ignore[attr-defined]


def test_invalid_settings_name_the_field_and_not_the_password() -> None:
    conn = parse_connection(
        "erp_soap",
        json.dumps(
            {"conn_type": "http", "host": "erp", "password": "hunter2", "extra": {"page_size": 0}}
        ),
    )
    with pytest.raises(PermanentError, match="page_size") as caught:
        ErpSoapSettings.from_connection(conn)
    assert "hunter2" not in str(caught.value)


def test_a_stream_configured_for_another_page_reads_it(seeded: ErpHandle) -> None:
    streams = {"open_orders": {"page": "sales_order", "modified_field": "Last_Modified_Date_Time"}}
    erp_soap = connector(seeded, streams=streams)
    keys, _ = drain(erp_soap, "open_orders", None)
    assert len(keys) == seeded.app.store.count("Sales_Order")


def test_a_cursor_that_is_not_ours_is_a_permanent_error(erp: ErpHandle) -> None:
    with pytest.raises(PermanentError, match="cursor"):
        list(connector(erp).read("customers", "2026-01-01"))
    with pytest.raises(PermanentError, match="no stream 'vendors'"):
        list(connector(erp).read("vendors"))
    with pytest.raises(PermanentError, match="read-only"):
        connector(erp).write("posted_invoices", [{"No": "1"}])


def test_a_refused_login_is_reported_as_needing_a_fix_not_a_wait() -> None:
    erp = start_in_thread(credentials=("svc", "right"))
    try:
        wrong = connector(erp, username="svc", password=SecretStr("wrong"))
        health = wrong.health()
        assert (health.ok, health.transient) == (False, False)
        assert "401" in health.detail
        with pytest.raises(PermanentError, match="401"):
            list(wrong.read("customers"))
    finally:
        erp.stop()


def test_a_malformed_record_is_quarantined_once_with_its_field(erp: ErpHandle) -> None:
    nos = add_customers(erp, 3)
    erp.app.store.records["Customer"][nos[1]]["Credit_Limit_LCY"] = "n/a"
    erp_soap = connector(erp)
    pages = list(erp_soap.read("customers", None))
    quarantined = [q for p in pages for q in p.quarantined]
    assert [r.key for p in pages for r in p.records] == [nos[0], nos[2]]
    assert [(q.source, q.reason) for q in quarantined] == [
        (
            f"Customer {nos[1]}",
            "field Credit_Limit_LCY: 'n/a' is not a valid decimal (InvalidOperation)",
        )
    ]
    assert b"<Credit_Limit_LCY>n/a</Credit_Limit_LCY>" in quarantined[0].raw
    again = list(erp_soap.read("customers", pages[-1].cursor))
    assert [q for p in again for q in p.quarantined] == []  # reported once, not every read
    change(erp, nos[1], City="Enns")  # changed again (and still malformed): reported again
    erp.app.store.records["Customer"][nos[1]]["Credit_Limit_LCY"] = "n/a"
    later = list(erp_soap.read("customers", again[-1].cursor))
    assert [q.source for p in later for q in p.quarantined] == [f"Customer {nos[1]}"]


def test_a_record_without_a_stamp_is_read_once_then_when_it_changes(erp: ErpHandle) -> None:
    nos = add_customers(erp, 2)
    del erp.app.store.records["Customer"][nos[0]]["Last_Modified_Date_Time"]  # never stamped
    erp_soap = connector(erp)
    keys, cursor = drain(erp_soap, "customers", None)
    assert keys == nos
    assert drain(erp_soap, "customers", cursor)[0] == []
    change(erp, nos[0], City="Ried")
    assert drain(erp_soap, "customers", cursor)[0] == [nos[0]]
