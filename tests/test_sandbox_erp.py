"""The sandbox ERP speaks the NAV page web service protocol: WSDL, operations, Faults, knobs."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.helpers import serialize_object

from sandbox.erp_soap.codeunits import CODEUNITS
from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.erp_soap.wsdlgen import codeunit_wsdl_path, render, wsdl_path

ROOT = Path(__file__).resolve().parents[1]
CUSTOMER_NS = "urn:microsoft-dynamics-schemas/page/customer"
STALE = "Another user has modified the record"


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


def services(erp: ErpHandle) -> tuple[Any, Any]:
    customers = zeep.Client(erp.wsdl_url("Customer")).service
    orders = zeep.Client(erp.wsdl_url("Sales_Order")).service
    return customers, orders


def control(erp: ErpHandle, **knobs: Any) -> dict[str, Any]:
    if knobs:
        response = requests.post(f"{erp.url}/_control", json=knobs, timeout=5)
    else:
        response = requests.get(f"{erp.url}/_control", timeout=5)
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state


def raw_soap(erp: ErpHandle, page: str, body: str, action: str) -> requests.Response:
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )
    return requests.post(
        f"{erp.base_url}{page}",
        data=envelope.encode(),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action},
        timeout=5,
    )


def order(customer_no: str, ext: str, qty: int = 1, price: str = "10.00", **extra: Any) -> Any:
    line = {"Type": "Item", "No": "1000", "Quantity": qty, "Unit_Price": price}
    return {
        "Sell_to_Customer_No": customer_no,
        "External_Document_No": ext,
        "SalesLines": {"Sales_Order_Line": [line]},
        **extra,
    }


# -- contract ------------------------------------------------------------------------------


def test_wsdl_files_are_generated_from_the_page_table() -> None:
    for page in PAGES.values():
        assert wsdl_path(page.name).read_text(encoding="utf-8") == render(page)
    for codeunit in CODEUNITS.values():
        assert codeunit_wsdl_path(codeunit.name).read_text(encoding="utf-8") == render(codeunit)


@pytest.mark.parametrize("query", ["wsdl", "WSDL"])
def test_wsdl_is_served_in_nav_shape_with_this_servers_address(erp: ErpHandle, query: str) -> None:
    response = requests.get(f"{erp.base_url}Customer?{query}", timeout=5)
    assert response.status_code == 200
    doc = etree.fromstring(response.content)
    assert doc.get("targetNamespace") == CUSTOMER_NS
    soap = "http://schemas.xmlsoap.org/wsdl/soap/"
    actions = {op.get("soapAction") for op in doc.iter(f"{{{soap}}}operation")}
    assert {f"{CUSTOMER_NS}:{op}" for op in ("Read", "ReadMultiple", "Create", "Update")} <= actions
    address = doc.find(f".//{{{soap}}}address")
    assert address is not None
    assert address.get("location") == f"{erp.base_url}Customer"
    schema = doc.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    assert schema is not None
    etree.XMLSchema(schema)  # compiles on its own (declares tns itself)


def test_unknown_company_or_page_is_404(erp: ErpHandle) -> None:
    assert requests.get(f"{erp.url}/WS/OTHER/Page/Customer?wsdl", timeout=5).status_code == 404
    assert requests.get(f"{erp.base_url}Vendor?wsdl", timeout=5).status_code == 404
    assert requests.get(f"{erp.url}/_health", timeout=5).status_code == 200


# -- operations ----------------------------------------------------------------------------


def test_create_assigns_numbers_and_read_returns_the_record(erp: ErpHandle) -> None:
    customers, _ = services(erp)
    first = customers.Create(Customer={"Name": "Alpha GmbH", "E_Mail": "a@alpha.example"})
    second = customers.Create(Customer={"Name": "Beta AG"})
    assert (first.No, second.No) == ("C00010", "C00011")
    assert first.Key and first.Last_Modified_Date_Time is not None
    assert first.Last_Date_Modified is not None
    read = customers.Read(No="C00010")
    assert (read.Name, read.E_Mail, read.Key) == ("Alpha GmbH", "a@alpha.example", first.Key)
    assert customers.Read(No="C99999") is None


def test_read_multiple_pages_with_bookmark_key(erp: ErpHandle) -> None:
    customers, _ = services(erp)
    for i in range(5):
        customers.Create(Customer={"Name": f"Shop {i}", "City": "Berlin" if i % 2 else "Wien"})
    seen: list[str] = []
    bookmark = None
    while True:
        batch = customers.ReadMultiple(
            filter=[{"Field": "Name", "Criteria": "Shop*"}], bookmarkKey=bookmark, setSize=2
        )
        if not batch:
            break
        seen += [c.No for c in batch]
        bookmark = batch[-1].Key
    assert seen == ["C00010", "C00011", "C00012", "C00013", "C00014"]


def test_read_multiple_filters(erp: ErpHandle) -> None:
    customers, orders = services(erp)
    for name, city in [("Alpha", "Berlin"), ("Beta", "Wien"), ("alpine", "Graz")]:
        customers.Create(Customer={"Name": name, "City": city})

    def names(*filters: tuple[str, str]) -> list[str]:
        rows = customers.ReadMultiple(
            filter=[{"Field": f, "Criteria": c} for f, c in filters], setSize=0
        )
        return [r.Name for r in rows or []]

    assert names(("Name", "Al*")) == ["Alpha"]
    assert names(("Name", "@al*")) == ["Alpha", "alpine"]
    assert names(("City", "Berlin|Graz")) == ["Alpha", "alpine"]
    assert names(("Name", "Al*"), ("City", "Wien")) == []
    assert names(("No", "C00011..")) == ["Beta", "alpine"]
    assert names(("No", "<>C00011")) == ["Alpha", "alpine"]

    for day in ("2024-01-10", "2024-02-10", "2024-03-10"):
        orders.Create(Sales_Order=order("C00010", f"WEB-{day}", Order_Date=day))
    rows = orders.ReadMultiple(
        filter=[{"Field": "Order_Date", "Criteria": "2024-02-01..2024-03-31"}], setSize=10
    )
    assert [str(r.Order_Date) for r in rows] == ["2024-02-10", "2024-03-10"]


def test_update_needs_the_current_key(erp: ErpHandle) -> None:
    customers, _ = services(erp)
    created = customers.Create(Customer={"Name": "Gamma", "City": "Linz"})
    updated = customers.Update(Customer={"Key": created.Key, "City": "Graz"})
    assert (updated.City, updated.Name) == ("Graz", "Gamma")
    assert updated.Key != created.Key
    assert updated.Last_Modified_Date_Time >= created.Last_Modified_Date_Time
    with pytest.raises(Fault) as stale:
        customers.Update(Customer={"Key": created.Key, "City": "Salzburg"})
    assert STALE in stale.value.message
    assert stale.value.code == "a:Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException"
    assert customers.Read(No=created.No).City == "Graz"
    assert customers.IsUpdated(Key=created.Key) is True
    assert customers.IsUpdated(Key=updated.Key) is False


def test_delete_by_key(erp: ErpHandle) -> None:
    customers, _ = services(erp)
    created = customers.Create(Customer={"Name": "Delta"})
    assert customers.Delete(Key=created.Key) is True
    assert customers.Read(No=created.No) is None


def test_sales_order_lines_amounts_and_customer_data(erp: ErpHandle) -> None:
    customers, orders = services(erp)
    customers.Create(Customer={"Name": "Epsilon", "City": "Bern"})
    created = orders.Create(Sales_Order=order("C00010", "WEB-1", qty=3, price="9.99"))
    assert created.No == "SO-10001"
    assert (created.Sell_to_Customer_Name, created.Sell_to_City) == ("Epsilon", "Bern")
    [line] = created.SalesLines.Sales_Order_Line
    assert (line.Line_No, str(line.Line_Amount)) == (10000, "29.97")
    assert str(created.Amount_Including_VAT) == "29.97"
    added = {"Type": "Item", "No": "2000", "Quantity": 1, "Unit_Price": "1.00"}
    updated = orders.Update(
        Sales_Order={"Key": created.Key, "SalesLines": {"Sales_Order_Line": [added]}}
    )
    assert [ln.No for ln in updated.SalesLines.Sales_Order_Line] == ["1000", "2000"]
    assert str(updated.Amount_Including_VAT) == "30.97"


def test_business_rules_answer_with_faults(erp: ErpHandle) -> None:
    customers, orders = services(erp)
    with pytest.raises(Fault, match="Name must have a value"):
        customers.Create(Customer={"City": "Nowhere"})
    with pytest.raises(Fault, match="The Customer does not exist"):
        orders.Create(Sales_Order=order("C77777", "WEB-2"))
    customers.Create(Customer={"Name": "Zeta", "Credit_Limit_LCY": "100"})
    with pytest.raises(Fault, match="credit limit of customer C00010 has been exceeded"):
        orders.Create(Sales_Order=order("C00010", "WEB-3", qty=11))
    ok = orders.Create(Sales_Order=order("C00010", "WEB-4", qty=10))
    assert ok.No == "SO-10001"  # refused orders used no numbers


def test_invalid_request_is_a_client_fault(erp: ErpHandle) -> None:
    body = f'<ReadMultiple xmlns="{CUSTOMER_NS}"><setSize>many</setSize></ReadMultiple>'
    response = raw_soap(erp, "Customer", body, f"{CUSTOMER_NS}:ReadMultiple")
    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(".//faultcode")
    assert fault is not None
    assert fault.text == "s:Client"
    assert b"is not valid" in response.content
    unknown = raw_soap(
        erp,
        "Customer",
        f'<Create xmlns="{CUSTOMER_NS}"><Customer><Colour>red</Colour></Customer></Create>',
        f"{CUSTOMER_NS}:Create",
    )
    assert unknown.status_code == 500
    assert b"Colour" in unknown.content
    garbage = raw_soap(erp, "Customer", "<not closed", f"{CUSTOMER_NS}:Read")
    assert garbage.status_code == 500
    assert b"not well-formed" in garbage.content


def test_request_with_dtd_is_refused(erp: ErpHandle) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        f'<Read xmlns="{CUSTOMER_NS}"><No>&lol2;</No></Read></s:Body></s:Envelope>'
    )
    response = requests.post(
        f"{erp.base_url}Customer",
        data=laughs.encode(),
        headers={"SOAPAction": f"{CUSTOMER_NS}:Read"},
        timeout=5,
    )
    assert response.status_code == 500
    assert b"DTDs are not allowed" in response.content


def test_concurrent_creates_get_distinct_numbers(erp: ErpHandle) -> None:
    numbers: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        customers, _ = services(erp)
        for j in range(5):
            no = customers.Create(Customer={"Name": f"T{i}-{j}"}).No
            with lock:
                numbers.append(no)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(numbers) == 30
    assert len(set(numbers)) == 30


# -- state and knobs -----------------------------------------------------------------------


def test_restart_keeps_data(tmp_path: Path) -> None:
    state = tmp_path / "erp.json"
    erp = start_in_thread("127.0.0.1", 0, state_path=state)
    customers, orders = services(erp)
    customers.Create(Customer={"Name": "Eta"})
    first = orders.Create(Sales_Order=order("C00010", "WEB-9"))
    port = erp.port
    erp.stop()

    again = start_in_thread("127.0.0.1", port, state_path=state)
    try:
        customers, orders = services(again)
        kept = orders.Read(No=first.No)
        assert (kept.External_Document_No, kept.Key) == ("WEB-9", first.Key)
        assert serialize_object(kept)["SalesLines"]["Sales_Order_Line"][0]["No"] == "1000"
        assert orders.Create(Sales_Order=order("C00010", "WEB-10")).No == "SO-10002"
    finally:
        again.stop()


def test_control_knobs_and_counters(erp: ErpHandle) -> None:
    customers, _ = services(erp)
    customers.Read(No="C00010")
    state = control(erp, down=True, retry_after=2)
    assert state["down"] is True
    assert state["calls"] == {"Customer.Read": 1}
    with pytest.raises(zeep.exceptions.TransportError) as refused:
        customers.Read(No="C00010")
    assert refused.value.status_code == 503
    assert requests.get(f"{erp.url}/_health", timeout=5).status_code == 200
    state = control(erp, down=False, fail_next=1)
    with pytest.raises(zeep.exceptions.TransportError):
        customers.Read(No="C00010")
    assert customers.Read(No="C00010") is None
    state = control(erp)
    assert state["calls"] == {"Customer.Read": 4}
    assert state["rejected"] == {"Customer.Read": 2}
    bad = requests.post(f"{erp.url}/_control", json={"error_rate": 2}, timeout=5)
    assert bad.status_code == 400
    assert control(erp)["error_rate"] == 0.0


def test_error_rate_with_seed_is_reproducible(erp: ErpHandle) -> None:
    customers, _ = services(erp)

    def outcomes() -> list[bool]:
        control(erp, error_rate=0.5, seed=7)
        result = []
        for _ in range(12):
            try:
                customers.Read(No="C00010")
                result.append(True)
            except zeep.exceptions.TransportError:
                result.append(False)
        return result

    first = outcomes()
    assert first == outcomes()
    assert True in first
    assert False in first


def test_command_line_prints_ready_and_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.erp_soap", "--port", "0", "--state", str(tmp_path / "s")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "ready" in line
        assert "codeunits: SalesOrderPosting" in line
        assert "300 Customer, 200 Item" in line  # seeded by default (--seed 1)
        base = line.split(" on ")[1].split()[0]
        assert requests.get(f"{base}Customer?wsdl", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=5)
