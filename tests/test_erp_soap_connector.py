"""ERP SOAP connector against the sandbox ERP: idempotent writes, retries, faults, restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from canonical.errors import PermanentError, TransientError
from connectors.base import Ack
from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings, NavPageClient, exact
from connectors.transports.soap import RetryPolicy
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.erp_soap.wsdlgen import WSDL_DIR

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.01)


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


def connector_for(erp: ErpHandle, **overrides: Any) -> ErpSoapConnector:
    values: dict[str, Any] = {"base_url": erp.base_url, "retry": FAST, **overrides}
    return ErpSoapConnector(ErpSoapSettings(**values))


@pytest.fixture
def erp_connector(erp: ErpHandle) -> ErpSoapConnector:
    return connector_for(erp)


def control(erp: ErpHandle, **knobs: Any) -> dict[str, Any]:
    if knobs:
        response = requests.post(f"{erp.url}/_control", json=knobs, timeout=5)
    else:
        response = requests.get(f"{erp.url}/_control", timeout=5)
    state: dict[str, Any] = response.json()
    return state


def customer(email: str = "anna@example.com", **extra: Any) -> dict[str, Any]:
    return {"Name": "Anna Berger", "E_Mail": email, "City": "Linz", **extra}


def sales_order(customer_no: str, ext: str = "WEB-1001", qty: int = 2) -> dict[str, Any]:
    lines = [
        {
            "Type": "Item",
            "No": "1000",
            "Description": "Bolt",
            "Quantity": qty,
            "Unit_Price": "2.50",
        },
        {"Type": "Item", "No": "2000", "Quantity": 1, "Unit_Price": "10.00"},
    ]
    return {
        "Sell_to_Customer_No": customer_no,
        "External_Document_No": ext,
        "Order_Date": "2024-05-01",
        "SalesLines": {"Sales_Order_Line": lines},
    }


# -- customers -----------------------------------------------------------------------------


def test_customer_is_created_then_found_by_email_and_updated(
    erp_connector: ErpSoapConnector,
) -> None:
    first = erp_connector.write_customer(customer())
    assert first == Ack("anna@example.com", "C00010", first.version, created=True)
    second = erp_connector.write_customer(customer(City="Graz", Phone_No="+43 1 234"))
    assert (second.external_id, second.created) == ("C00010", False)
    assert second.version != first.version
    stored = erp_connector.customers.read("C00010")
    assert stored is not None
    assert (stored["City"], stored["Phone_No"]) == ("Graz", "+43 1 234")
    assert len(erp_connector.customers.read_multiple()) == 1


def test_unchanged_customer_is_not_written_again(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    first = erp_connector.write_customer(customer(Credit_Limit_LCY="500"))
    again = erp_connector.write_customer(customer(Credit_Limit_LCY=500))
    assert again == Ack(first.key, first.external_id, first.version, created=False)
    assert control(erp)["calls"].get("Customer.Update", 0) == 0


def test_email_with_filter_characters_matches_exactly(erp_connector: ErpSoapConnector) -> None:
    erp_connector.write_customer(customer("a*b|c@example.com"))
    other = erp_connector.write_customer(customer("aXb|c@example.com"))
    assert other.created is True
    found = erp_connector.customers.read_multiple([("E_Mail", exact("a*b|c@example.com"))])
    assert [c["No"] for c in found] == ["C00010"]


def test_customer_with_no_is_updated_after_a_stale_key(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    ack = erp_connector.write_customer(customer())
    snapshot = erp_connector.customers.read(ack.external_id)
    assert snapshot is not None
    # another user changes the customer after our connector read it
    other = connector_for(erp)
    other.write_customer({"No": ack.external_id, "Phone_No": "0800"})
    real_read = erp_connector.customers.read
    reads: list[str] = []

    def read_returning_the_old_snapshot_first(no: str) -> dict[str, Any] | None:
        reads.append(no)
        return snapshot if len(reads) == 1 else real_read(no)

    erp_connector.customers.read = read_returning_the_old_snapshot_first  # type: ignore[method-assign]
    result = erp_connector.write_customer({"No": ack.external_id, "City": "Wels"})
    assert (result.external_id, result.created) == (ack.external_id, False)
    stored = real_read(ack.external_id)
    assert stored is not None
    assert (stored["City"], stored["Phone_No"]) == ("Wels", "0800")
    assert control(erp)["faults"] == {"Customer.Update": 1}


def test_customer_with_unknown_no_is_created_with_that_no(
    erp_connector: ErpSoapConnector,
) -> None:
    ack = erp_connector.write_customer(customer(No="WEB-C-7"))
    assert (ack.external_id, ack.created) == ("WEB-C-7", True)


def test_invalid_customer_is_permanent_and_not_retried(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    with pytest.raises(PermanentError, match="Name must have a value"):
        erp_connector.write_customer({"E_Mail": "nameless@example.com"})
    assert control(erp)["calls"]["Customer.Create"] == 1
    with pytest.raises(PermanentError, match="Colour"):
        erp_connector.write_customer(customer(Colour="red"))


# -- sales orders --------------------------------------------------------------------------


def test_same_order_written_twice_is_one_erp_order(erp_connector: ErpSoapConnector) -> None:
    cust = erp_connector.write_customer(customer())
    first = erp_connector.write_sales_order(sales_order(cust.external_id))
    second = erp_connector.write_sales_order(sales_order(cust.external_id))
    assert first == Ack("WEB-1001", "SO-10001", first.version, created=True)
    assert second == Ack("WEB-1001", "SO-10001", first.version, created=False)
    stored = erp_connector.find_sales_order("WEB-1001")
    assert stored is not None
    assert str(stored["Amount_Including_VAT"]) == "15.00"
    lines = stored["SalesLines"]["Sales_Order_Line"]
    assert [(ln["No"], str(ln["Line_Amount"])) for ln in lines] == [
        ("1000", "5.00"),
        ("2000", "10.00"),
    ]
    assert len(erp_connector.sales_orders.read_multiple()) == 1


def test_order_whose_response_was_lost_is_not_created_twice(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    cust = erp_connector.write_customer(customer())
    impatient = connector_for(erp, operation_timeout=0.1)
    impatient.sales_orders.read_multiple()  # WSDL loaded before the server turns slow
    control(erp, latency_ms=300)
    with pytest.raises(TransientError):
        impatient.sales_orders.create(sales_order(cust.external_id))
    time.sleep(0.35)  # the ERP finishes the create the client gave up on
    control(erp, latency_ms=0)
    retried = erp_connector.write_sales_order(sales_order(cust.external_id))
    assert (retried.external_id, retried.created) == ("SO-10001", False)
    assert len(erp_connector.sales_orders.read_multiple()) == 1


def test_credit_limit_fault_is_permanent(erp: ErpHandle, erp_connector: ErpSoapConnector) -> None:
    cust = erp_connector.write_customer(customer(Credit_Limit_LCY="10"))
    with pytest.raises(PermanentError, match="credit limit"):
        erp_connector.write_sales_order(sales_order(cust.external_id, qty=2))
    assert control(erp)["calls"]["Sales_Order.Create"] == 1
    assert erp_connector.find_sales_order("WEB-1001") is None


def test_order_needs_external_document_no(erp_connector: ErpSoapConnector) -> None:
    order = sales_order("C00010")
    del order["External_Document_No"]
    with pytest.raises(PermanentError, match="External_Document_No"):
        erp_connector.write_sales_order(order)


def test_write_is_retried_through_503(erp: ErpHandle, erp_connector: ErpSoapConnector) -> None:
    cust = erp_connector.write_customer(customer())
    control(erp, fail_next=2)
    ack = erp_connector.write_sales_order(sales_order(cust.external_id))
    assert ack.created is True
    assert control(erp)["rejected"] == {"Sales_Order.ReadMultiple": 2}


def test_write_gives_up_while_the_erp_is_down(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    control(erp, down=True)
    with pytest.raises(TransientError, match="503"):
        erp_connector.write_sales_order(sales_order("C00010"))
    assert control(erp)["calls"] == {"Sales_Order.ReadMultiple": FAST.attempts}


def test_orders_survive_an_erp_restart(tmp_path: Path) -> None:
    state = tmp_path / "erp.json"
    erp = start_in_thread("127.0.0.1", 0, state_path=state)
    connector = connector_for(erp)
    cust = connector.write_customer(customer())
    first = connector.write_sales_order(sales_order(cust.external_id))
    port = erp.port
    erp.stop()
    assert connector.health().ok is False

    erp = start_in_thread("127.0.0.1", port, state_path=state)
    try:
        again = connector.write_sales_order(sales_order(cust.external_id))
        assert again == Ack("WEB-1001", first.external_id, first.version, created=False)
        second = connector.write_sales_order(sales_order(cust.external_id, ext="WEB-1002"))
        assert (second.external_id, second.created) == ("SO-10002", True)
    finally:
        erp.stop()


# -- reads and health ----------------------------------------------------------------------


def test_read_all_pages_with_bookmarks(erp: ErpHandle, erp_connector: ErpSoapConnector) -> None:
    for i in range(7):
        erp_connector.write_customer(customer(f"c{i}@example.com"))
    nos = [c["No"] for c in erp_connector.customers.read_all(page_size=3)]
    assert nos == [f"C000{n}" for n in range(10, 17)]
    assert control(erp)["calls"]["Customer.ReadMultiple"] >= 3 + 7


def test_local_wsdl_files_and_page_names(erp: ErpHandle) -> None:
    settings = ErpSoapSettings(base_url=erp.base_url.rstrip("/"), wsdl_dir=WSDL_DIR, retry=FAST)
    client = NavPageClient(settings.soap("customer"), settings.page_name("customer"))
    created = client.create({"Name": "Local WSDL"})
    assert client.read(created["No"]) == created
    assert client.is_updated(created["Key"]) is False
    assert client.delete(created["Key"]) is True
    assert client.read(created["No"]) is None


def test_health(erp: ErpHandle, erp_connector: ErpSoapConnector) -> None:
    healthy = erp_connector.health()
    assert healthy.ok is True
    assert healthy.seconds > 0
    control(erp, down=True)
    down = erp_connector.health()
    assert down.ok is False
    assert down.transient is True
    assert "503" in down.detail


# -- order changes and cancellations --------------------------------------------------------


def _order_lines(erp_connector: ErpSoapConnector, ext: str) -> list[dict[str, Any]]:
    found = erp_connector.find_sales_order(ext)
    assert found is not None
    return list(found["SalesLines"]["Sales_Order_Line"])


def test_changed_order_updates_lines_in_place(erp_connector: ErpSoapConnector) -> None:
    no = erp_connector.write_customer(customer()).external_id
    first = erp_connector.write_sales_order(sales_order(no, "WEB-7", qty=2))
    changed = sales_order(no, "WEB-7", qty=5)
    changed["SalesLines"]["Sales_Order_Line"].append(
        {"Type": "Item", "No": "3000", "Quantity": 4, "Unit_Price": "1.25"}
    )
    second = erp_connector.write_sales_order(changed)
    assert (second.external_id, second.created) == (first.external_id, False)
    lines = _order_lines(erp_connector, "WEB-7")
    assert [(line["No"], str(line["Quantity"])) for line in lines] == [
        ("1000", "5"),
        ("2000", "1"),
        ("3000", "4"),
    ]
    assert str(lines[0]["Line_Amount"]) == "12.50"


def test_removed_line_is_deleted_and_unchanged_order_sends_nothing(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    no = erp_connector.write_customer(customer()).external_id
    erp_connector.write_sales_order(sales_order(no, "WEB-8"))
    shorter = sales_order(no, "WEB-8")
    shorter["SalesLines"]["Sales_Order_Line"].pop()
    erp_connector.write_sales_order(shorter)
    assert [line["No"] for line in _order_lines(erp_connector, "WEB-8")] == ["1000"]
    updates_before = control(erp)["calls"].get("Sales_Order.Update", 0)
    erp_connector.write_sales_order(shorter)
    assert control(erp)["calls"].get("Sales_Order.Update", 0) == updates_before


def test_released_order_is_not_changed_from_outside(erp_connector: ErpSoapConnector) -> None:
    no = erp_connector.write_customer(customer()).external_id
    ack = erp_connector.write_sales_order(sales_order(no, "WEB-9"))
    current = erp_connector.find_sales_order("WEB-9")
    assert current is not None
    erp_connector.sales_orders.update(
        {"No": ack.external_id, "Key": current["Key"], "Status": "Released"}
    )
    with pytest.raises(PermanentError, match=r"is Released in the ERP"):
        erp_connector.write_sales_order(sales_order(no, "WEB-9", qty=9))
    with pytest.raises(PermanentError, match="cannot be cancelled"):
        erp_connector.cancel_sales_order("WEB-9")


def test_cancellation_deletes_an_open_order_once(erp_connector: ErpSoapConnector) -> None:
    no = erp_connector.write_customer(customer()).external_id
    ack = erp_connector.write_sales_order(sales_order(no, "WEB-10"))
    cancelled = erp_connector.cancel_sales_order("WEB-10")
    assert cancelled is not None and cancelled.external_id == ack.external_id
    assert erp_connector.find_sales_order("WEB-10") is None
    assert erp_connector.cancel_sales_order("WEB-10") is None  # replay: nothing left to do


def test_replay_after_the_erp_shipped_and_invoiced_creates_nothing(
    erp: ErpHandle, erp_connector: ErpSoapConnector
) -> None:
    import zeep

    no = erp_connector.write_customer(customer()).external_id
    first = erp_connector.write_sales_order(sales_order(no, "WEB-11"))
    posting: Any = zeep.Client(erp.codeunit_wsdl_url("SalesOrderPosting")).service
    posting.PostShipment(
        orderNo=first.external_id, shipLines={}, shippingAgentCode="DHL", packageTrackingNo="1Z"
    )
    posting.PostInvoice(orderNo=first.external_id)
    assert erp_connector.find_sales_order("WEB-11") is None  # NAV removed the finished order
    again = erp_connector.write_sales_order(sales_order(no, "WEB-11"))
    assert (again.external_id, again.created) == (first.external_id, False)
    assert erp_connector.find_sales_order("WEB-11") is None  # and nothing was created


def test_a_dropped_connection_is_transient_and_retried(erp: ErpHandle) -> None:
    connector = connector_for(erp, retry=RetryPolicy(attempts=2, initial_wait=0.01))
    control(erp, drop_rate=1.0)
    with pytest.raises(TransientError):
        connector.write_customer(customer())
    assert control(erp)["drop_rate"] == 1.0  # the control endpoint is never dropped
    control(erp, drop_rate=0.0)
    assert connector.write_customer(customer()).created
