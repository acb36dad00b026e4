"""Canonical <-> an ERP's staging tables (connectors/erp_sql, docs/connectors/erp_sql.md).

Field names are those of the default staging layout (``erp_customer_out``,
``erp_item_stock_out``, ``erp_customer_in``, ``erp_sales_order_in`` with lines); another
ERP's column names are mapped to these by the connector's settings, so these files serve it
unchanged. Rows to the ERP carry every column of the mapping, empty ones as None, so a field
cleared in Tandem is cleared in the ERP. The rules are in the ``*.yaml`` files next to this
module.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from canonical.models import Customer, InventoryLevel, SalesOrder
from mappings.engine import CompiledMapping, load_mapping
from mappings.engine.spec import Spec

SYSTEM = "erp_sql"
HERE = Path(__file__).parent


def _complete(record: Mapping[str, Any], fields: Mapping[str, Spec]) -> dict[str, Any]:
    """Every field of the mapping, None where the mapping gave no value."""
    return {name: record.get(name) for name in fields} | dict(record)


def _row(mapping: CompiledMapping, record: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    return _complete(mapping.map(record, params=params).value, mapping.fields)


def customer_to_staging(
    customer: Customer, *, ext_customer_id: str | None = None, customer_no: str | None = None
) -> dict[str, Any]:
    """The ``erp_customer_in`` row: keyed by ``ext_customer_id`` (default: the canonical id);
    ``customer_no`` when the ERP's number is known, else left out (not cleared: the ERP's
    import job writes the number it gave into the row)."""
    params = {"ext_customer_id": ext_customer_id, "customer_no": customer_no}
    row = _row(load_mapping(HERE / "customer.from_canonical.yaml"), customer, params)
    if row["customer_no"] is None:  # the ERP writes its number into the row: leave it there
        del row["customer_no"]
    return row


def sales_order_to_staging(order: SalesOrder, *, customer_no: str) -> dict[str, Any]:
    """The ``erp_sales_order_in`` row with its ``erp_sales_order_line_in`` rows as ``lines``."""
    mapping = load_mapping(HERE / "sales_order.from_canonical.yaml")
    row = _row(mapping, order, {"customer_no": customer_no})
    line_spec = mapping.fields["lines"].item
    line_fields = line_spec.fields if line_spec is not None else {}
    row["lines"] = [_complete(line, line_fields) for line in row["lines"]]
    return row


def customer_from_staging(record: Mapping[str, Any], *, lcy: str = "EUR") -> Customer:
    """An ``erp_customer_out`` row (as the connector reads it) as a canonical Customer."""
    mapped = load_mapping(HERE / "customer.to_canonical.yaml").map(record, params={"lcy": lcy})
    assert isinstance(mapped.value, Customer)
    return mapped.value


def stock_from_staging(record: Mapping[str, Any]) -> InventoryLevel:
    """An ``erp_item_stock_out`` row as a canonical InventoryLevel."""
    mapped = load_mapping(HERE / "stock.to_canonical.yaml").map(record)
    assert isinstance(mapped.value, InventoryLevel)
    return mapped.value
