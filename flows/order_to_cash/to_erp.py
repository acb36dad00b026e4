"""Step 2, to the ERP: customers and sales orders delivered to the configured ERP.

The NAV SOAP ERP (``erp_system = erp_soap``) is the web order slice's ``ErpOrderDelivery``
(hub system name ``erp``). Tryton (``erp_system = erp_tryton``) gets the same deliveries
through ``TrytonOrderDelivery``: the customer as a party (found by e-mail, else created), the
order as a confirmed sale found by its reference, the order number (so a replay creates
nothing). A cancellation deletes an open NAV order; a Tryton sale (confirmed at once) is
cancelled by a person in Tryton: the delivery becomes a dead letter that says so.
"""

from __future__ import annotations

from typing import Any

from canonical.errors import PermanentError
from canonical.models import Customer, Entity, OrderStatus, SalesOrder
from flows.delivery import Delivered, Handler, Link
from flows.erp_orders import Ack, ErpOrderDelivery
from flows.order_to_cash.common import LazyConnector, write_one
from flows.spec import Services
from hub.store import DeliveryTask, Hub
from mappings import tryton


class _ServicesErp:
    """The NAV writer of the services, built when the first delivery needs it."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def write_customer(self, record: dict[str, Any]) -> Ack:
        return self._services.erp().write_customer(record)

    def write_sales_order(self, record: dict[str, Any]) -> Ack:
        return self._services.erp().write_sales_order(record)

    def cancel_sales_order(self, external_document_no: str) -> Ack | None:
        return self._services.erp().cancel_sales_order(external_document_no)


def nav_handlers(services: Services) -> dict[tuple[str, str], Handler]:
    return ErpOrderDelivery(services.hub, _ServicesErp(services)).handlers()


class TrytonOrderDelivery:
    system = tryton.SYSTEM

    def __init__(self, hub: Hub, erp: LazyConnector) -> None:
        self.hub = hub
        self.erp = erp

    def handlers(self) -> dict[tuple[str, str], Handler]:
        return {
            (self.system, Entity.CUSTOMER): self.deliver_customer,
            (self.system, Entity.SALES_ORDER): self.deliver_sales_order,
        }

    def _party(self, customer_id: str) -> tuple[Link, str]:
        with self.hub.begin() as hs:
            customer = hs.load(customer_id, Customer)
        assert isinstance(customer, Customer)
        ack = write_one(self.erp(), "parties", tryton.party_to_tryton(customer))
        code = str(ack.detail.get("code") or "")
        if not code:
            raise PermanentError(f"Tryton party {ack.external_id} has no code")
        link = Link(Entity.CUSTOMER, customer_id, self.system, ack.external_id, ack.version)
        return link, code

    def deliver_customer(self, task: DeliveryTask) -> Delivered:
        link, code = self._party(task.canonical_id)
        return Delivered(link.external_id, links=(link,), detail=f"party {code}")

    def deliver_sales_order(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            order = hs.load(task.canonical_id, SalesOrder)
        assert isinstance(order, SalesOrder)
        if order.customer_id is None:
            raise PermanentError(f"order {order.order_number} has no resolved customer")
        if order.status is OrderStatus.CANCELLED:
            return self._cancel(order)
        party, code = self._party(order.customer_id)
        ack = write_one(self.erp(), "sales", tryton.sale_to_tryton(order, party=code))
        sale = Link(Entity.SALES_ORDER, task.canonical_id, self.system, ack.external_id,
                    ack.version)  # fmt: skip
        state = ack.detail.get("state")
        return Delivered(ack.external_id, links=(party, sale), detail=f"sale {state}")

    @staticmethod
    def _cancel(order: SalesOrder) -> Delivered:
        raise PermanentError(
            f"Tryton sale {order.order_number}: the web shop cancelled it; a sale Tryton has "
            "confirmed is cancelled there by a person (with its shipment and invoice)"
        )
