"""Shopify Admin REST API orders -> canonical SalesOrder and Customer (a second shop format).

``order.to_canonical.yaml`` and ``order_customer.to_canonical.yaml`` (see their descriptions)
run together in ``map_order``, which reports the errors of both at once. It takes the order as
``GET /admin/api/<version>/orders/<id>.json`` answers it (``{"order": {...}}``) or bare, as
the ``orders/create`` / ``orders/updated`` webhooks send it. Tax arithmetic for shops whose
prices include tax lives in ``functions.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from canonical.errors import FieldError
from canonical.models import Customer, SalesOrder
from mappings.engine import CompiledMapping, load_mapping

SYSTEM = "shopify"
HERE = Path(__file__).parent


@dataclass(frozen=True)
class MappedOrder:
    customer: Customer
    customer_key: str  # Shopify's customer id, or guest:<e-mail>
    order: SalesOrder
    order_key: str  # Shopify's order id (not the order number)
    financial_status: str
    fulfillment_status: str | None


@cache
def mappings() -> tuple[CompiledMapping, CompiledMapping]:
    """The compiled mappings of an order: its customer, and the order itself."""
    return (
        load_mapping(HERE / "order_customer.to_canonical.yaml"),
        load_mapping(HERE / "order.to_canonical.yaml"),
    )


def unwrap(payload: Any) -> Any:
    """The order itself, from a REST answer ``{"order": {...}}`` or a bare webhook body."""
    if isinstance(payload, Mapping) and set(payload) == {"order"}:
        return payload["order"]
    return payload


def map_order(payload: Any, *, source: str = SYSTEM) -> MappedOrder:
    """Map one Shopify order; raises ``InvalidRecord`` listing *every* bad field."""
    order = unwrap(payload)
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
    fulfillment = order.get("fulfillment_status")
    return MappedOrder(
        customer,
        customer_run.key,
        sales_order,
        order_run.key,
        str(order.get("financial_status") or ""),
        str(fulfillment) if fulfillment else None,
    )
