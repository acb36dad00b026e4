"""Canonical <-> the 3PL's warehouse documents (connectors/logistics, docs/connectors/logistics.md).

The logistics connector turns X12 940/945/846 (or its XML profile) into plain dicts and back;
these mappings turn those dicts into canonical records and back. The rules are in the
``*.yaml`` files next to this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canonical.models import InventoryLevel, SalesOrder, Shipment
from mappings.engine import load_mapping

SYSTEM = "logistics"
HERE = Path(__file__).parent


def sales_order_to_940(
    order: SalesOrder, *, carrier_scac: str | None = None, ship_date: str | None = None
) -> dict[str, Any]:
    """The shipping order dict ``LogisticsConnector.write("shipping_orders", ...)`` takes."""
    mapping = load_mapping(HERE / "sales_order.from_canonical.yaml")
    params = {"carrier_scac": carrier_scac, "ship_date": ship_date}
    value: dict[str, Any] = mapping.map(order, params=params).value
    return value


def shipment_from_945(record: Mapping[str, Any]) -> Shipment:
    """A ``shipping_advices`` record as a canonical Shipment."""
    mapped = load_mapping(HERE / "shipment.to_canonical.yaml").map(record)
    assert isinstance(mapped.value, Shipment)
    return mapped.value


def inventory_from_846(record: Mapping[str, Any]) -> InventoryLevel:
    """An ``inventory`` record as a canonical InventoryLevel."""
    mapped = load_mapping(HERE / "inventory.to_canonical.yaml").map(record)
    assert isinstance(mapped.value, InventoryLevel)
    return mapped.value
