"""Tryton 8.2 on loopback: a sale goes through the real ERP over JSON-RPC; the demo data is in."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sandbox.tryton import data
from sandbox.tryton.rpc import LoginFailed, TrytonClient, TrytonError
from sandbox.tryton.server import TrytonHandle
from sandbox.webshop.catalog import PRODUCTS

ROOT = Path(__file__).resolve().parents[2]


def _party_with_address(client: TrytonClient) -> tuple[int, int]:
    party = client.search_read("party.party", [("addresses", "!=", None)], ["addresses"])[-1]
    return party["id"], party["addresses"][0]


def _stocked_products(client: TrytonClient, count: int) -> list[dict[str, Any]]:
    storage = client.search_read("stock.location", [("code", "=", "STO")], ["id"])[0]["id"]
    rows = client.search_read(
        "product.product",
        [("code", "like", "TDM-%")],
        [
            "code",
            "quantity",
            "list_price_used",
            "default_uom",
            "account_category.customer_taxes_used",
        ],
        locations=[storage],
    )
    return [row for row in rows if row["quantity"] >= 10][:count]


def _create_sale(client: TrytonClient) -> int:
    party, address = _party_with_address(client)
    lines = [
        {
            "product": product["id"],
            "quantity": float(quantity),
            "unit": product["default_uom"],
            "unit_price": product["list_price_used"],
            "taxes": [("add", product["account_category."]["customer_taxes_used"])],
        }
        for product, quantity in zip(_stocked_products(client, 2), (2, 3), strict=True)
    ]
    values = {
        "party": party,
        "invoice_address": address,
        "shipment_address": address,
        "reference": "WEB-1250",
        "lines": [("create", lines)],
    }
    (sale_id,) = client.model("sale.sale", "create", [values])
    return int(sale_id)


def _sale(client: TrytonClient, sale_id: int) -> dict[str, Any]:
    fields = ["state", "shipments", "invoices", "untaxed_amount", "shipment_state"]
    (row,) = client.model("sale.sale", "read", [sale_id], fields)
    return dict(row)


def test_a_sale_is_quoted_confirmed_shipped_and_invoiced(tryton_admin: TrytonClient) -> None:
    client = tryton_admin
    sale_id = _create_sale(client)
    client.model("sale.sale", "quote", [sale_id])
    client.model("sale.sale", "confirm", [sale_id])
    if _sale(client, sale_id)["state"] == "confirmed":  # processed at once without a worker
        client.model("sale.sale", "process", [sale_id])
    sale = _sale(client, sale_id)
    assert sale["state"] == "processing"
    assert len(sale["shipments"]) == 1
    assert len(sale["invoices"]) == 1
    assert sale["untaxed_amount"] > Decimal(0)

    shipments = sale["shipments"]
    for transition in ("assign_try", "pick", "pack", "do"):
        client.model("stock.shipment.out", transition, shipments)
    (shipment,) = client.model("stock.shipment.out", "read", shipments, ["state"])
    assert shipment["state"] == "done"

    client.model("account.invoice", "post", sale["invoices"])
    (invoice,) = client.model(
        "account.invoice", "read", sale["invoices"], ["state", "number", "total_amount"]
    )
    assert invoice["state"] == "posted"
    assert invoice["number"]
    assert invoice["total_amount"] > sale["untaxed_amount"]  # 19% VAT on goods
    assert _sale(client, sale_id)["shipment_state"] == "sent"


def test_an_invalid_sale_is_refused_with_the_field_named(tryton_admin: TrytonClient) -> None:
    party, _address = _party_with_address(tryton_admin)
    product = _stocked_products(tryton_admin, 1)[0]
    line = {"product": product["id"], "quantity": 1.0, "unit": product["default_uom"]}
    with pytest.raises(TrytonError, match='required for field "Unit Price"') as caught:
        tryton_admin.model("sale.sale", "create", [{"party": party, "lines": [("create", [line])]}])
    assert caught.value.kind == "UserError"


def test_the_demo_company_has_customers_products_stock_and_orders(
    tryton_admin: TrytonClient,
) -> None:
    client = tryton_admin
    assert client.model("party.party", "search_count", []) >= 200
    assert client.model("party.address", "search_count", [("country", "=", None)]) == 0
    products = client.search_read("product.product", [], ["code", "cost_price"])
    codes = {row["code"] for row in products}
    assert len(codes) >= 50
    assert all(row["cost_price"] > 0 for row in products)
    assert {product.sku for product in PRODUCTS} <= codes
    assert _stocked_products(client, 10)
    (company,) = client.search_read("company.company", [], ["rec_name"])
    assert company["rec_name"] == data.COMPANY_NAME
    states = {row["state"] for row in client.search_read("sale.sale", [], ["state"])}
    assert {"draft", "quotation", "processing"} <= states
    assert client.model("stock.shipment.out", "search_count", [("state", "=", "done")]) >= 10
    assert client.model("account.invoice", "search_count", [("state", "=", "posted")]) >= 10


def test_seed_data_is_the_same_on_every_build() -> None:
    assert data.parties() == data.parties()
    assert data.products() == data.products()
    assert data.open_orders(300, data.products()) == data.open_orders(300, data.products())


def test_a_wrong_password_is_refused(tryton: TrytonHandle) -> None:
    with TrytonClient(tryton.url, tryton.database) as client:
        with pytest.raises(LoginFailed, match="401"):
            client.login(tryton.login, "not-the-password")
        with pytest.raises(LoginFailed):  # and no session was opened
            client.model("party.party", "search_count", [])


def test_the_admin_password_file_is_private(tryton: TrytonHandle) -> None:
    mode = stat.S_IMODE(tryton.password_file.stat().st_mode)
    assert mode == 0o600
    assert tryton.password not in repr(tryton)


def test_the_command_serves_a_fresh_copy_and_stops_cleanly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "sandbox.tryton", "--port", "0", "--workdir", str(tmp_path)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("Tryton 8.2 ready on http://127.0.0.1:"), ready
        password = (tmp_path / "admin-password").read_text().strip()
        assert password not in ready
        url = ready.split()[4].rstrip("/")
        with TrytonClient(url, "tandem") as client:
            client.login("admin", password)
            # A fresh copy: only the seeded sales, none made by other tests.
            seeded = len(data.open_orders(1, data.products()))
            assert client.model("sale.sale", "search_count", []) == seeded
        trytond_pid = int((tmp_path / "trytond.pid").read_text())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    with pytest.raises(ProcessLookupError):
        os.kill(trytond_pid, 0)
