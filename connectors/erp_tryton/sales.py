"""Writing sales idempotently by ``reference`` (the web shop's order number): create, quote,
confirm.

A write record (what ``mappings/tryton/sale.from_canonical.yaml`` makes)::

    {"reference": "WEB-1250", "party": "C-1001", "sale_date": date(2026, 5, 4),
     "currency": "EUR", "comment": "...", "state": "confirmed",
     "shipment_address": {"street": ..., "city": ..., "postal_code": ..., "country": "DE"},
     "lines": [{"product": "TDM-GSK-085", "quantity": Decimal("2"), "unit": "u",
                "unit_price": Decimal("6.90"), "description": "..."}]}

``party`` is the party's code. A sale with that reference already in Tryton is not created
again: it is only moved on to the wanted ``state`` (``draft``, ``quotation`` or ``confirmed``,
the default) when it is behind; its lines are Tryton's from then on. A new sale is created as a
draft, then quoted and confirmed as ``state`` asks; a line's price defaults to the product's
list price, its taxes are the product's customer taxes, its unit the product's sale unit. The
shipment and invoice addresses are the party's address with the same street, postal code, city
and country (added to the party when missing), else its first address.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack
from connectors.erp_tryton.changes import STAMP
from connectors.erp_tryton.lookups import Lookups, decimal, required
from connectors.erp_tryton.parties import PartyWriter, address_key
from connectors.erp_tryton.rpc import Row, TrytonRpc

STATES = ("draft", "quotation", "confirmed")
_PRODUCT_FIELDS = ("sale_uom", "list_price_used", "account_category.customer_taxes_used")


class SaleWriter:
    def __init__(self, rpc: TrytonRpc, parties: PartyWriter) -> None:
        self.rpc = rpc
        self.parties = parties
        self.lookups: Lookups = parties.lookups

    def find(self, reference: str) -> Row | None:
        rows = self.rpc.search_read(
            "sale.sale",
            [("reference", "=", reference)],
            ["number", "state"],
            limit=1,
            order=(("id", "ASC"),),
        )
        return rows[0] if rows else None

    def write(self, record: Mapping[str, Any]) -> Ack:
        reference = str(record.get("reference") or "").strip()
        what = f"Tryton sale {reference or '<no reference>'}"
        required(record, "reference", what=what)
        target = str(record.get("state") or "confirmed")
        if target not in STATES:
            raise PermanentError(f"{what}: state: {target!r} is not one of {', '.join(STATES)}")
        current = self.find(reference)
        created = current is None
        if current is None:
            sale_id = self._create(record, what)
            state = "draft"
        else:
            sale_id, state = int(current["id"]), str(current["state"])
        self.advance(sale_id, state, target)
        return self._ack(reference, sale_id, created=created)

    def advance(self, sale_id: int, state: str, target: str) -> None:
        """Quote and confirm as far as ``target``, from ``state``; never backwards."""
        if state == "draft" and target in ("quotation", "confirmed"):
            self.rpc.button("sale.sale", "quote", [sale_id])
            state = "quotation"
        if state == "quotation" and target == "confirmed":
            self.rpc.button("sale.sale", "confirm", [sale_id])

    def _ack(self, reference: str, sale_id: int, *, created: bool) -> Ack:
        (row,) = self.rpc.read("sale.sale", [sale_id], ["number", "state", STAMP])
        stamp = row.get(STAMP)
        return Ack(
            key=reference,
            external_id=str(sale_id),
            version=stamp.isoformat() if stamp is not None else None,
            created=created,
            detail={"number": row.get("number"), "state": row.get("state")},
        )

    # -- a new sale ----------------------------------------------------------------------

    def _create(self, record: Mapping[str, Any], what: str) -> int:
        code = str(required(record, "party", what=what))
        party = self.parties.find_by_code(code)
        if party is None:
            raise PermanentError(f"{what}: party: {code!r} is not a known party code")
        values: dict[str, Any] = {
            "reference": str(record["reference"]).strip(),
            "party": int(party["id"]),
            "lines": [("create", self._lines(record, what))],
        }
        shipment = self._address(party, record.get("shipment_address"), what, "shipment_address")
        invoice = self._address(party, record.get("invoice_address"), what, "invoice_address")
        values["shipment_address"] = shipment
        values["invoice_address"] = invoice if invoice is not None else shipment
        if record.get("sale_date"):
            values["sale_date"] = record["sale_date"]
        if record.get("currency"):
            values["currency"] = self.lookups.need(
                "currency.currency", "code", record["currency"], what=what, path="currency"
            )
        if record.get("payment_term"):
            values["payment_term"] = self.lookups.need(
                "account.invoice.payment_term",
                "name",
                record["payment_term"],
                what=what,
                path="payment_term",
            )
        for text in ("description", "comment"):
            if record.get(text):
                values[text] = str(record[text])
        (sale_id,) = self.rpc.create("sale.sale", [values])
        return sale_id

    def _address(
        self, party: Row, address: Mapping[str, Any] | None, what: str, path: str
    ) -> int | None:
        known = party.get("addresses") or []
        if not address:
            return int(known[0]["id"]) if known else None
        wanted = address_key(
            address.get("street"), address.get("postal_code"), address.get("city"),
            address.get("country"),
        )  # fmt: skip
        for have in known:
            key = address_key(
                have.get("street_unstructured"), have.get("postal_code"), have.get("city"),
                (have.get("country") or {}).get("code"),
            )  # fmt: skip
            if key == wanted:
                return int(have["id"])
        values = self.parties.address_values(address, f"{what} {path}", 0)
        (address_id,) = self.rpc.create("party.address", [{"party": int(party["id"]), **values}])
        return address_id

    def _lines(self, record: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
        lines = record.get("lines") or []
        if not lines:
            raise PermanentError(f"{what}: lines: a sale needs at least one line")
        return [self._line(line, what, f"lines[{i}]") for i, line in enumerate(lines)]

    def _line(self, line: Mapping[str, Any], what: str, path: str) -> dict[str, Any]:
        code = str(required(line, "product", what=f"{what} {path}"))
        rows = self.rpc.search_read(
            "product.product", [("code", "=", code)], _PRODUCT_FIELDS, limit=1
        )
        if not rows:
            raise PermanentError(f"{what}: {path}.product: {code!r} is not a known product code")
        product = rows[0]
        quantity = decimal(required(line, "quantity", what=f"{what} {path}"), what=what,
                           path=f"{path}.quantity")  # fmt: skip
        if quantity <= 0:
            raise PermanentError(f"{what}: {path}.quantity: {quantity} is not above zero")
        unit = product.get("sale_uom")
        if line.get("unit"):
            unit = self.lookups.need(
                "product.uom", "symbol", line["unit"], what=what, path=f"{path}.unit"
            )
        price: Any = line.get("unit_price")
        price = (
            product.get("list_price_used")
            if price is None
            else decimal(price, what=what, path=f"{path}.unit_price")
        )
        if not isinstance(price, Decimal):
            raise PermanentError(f"{what}: {path}.unit_price: {code} has no list price")
        taxes = (product.get("account_category") or {}).get("customer_taxes_used") or []
        values: dict[str, Any] = {
            "type": "line",
            "product": int(product["id"]),
            "quantity": float(quantity),
            "unit": int(unit["id"]) if isinstance(unit, dict) else unit,
            "unit_price": price,
            "taxes": [("add", [int(t) for t in taxes])],
        }
        if line.get("description"):
            values["description"] = str(line["description"])
        return values
