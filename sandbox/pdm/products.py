"""The manufacturer's product master as the PDM holds it.

The first products are the web shop's catalogue (same SKUs, names and net EUR prices as
``sandbox.webshop.catalog.PRODUCTS``); ``generated(n)`` adds deterministic extra products for
volume. GTINs are invented but valid GTIN-13 (GS1 mod-10 check digit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sandbox.webshop.catalog import PRODUCTS

MANUFACTURER = "Tandem Coffee Equipment GmbH"
_COMPANY_PREFIX = "4012345"  # invented GS1 company prefix (401 is a German range)


@dataclass(frozen=True)
class MasterProduct:
    sku: str
    gtin: str
    name: str
    description: str
    net_price_eur: Decimal
    group: str
    weight_kg: Decimal
    features: tuple[tuple[str, str, str], ...] = ()  # name, value, unit
    order_unit: str = "C62"  # UN/ECE Recommendation 20: piece
    status: str = "core_product"


def gtin13(first12: str) -> str:
    """Append the GS1 mod-10 check digit to 12 digits."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"need 12 digits, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


_GROUPS = {
    "ESP": ("machines", "2.80"),
    "GRD": ("machines", "1.90"),
    "MLK": ("accessories", "0.60"),
    "BNS": ("coffee", "1.05"),
    "CLN": ("care", "0.55"),
    "MUG": ("accessories", "0.35"),
    "TMP": ("accessories", "0.45"),
    "FLT": ("care", "0.30"),
    "KBX": ("accessories", "0.70"),
    "CUP": ("accessories", "1.40"),
}


def shop_products() -> list[MasterProduct]:
    """The web shop's catalogue as master data (one master product per SKU)."""
    out: list[MasterProduct] = []
    for index, product in enumerate(PRODUCTS, start=1):
        kind = product.sku.split("-")[1]
        group, weight = _GROUPS.get(kind, ("accessories", "0.50"))
        features = tuple((attr[2], attr[3], "") for attr in product.attributes)
        out.append(
            MasterProduct(
                sku=product.sku,
                gtin=gtin13(f"{_COMPANY_PREFIX}{index:05d}"),
                name=product.name,
                description=f"{product.name}. Designed and tested by {MANUFACTURER}.",
                net_price_eur=product.price_eur,
                group=group,
                weight_kg=Decimal(weight),
                features=features,
            )
        )
    return out


_ADJECTIVES = ("Compact", "Professional", "Classic", "Premium", "Travel", "Barista", "Eco")
_NOUNS = ("Grinder", "Kettle", "Scale", "Dripper", "Carafe", "Jug", "Filter", "Brush", "Mat")
_MATERIALS = ("stainless steel", "borosilicate glass", "porcelain", "bamboo", "copper")
_COLORS = ("black", "white", "red", "silver", "green")


def generated(count: int, start: int = 1) -> Iterator[MasterProduct]:
    """``count`` deterministic extra products (index ``start`` on); cheap to stream."""
    for index in range(start, start + count):
        noun = _NOUNS[index % len(_NOUNS)]
        name = f"{_ADJECTIVES[index % len(_ADJECTIVES)]} {noun} {index}"
        material = _MATERIALS[index % len(_MATERIALS)]
        color = _COLORS[(index // 7) % len(_COLORS)]
        cents = 499 + (index * 7919) % 49_500
        yield MasterProduct(
            sku=f"TDM-GEN-{index:07d}",
            gtin=gtin13(f"42{index:010d}"),
            name=name,
            description=(
                f"{name} made of {material}, {color}. Dishwasher safe parts, two-year "
                f"warranty, spare parts available for ten years."
            ),
            net_price_eur=Decimal(cents) / 100,
            group="accessories" if index % 3 else "care",
            weight_kg=Decimal(50 + index % 2000) / 100,
            features=(("Material", material, ""), ("Color", color, "")),
        )


def master(extra: int = 0) -> list[MasterProduct]:
    return shop_products() + list(generated(extra))
