"""Canonical <-> Tryton (the erp_tryton connector's records): parties, products, sales,
customer shipments and invoices.

Read records are Tryton's own, nested as the connector reads them (``party.code`` is
``record["party"]["code"]``; see ``connectors/erp_tryton/feeds.py``); write records name other
records by code (party code, product code, country code, unit symbol) and the connector finds
their ids. The rules are in the ``*.yaml`` files next to this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from canonical.models import Customer, Invoice, Product, SalesOrder, Shipment
from mappings.engine import Mapped, load_mapping

SYSTEM = "erp_tryton"
HERE = Path(__file__).parent


def _map(name: str, record: Any, **params: Any) -> Mapped:
    given = {k: v for k, v in params.items() if v is not None}
    return load_mapping(HERE / f"{name}.yaml").map(record, params=given)


def _write(name: str, record: Any, **params: Any) -> dict[str, Any]:
    value: dict[str, Any] = _map(name, record, **params).value
    return value


# -- canonical -> Tryton write records ---------------------------------------------------


def party_to_tryton(customer: Customer, *, code: str | None = None) -> dict[str, Any]:
    """The party write record; ``code`` when the Tryton party is known (else found by e-mail)."""
    return _write("party.from_canonical", customer, code=code)


def product_to_tryton(product: Product, *, category: str | None = None) -> dict[str, Any]:
    """The product write record; ``category``: the account category a new product gets."""
    return _write("product.from_canonical", product, category=category)


def sale_to_tryton(order: SalesOrder, *, party: str, state: str | None = None) -> dict[str, Any]:
    """The sale write record for the party with code ``party``; ``state``: draft, quotation
    or confirmed (default)."""
    return _write("sale.from_canonical", order, party=party, state=state)


# -- Tryton read records -> canonical ----------------------------------------------------


def customer_from_tryton(record: Any, *, kind: str | None = None) -> Customer:
    value = _map("party.to_canonical", record, kind=kind).value
    assert isinstance(value, Customer)
    return value


def product_from_tryton(record: Any, *, currency: str | None = None) -> Product:
    value = _map("product.to_canonical", record, currency=currency).value
    assert isinstance(value, Product)
    return value


def sales_order_from_tryton(record: Any) -> SalesOrder:
    value = _map("sale.to_canonical", record).value
    assert isinstance(value, SalesOrder)
    return value


def shipment_from_tryton(record: Any) -> Shipment:
    value = _map("shipment.to_canonical", record).value
    assert isinstance(value, Shipment)
    return value


def invoice_from_tryton(record: Any) -> Invoice:
    value = _map("invoice.to_canonical", record).value
    assert isinstance(value, Invoice)
    return value


def key_of(name: str, record: Any) -> str | None:
    """The Tryton id a read record is kept under in the cross-reference table."""
    return _map(f"{name}.to_canonical", record).key
