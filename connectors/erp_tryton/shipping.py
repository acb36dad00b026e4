"""Completing a sale's customer shipment when the warehouse says it left: assign, pick, pack,
done.

A write record of the ``shipments`` stream::

    {"sale": "WEB-1250", "reference": "SH00000042",
     "lines": [{"product": "TDM-GSK-085", "quantity": Decimal("2")}]}

``sale`` is the sale's ``reference`` (the web shop's order number), ``reference`` the
warehouse's shipment id, written to the shipment's ``reference``. The writer takes the sale's
customer shipment with that reference, else its first one not done or cancelled, checks that
the quantities are the shipment's (a partial shipment is refused: Tryton would need its moves
split, which a person does there), then runs ``assign_try``, ``pick``, ``pack`` and ``do``.
A shipment already done with that reference is acknowledged again without a change
(``created=False``), so a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack
from connectors.erp_tryton.changes import STAMP
from connectors.erp_tryton.lookups import decimal, required
from connectors.erp_tryton.rpc import Row, TrytonRpc

_OPEN = ("draft", "waiting", "assigned", "picked", "packed")
_FIELDS = ("state", "reference", "outgoing_moves", "inventory_moves", STAMP)


class ShipmentWriter:
    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc

    def write(self, record: Mapping[str, Any]) -> Ack:
        sale_ref = str(required(record, "sale", what="Tryton shipment") or "").strip()
        reference = str(required(record, "reference", what=f"Tryton shipment of {sale_ref}"))
        what = f"Tryton shipment {reference} of sale {sale_ref}"
        sales = self.rpc.search_read(
            "sale.sale", [("reference", "=", sale_ref)], ["shipments"], limit=1
        )
        if not sales:
            raise PermanentError(f"{what}: sale: no sale has the reference {sale_ref!r}")
        shipments = self.rpc.read("stock.shipment.out", sales[0]["shipments"] or [], _FIELDS)
        ours = [s for s in shipments if s.get("reference") == reference]
        if ours and ours[0]["state"] == "done":
            return self._ack(ours[0], sale_ref, created=False)
        candidates = ours or [s for s in shipments if s.get("state") in _OPEN]
        if not candidates:
            raise PermanentError(f"{what}: the sale has no open customer shipment")
        shipment = candidates[0]
        self._same_quantities(shipment, record.get("lines") or [], what)
        sid = int(shipment["id"])
        if shipment.get("reference") != reference:
            self.rpc.write("stock.shipment.out", [sid], {"reference": reference})
        state = str(shipment["state"])
        if state in ("draft", "waiting"):
            self.rpc.button("stock.shipment.out", "assign_try", [sid])
            (fresh,) = self.rpc.read("stock.shipment.out", [sid], ["state"])
            state = str(fresh["state"])
            if state != "assigned":
                raise PermanentError(
                    f"{what}: Tryton could not assign the stock (state {state}); assign it there"
                )
        for step, before in (("pick", "assigned"), ("pack", "picked"), ("do", "packed")):
            if state == before:
                self.rpc.button("stock.shipment.out", step, [sid])
                state = {"pick": "picked", "pack": "packed", "do": "done"}[step]
        (done,) = self.rpc.read("stock.shipment.out", [sid], _FIELDS)
        return self._ack(done, sale_ref, created=True)

    def _same_quantities(self, shipment: Row, lines: Any, what: str) -> None:
        moves = self.rpc.read(
            "stock.move", shipment.get("outgoing_moves") or [], ["product.code", "quantity"]
        )
        have: dict[str, Decimal] = {}
        for move in moves:
            code = str((move.get("product") or {}).get("code") or "")
            have[code] = have.get(code, Decimal(0)) + Decimal(str(move.get("quantity") or 0))
        want: dict[str, Decimal] = {}
        for index, line in enumerate(lines):
            code = str(required(line, "product", what=f"{what} lines[{index}]"))
            quantity = decimal(line.get("quantity"), what=what, path=f"lines[{index}].quantity")
            want[code] = want.get(code, Decimal(0)) + quantity
        if {k: v for k, v in want.items() if v} != {k: v for k, v in have.items() if v}:
            raise PermanentError(
                f"{what}: lines: the warehouse shipped {_text(want)} but the shipment holds "
                f"{_text(have)}; a partial shipment is completed in Tryton by a person"
            )

    @staticmethod
    def _ack(row: Row, sale_ref: str, *, created: bool) -> Ack:
        stamp = row.get(STAMP)
        return Ack(
            key=sale_ref,
            external_id=str(row["id"]),
            version=stamp.isoformat() if stamp is not None else None,
            created=created,
            detail={"state": row.get("state"), "reference": row.get("reference")},
        )


def _text(quantities: Mapping[str, Decimal]) -> str:
    return ", ".join(f"{q.normalize():f} x {code}" for code, q in sorted(quantities.items()))
