"""WooCommerce REST API v3 orders -> canonical Customer and SalesOrder.

The rules are in ``order.to_canonical.yaml`` and ``customer.to_canonical.yaml`` next to this
file (see their descriptions); ``map_order`` runs both on one order and reports the errors of
both together, naming the order and every field path.
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
    """The compiled customer and order mappings."""
    return (
        load_mapping(HERE / "customer.to_canonical.yaml"),
        load_mapping(HERE / "order.to_canonical.yaml"),
    )


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
