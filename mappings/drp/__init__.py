"""Distributors (DRP connector records) <-> canonical.

- ``sales_order_from_850``: a ``purchase_orders`` record -> ``SalesOrder``
  (``sales_order.to_canonical.yaml``);
- ``inventory_level``: a ``sell_through`` row that reports stock -> ``InventoryLevel``
  (``inventory_level.to_canonical.yaml``), None for rows without a stock figure;
- ``demand_signal``: a ``sell_through`` row -> canonical ``DemandSignal`` (``demand.py``);
- ``po_ack_from_order``: ``SalesOrder`` -> the 855 record (``po_ack.from_canonical.yaml``);
- ``invoice_to_810``: ``Invoice`` and the invoiced lines -> the 810 record
  (``invoice.from_canonical.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from canonical.models import DemandSignal, InventoryLevel, Invoice, OrderLine, SalesOrder
from mappings.drp.demand import demand_signal
from mappings.engine import load_mapping

SYSTEM = "drp"
HERE = Path(__file__).parent
STOCK_CODES = ("OH", "QA", "QE")

__all__ = [
    "DemandSignal",
    "demand_signal",
    "inventory_level",
    "invoice_to_810",
    "po_ack_from_order",
    "sales_order_from_850",
]


def sales_order_from_850(record: Mapping[str, Any], *, currency: str | None = None) -> tuple[
    str, SalesOrder
]:  # fmt: skip
    """``(key, SalesOrder)`` of a purchase order; ``InvalidRecord`` lists every bad field."""
    mapped = load_mapping(HERE / "sales_order.to_canonical.yaml").map(
        record, params={"default_currency": currency}
    )
    assert isinstance(mapped.value, SalesOrder) and mapped.key is not None
    return mapped.key, mapped.value


def inventory_level(record: Mapping[str, Any]) -> InventoryLevel | None:
    """The stock a row reports, or None when it reports none (a sales-only row)."""
    activity = record.get("activity") or {}
    if not any(activity.get(code) not in (None, "") for code in STOCK_CODES):
        return None
    mapped = load_mapping(HERE / "inventory_level.to_canonical.yaml").map(record)
    assert isinstance(mapped.value, InventoryLevel)
    return mapped.value


def po_ack_from_order(
    order: SalesOrder,
    *,
    distributor: str,
    po_date: str | None = None,
    ack_type: str | None = None,
    ack_date: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The 855 record acknowledging ``order`` (which came in as ``distributor``'s 850);
    ``reason`` (a rejection's cause) goes out as a note (N9/MSG)."""
    params = {"distributor": distributor, "po_date": po_date, "ack_type": ack_type,
              "ack_date": ack_date, "reason": reason}  # fmt: skip
    record: dict[str, Any] = (
        load_mapping(HERE / "po_ack.from_canonical.yaml").map(order, params=params).value
    )
    return record


def invoice_to_810(
    invoice: Invoice,
    lines: Sequence[OrderLine],
    *,
    distributor: str,
    po_date: str | None = None,
) -> dict[str, Any]:
    """The 810 record of ``invoice`` listing ``lines`` (what is invoiced)."""
    params = {"distributor": distributor, "lines": list(lines), "po_date": po_date}
    record: dict[str, Any] = (
        load_mapping(HERE / "invoice.from_canonical.yaml").map(invoice, params=params).value
    )
    return record
