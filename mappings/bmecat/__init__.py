"""BMEcat products (2005 and 1.2, as the PDM connector reads them) -> canonical Product.

The rules are in ``product.to_canonical.yaml`` (and the few functions it calls in
``functions.py``). ``map_product`` runs it for a product that is new or updated; a delete
(``operation == "delete"``, only SUPPLIER_PID given) is returned as such, without a Product,
for the flow to retire the record it keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from canonical.errors import InvalidRecord
from canonical.models import Product
from mappings.engine import CompiledMapping, load_mapping

SYSTEM = "pdm"
HERE = Path(__file__).parent


@dataclass(frozen=True)
class MappedProduct:
    key: str  # SUPPLIER_PID / SUPPLIER_AID, as kept in the xref table
    operation: str  # new, update or delete
    product: Product | None  # None for a delete


@cache
def product_mapping() -> CompiledMapping:
    return load_mapping(HERE / "product.to_canonical.yaml")


def map_product(
    data: Mapping[str, Any],
    *,
    language: str | None = None,
    currency: str | None = None,
    source: str | None = None,
) -> MappedProduct:
    """One product record's canonical form; ``InvalidRecord`` names every bad field."""
    operation = str(data.get("operation") or "new")
    key = data.get("supplier_pid")
    if operation == "delete":
        if not key:
            raise InvalidRecord.single(source or SYSTEM, None, "supplier_pid", "is required",
                                       entity="product")  # fmt: skip
        return MappedProduct(str(key), operation, None)
    mapping = product_mapping()
    mapped = mapping.map(
        data, params={"language": language, "currency": currency}, source=source or SYSTEM
    )
    assert isinstance(mapped.value, Product)
    return MappedProduct(str(mapped.key), operation, mapped.value)


__all__ = ["MappedProduct", "map_product", "product_mapping"]
