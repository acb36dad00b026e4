"""What each stream reads from Tryton: the model, its fields (dotted reads come back nested),
the parts whose changes count, and what is added after reading (a shipment's sales...).

The records are Tryton's own, nested: ``party.code`` is ``record["party"]["code"]``, a sale's
lines are ``record["lines"]``, an address's country ``address["country"]["code"]``. The
mapping files in ``mappings/tryton/`` read exactly these shapes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.erp_tryton.changes import Dependent, Feed
from connectors.erp_tryton.rpc import Row, TrytonRpc

ACTIVE_OR_NOT = (["OR", ("active", "=", True), ("active", "=", False)],)

ADDRESS_FIELDS = (
    "party_name",
    "street",
    "street_unstructured",
    "postal_code",
    "city",
    "country.code",
    "subdivision.code",
    "invoice",
    "delivery",
)


def _address(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}" for name in ADDRESS_FIELDS)


PARTIES = Feed(
    model="party.party",
    fields=(
        "code",
        "name",
        "active",
        "email",
        "phone",
        "lang.code",
        *_address("addresses"),
        "contact_mechanisms.type",
        "contact_mechanisms.value",
        "contact_mechanisms.name",
    ),
    domain=ACTIVE_OR_NOT,
    dependents=(
        Dependent("party.address", "party"),
        Dependent("party.contact_mechanism", "party"),
    ),
)

PRODUCTS = Feed(
    model="product.product",
    fields=(
        "code",
        "name",
        "description",
        "active",
        "type",
        "salable",
        "list_price_used",
        "cost_price",
        "default_uom.symbol",
        "sale_uom.symbol",
        "account_category.name",
        "template.name",
    ),
    domain=ACTIVE_OR_NOT,
    dependents=(Dependent("product.template", "products"),),
)

SALES = Feed(
    model="sale.sale",
    fields=(
        "number",
        "reference",
        "state",
        "shipment_state",
        "invoice_state",
        "party.code",
        "party.name",
        "sale_date",
        "currency.code",
        "untaxed_amount",
        "tax_amount",
        "total_amount",
        "description",
        "comment",
        "payment_term.name",
        *_address("shipment_address"),
        *_address("invoice_address"),
        "lines.type",
        "lines.product.code",
        "lines.description",
        "lines.quantity",
        "lines.unit.symbol",
        "lines.unit_price",
        "lines.amount",
        "shipments",
        "invoices",
    ),
    dependents=(Dependent("sale.line", "sale"),),
)


def _origin_line(origin: Any) -> int | None:
    if isinstance(origin, str) and origin.startswith("sale.line,"):
        return int(origin.split(",", 1)[1])
    return None


def _add_sales_of_shipments(rpc: TrytonRpc, rows: list[Row]) -> None:
    """``sales``: the sales (number, reference) whose lines the shipment's moves deliver."""
    lines = {
        line
        for row in rows
        for move in row.get("outgoing_moves") or []
        if (line := _origin_line(move.get("origin"))) is not None
    }
    sale_of: dict[int, Row] = {}
    for row in rpc.read("sale.line", sorted(lines), ["sale.number", "sale.reference"]):
        if isinstance(row.get("sale"), dict):
            sale_of[int(row["id"])] = row["sale"]
    for row in rows:
        found: dict[int, Row] = {}
        for move in row.get("outgoing_moves") or []:
            origin = _origin_line(move.get("origin"))
            sale = sale_of.get(origin) if origin is not None else None
            if sale is not None:
                found.setdefault(int(sale["id"]), sale)
        row["sales"] = list(found.values())


SHIPMENTS = Feed(
    model="stock.shipment.out",
    fields=(
        "number",
        "reference",
        "state",
        "effective_date",
        "planned_date",
        "customer.code",
        "customer.name",
        "warehouse.code",
        *_address("delivery_address"),
        "outgoing_moves.product.code",
        "outgoing_moves.quantity",
        "outgoing_moves.unit.symbol",
        "outgoing_moves.state",
        "outgoing_moves.origin",
    ),
    extend=_add_sales_of_shipments,
)


def _add_sales_and_due_date(rpc: TrytonRpc, rows: list[Row]) -> None:
    """``sales`` as (number, reference) records, and ``due_date``: the earliest maturity of
    the lines to pay."""
    ids = sorted({int(s) for row in rows for s in row.get("sales") or []})
    sales = {int(s["id"]): s for s in rpc.read("sale.sale", ids, ["number", "reference"])}
    for row in rows:
        row["sales"] = [sales[int(s)] for s in row.get("sales") or [] if int(s) in sales]
        dates: list[date] = [
            d
            for line in row.get("lines_to_pay") or []
            if isinstance(d := line.get("maturity_date"), date)
        ]
        row["due_date"] = min(dates) if dates else None


INVOICES = Feed(
    model="account.invoice",
    fields=(
        "number",
        "reference",
        "type",
        "state",
        "party.code",
        "party.name",
        "invoice_date",
        "currency.code",
        "untaxed_amount",
        "tax_amount",
        "total_amount",
        "amount_to_pay",
        "payment_term.name",
        "lines_to_pay.maturity_date",
        "sales",
    ),
    domain=(("type", "=", "out"), ("number", "!=", None)),
    extend=_add_sales_and_due_date,
)

FEEDS: dict[str, Feed] = {
    "parties": PARTIES,
    "products": PRODUCTS,
    "sales": SALES,
    "shipments": SHIPMENTS,
    "invoices": INVOICES,
}
