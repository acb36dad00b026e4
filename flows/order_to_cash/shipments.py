"""Delivering a shipment: posted in the ERP, shown on the web shop's order.

ERP, NAV (``erp``): the ``shipment_postings`` stream of the SOAP connector posts it through
the SalesOrderPosting codeunit, keyed by the first tracking number (or the 3PL's shipment id)
so a replay finds the posted shipment instead of posting again. Tryton (``erp_tryton``): the
``shipments`` stream completes the sale's customer shipment (assign, pick, pack, done). A
shipment of nothing (every line backordered) posts nothing.

Web shop: the order is ``completed`` with carrier and tracking once every ordered unit has
shipped (all shipments of the order counted); before that it stays as it is and gets a
customer note saying what shipped and what is still to come. The connector adds a note only
once per text and sends only what differs, so a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from canonical.errors import PermanentError
from canonical.models import Entity, SalesOrder, Shipment
from flows.delivery import Delivered, Handler, Link
from flows.order_to_cash.common import (
    WEBSHOP,
    LazyConnector,
    load_order,
    shipments_of,
    write_one,
)
from hub.store import DeliveryTask, Hub
from mappings import tryton


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def shipped_lines(shipment: Shipment) -> list[tuple[str, Decimal]]:
    return [(line.sku, line.quantity_shipped) for line in shipment.lines if line.quantity_shipped]


class ErpShipmentPosting:
    def __init__(self, hub: Hub, erp: LazyConnector, system: str) -> None:
        self.hub = hub
        self.erp = erp
        self.system = system

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {(self.system, Entity.SHIPMENT): self.deliver}

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            shipment = hs.load(task.canonical_id, Shipment)
        assert isinstance(shipment, Shipment)
        lines = shipped_lines(shipment)
        if not lines:
            return Delivered("", detail="nothing shipped: nothing to post", skipped=True)
        if self.system == tryton.SYSTEM:
            record: dict[str, Any] = {
                "sale": shipment.order_number,
                "reference": shipment.shipment_number,
                "lines": [{"product": sku, "quantity": q} for sku, q in lines],
            }
            ack = write_one(self.erp(), "shipments", record)
        else:
            tracking = (shipment.tracking_numbers or (shipment.shipment_number,))[0]
            record = {
                "External_Document_No": shipment.order_number,
                "Package_Tracking_No": tracking[:30],
                "Shipping_Agent_Code": (shipment.carrier or "")[:10],
                "lines": [{"No": sku, "Quantity": _qty(q)} for sku, q in lines],
            }
            ack = write_one(self.erp(), "shipment_postings", record)
        link = Link(Entity.SHIPMENT, task.canonical_id, self.system, ack.external_id, ack.version)
        detail = "posted" if ack.created else "already posted"
        return Delivered(ack.external_id, links=(link,), detail=detail)


def _ordered(order: SalesOrder) -> dict[str, Decimal]:
    wanted: dict[str, Decimal] = {}
    for line in order.lines:
        wanted[line.sku] = wanted.get(line.sku, Decimal(0)) + line.quantity
    return wanted


def _shipped(shipments: Iterable[Shipment]) -> dict[str, Decimal]:
    done: dict[str, Decimal] = {}
    for shipment in shipments:
        for sku, quantity in shipped_lines(shipment):
            done[sku] = done.get(sku, Decimal(0)) + quantity
    return done


def _items(quantities: Iterable[tuple[str, Decimal]]) -> str:
    return ", ".join(f"{_qty(q)} x {sku}" for sku, q in quantities if q) or "nothing"


def shipment_note(order: SalesOrder, shipment: Shipment, complete: bool, left: str) -> str:
    """The customer note for one shipment (deterministic: the shop adds it once)."""
    carrier = shipment.carrier or "our carrier"
    tracking = ", ".join(shipment.tracking_numbers)
    sent = _items(shipped_lines(shipment))
    if complete:
        return f"Your order {order.order_number} has been shipped with {carrier}" + (
            f". Tracking number: {tracking}." if tracking else "."
        )
    head = f"Shipment {shipment.shipment_number} of your order {order.order_number}: {sent}"
    head += f" shipped with {carrier} (tracking {tracking})." if tracking else "."
    return f"{head} Still to come (backordered): {left}. We will let you know when it ships."


class WebshopShipment:
    def __init__(self, hub: Hub, shop: LazyConnector) -> None:
        self.hub = hub
        self.shop = shop

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {(WEBSHOP, Entity.SHIPMENT): self.deliver}

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            shipment = hs.load(task.canonical_id, Shipment)
            assert isinstance(shipment, Shipment)
            what = f"web shop shipment {shipment.shipment_number}"
            order_id, order = load_order(hs, shipment.order_number, what)
            shop_id = hs.external_id(Entity.SALES_ORDER, order_id, WEBSHOP)
            every = shipments_of(hs, shipment.order_number)
        if shop_id is None:
            raise PermanentError(f"{what}: order {order.order_number} has no web shop id")
        ordered, shipped = _ordered(order), _shipped(every)
        missing = [(sku, q - shipped.get(sku, Decimal(0))) for sku, q in sorted(ordered.items())]
        complete = all(q <= 0 for _, q in missing)
        record: dict[str, Any] = {
            "id": shop_id,
            "note": shipment_note(order, shipment, complete, _items(missing)),
        }
        if complete:
            record["status"] = "completed"
        if shipment.tracking_numbers:
            record["tracking"] = {
                "carrier": shipment.carrier or "carrier",
                "number": shipment.tracking_numbers[0],
            }
        ack = write_one(self.shop(), "orders", record)
        external = f"{shop_id}:{shipment.shipment_number}"
        link = Link(Entity.SHIPMENT, task.canonical_id, WEBSHOP, external, ack.version)
        changed = ack.detail.get("changed") or []
        state = "completed" if complete else "open, partly shipped"
        return Delivered(external, links=(link,), detail=f"{state}; changed {changed}")
