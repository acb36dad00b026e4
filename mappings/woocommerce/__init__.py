"""WooCommerce REST API v3 orders and customers -> canonical SalesOrder and Customer.

The rules are in the ``*.to_canonical.yaml`` files next to this module (see their
descriptions): ``order.to_canonical.yaml`` and ``order_customer.to_canonical.yaml`` (the
customer of an order, from its billing and shipping blocks), which ``map_order`` runs together,
reporting the errors of both at once, naming the order and every field path; and
``customer.to_canonical.yaml`` for the customer resource (``map_customer``). A registered
customer has the same key both ways: its WooCommerce id as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from canonical.errors import FieldError
from canonical.models import Customer, Product, SalesOrder, ServiceRequest
from mappings.engine import CompiledMapping, load_mapping

SYSTEM = "webshop"
HERE = Path(__file__).parent

DELIVERABLE_STATUSES = frozenset({"processing", "on-hold", "completed"})
"""Orders the ERP should see: paid or held for review. ``pending`` waits for payment."""


@dataclass(frozen=True)
class MappedOrder:
    customer: Customer
    customer_key: str  # the web shop's id for the customer, as kept in xref
    order: SalesOrder
    order_key: str  # the web shop's order id, as kept in xref
    source_status: str


@cache
def mappings() -> tuple[CompiledMapping, CompiledMapping]:
    """The compiled mappings of an order: its customer, and the order itself."""
    return (
        load_mapping(HERE / "order_customer.to_canonical.yaml"),
        load_mapping(HERE / "order.to_canonical.yaml"),
    )


@cache
def customer_mapping() -> CompiledMapping:
    """The compiled mapping of the customer resource."""
    return load_mapping(HERE / "customer.to_canonical.yaml")


def order_id_of(order: Any) -> str | None:
    if isinstance(order, Mapping) and order.get("id") not in (None, ""):
        return str(order["id"])
    return None


def map_order(order: Any, *, source: str = SYSTEM) -> MappedOrder:
    """Map one WooCommerce order; raises ``InvalidRecord`` listing *every* bad field."""
    customer_map, order_map = mappings()
    customer_run = customer_map.run(order)
    if not isinstance(order, Mapping):
        raise order_map.invalid(order, customer_run.errors, source=source)
    customer, customer_errors = customer_map.finish(customer_run)
    order_run = order_map.run(order)
    sales_order, order_errors = order_map.finish(order_run)
    errors: list[FieldError] = customer_errors + order_errors
    if errors:
        raise order_map.invalid(order, errors, source=source)
    assert isinstance(customer, Customer) and isinstance(sales_order, SalesOrder)
    assert customer_run.key is not None and order_run.key is not None
    status = str(order.get("status") or "").strip()
    return MappedOrder(customer, customer_run.key, sales_order, order_run.key, status)


def map_customer(resource: Any, *, source: str = SYSTEM) -> tuple[str, Customer]:
    """Map one WooCommerce customer resource (``/wc/v3/customers/<id>``, the body of the
    ``customer.created`` / ``customer.updated`` webhooks) to ``(key, Customer)``; the key is
    the customer id as text, as orders of this customer give it. Raises ``InvalidRecord``
    listing every bad field."""
    mapped = customer_mapping().map(resource, source=source)
    assert isinstance(mapped.value, Customer) and mapped.key is not None
    return mapped.key, mapped.value


def map_service_request(entry: Any, *, source: str = SYSTEM) -> tuple[str, ServiceRequest]:
    """One entry of the shop's service request form (``service_request.to_canonical.yaml``)
    -> ``(entry id, ServiceRequest)`` numbered ``WS-<entry id>``; ``InvalidRecord`` names
    every bad field."""
    mapped = load_mapping(HERE / "service_request.to_canonical.yaml").map(entry, source=source)
    assert isinstance(mapped.value, ServiceRequest) and mapped.key is not None
    return mapped.key, mapped.value


def map_service_customer(entry: Any, *, source: str = SYSTEM) -> tuple[str, Customer]:
    """The sender of a service request form entry -> ``(customer key, Customer)``, keyed like
    the customer of an order (WooCommerce id, or ``guest:<e-mail>``)."""
    mapped = load_mapping(HERE / "service_customer.to_canonical.yaml").map(entry, source=source)
    assert isinstance(mapped.value, Customer) and mapped.key is not None
    return mapped.key, mapped.value


def product_to_woocommerce(product: Product) -> dict[str, Any]:
    """The web shop connector's ``products`` write record: ``product.from_canonical.yaml``."""
    record: dict[str, Any] = load_mapping(HERE / "product.from_canonical.yaml").map(product).value
    return record
