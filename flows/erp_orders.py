"""Deliveries to the ERP: customers and sales orders, with the xrefs the ERP's numbers create.

The handlers load the canonical record the delivery points at, map it to the ERP's shape and
write it through the ERP connector, which makes each write idempotent (an order is looked up by
its External_Document_No before it is created, a customer by number or e-mail).
"""

from __future__ import annotations

from typing import Any, Protocol

from canonical.errors import PermanentError, TransientError
from canonical.models import Customer, Entity, OrderStatus, SalesOrder
from flows.delivery import Delivered, Handler, Link
from hub.store import DeliveryTask, Hub
from mappings import nav


class Ack(Protocol):
    @property
    def external_id(self) -> str: ...
    @property
    def version(self) -> str | None: ...


class ErpWriter(Protocol):
    def write_customer(self, record: dict[str, Any]) -> Ack: ...
    def write_sales_order(self, record: dict[str, Any]) -> Ack: ...
    def cancel_sales_order(self, external_document_no: str) -> Ack | None: ...


class ErpOrderDelivery:
    def __init__(self, hub: Hub, erp: ErpWriter, *, system: str = nav.SYSTEM) -> None:
        self.hub = hub
        self.erp = erp
        self.system = system

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            (self.system, Entity.CUSTOMER): self.deliver_customer,
            (self.system, Entity.SALES_ORDER): self.deliver_sales_order,
        }

    def deliver_customer(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            customer = hs.load(task.canonical_id, Customer)
            erp_no = hs.external_id(Entity.CUSTOMER, task.canonical_id, self.system)
        assert isinstance(customer, Customer)
        ack = self.erp.write_customer(nav.customer_to_nav(customer, no=erp_no))
        link = Link(Entity.CUSTOMER, task.canonical_id, self.system, ack.external_id, ack.version)
        return Delivered(ack.external_id, links=(link,))

    def deliver_sales_order(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            order = hs.load(task.canonical_id, SalesOrder)
            assert isinstance(order, SalesOrder)
            if order.customer_id is None:
                raise PermanentError(f"order {order.order_number} has no resolved customer")
            customer = hs.load(order.customer_id, Customer)
            customer_no = hs.external_id(Entity.CUSTOMER, order.customer_id, self.system)
        assert isinstance(customer, Customer)
        if order.status is OrderStatus.CANCELLED:
            return self._cancel(order)
        links: list[Link] = []
        if customer_no is None:  # the customer's own delivery has not happened yet
            ack = self._write_customer_for(order, customer)
            customer_no = ack.external_id
            links.append(
                Link(Entity.CUSTOMER, order.customer_id, self.system, customer_no, ack.version)
            )
        ack = self.erp.write_sales_order(nav.sales_order_to_nav(order, customer_no=customer_no))
        links.append(
            Link(Entity.SALES_ORDER, task.canonical_id, self.system, ack.external_id, ack.version)
        )
        return Delivered(ack.external_id, links=links, detail=f"customer {customer_no}")

    def _write_customer_for(self, order: SalesOrder, customer: Customer) -> Ack:
        try:
            return self.erp.write_customer(nav.customer_to_nav(customer))
        except (TransientError, PermanentError) as exc:
            raise type(exc)(
                f"customer of order {order.order_number} could not be written first: {exc}"
            ) from exc

    def _cancel(self, order: SalesOrder) -> Delivered:
        ack = self.erp.cancel_sales_order(order.order_number)
        if ack is None:
            return Delivered("", detail="cancelled: the ERP had no such order")
        return Delivered(ack.external_id, detail="cancelled: order deleted in the ERP")
