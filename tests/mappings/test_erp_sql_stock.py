"""The ERP's stock export rows (erp_item_stock_out) -> canonical InventoryLevel."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.errors import InvalidRecord
from mappings.engine import load_mapping
from mappings.erp_sql import HERE, stock_from_staging

CHANGED = datetime(2025, 3, 11, 9, 30, 15)


def row(**values: Any) -> dict[str, Any]:
    return {
        "item_no": "ITEM-1000",
        "location_code": "MAIN",
        "qty_on_hand": Decimal("120.0000"),
        "qty_reserved": Decimal("20.0000"),
        "qty_available": Decimal("100.0000"),
        "uom_code": "PCS",
        "changed_at": CHANGED,
        **values,
    }


def test_a_stock_row_is_an_inventory_level_per_item_and_location() -> None:
    level = stock_from_staging(row())
    assert (level.sku, level.location) == ("ITEM-1000", "MAIN")
    assert (level.on_hand, level.allocated, level.available) == (
        Decimal(120),
        Decimal(20),
        Decimal(100),
    )
    assert level.unit_of_measure == "EA"
    assert level.as_of == CHANGED.replace(tzinfo=UTC)


def test_the_key_is_item_and_location_as_the_connector_reports_it() -> None:
    mapped = load_mapping(HERE / "stock.to_canonical.yaml").map(row(location_code="EAST"))
    assert mapped.key == "ITEM-1000|EAST"


def test_available_is_on_hand_minus_reserved_when_the_erp_leaves_it_empty() -> None:
    level = stock_from_staging(row(qty_available=None, qty_reserved=Decimal("7.5")))
    assert level.available == Decimal("112.5")
    nothing_reserved = stock_from_staging(row(qty_reserved=None, qty_available=None))
    assert (nothing_reserved.allocated, nothing_reserved.available) == (Decimal(0), Decimal(120))


def test_units_become_canonical_codes_and_text_numbers_are_read_exactly() -> None:
    level = stock_from_staging(row(uom_code="kg", qty_on_hand="12.345", qty_available="12.345"))
    assert level.unit_of_measure == "KGM"
    assert level.on_hand == Decimal("12.345")


def test_a_bad_row_names_the_item_and_every_column() -> None:
    with pytest.raises(InvalidRecord) as caught:
        stock_from_staging(row(uom_code="FASS", qty_on_hand="n/a", changed_at=None))
    assert str(caught.value).startswith("erp_sql stock ITEM-1000: ")
    assert {e.path for e in caught.value.errors} >= {"uom_code", "qty_on_hand", "changed_at"}
