"""The demo company's reference data, generated deterministically from a seed.

Products start with the web shop's catalogue (same SKUs and net prices), then spare parts and
consumables a coffee-equipment manufacturer sells to its trade customers. Parties are the web
shop's regions, streets and names recombined: trade customers (companies) and consumers.
E-mail domains are the reserved ``example.*`` ones.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from sandbox.webshop.catalog import PRODUCTS, REGIONS, USD_PER_EUR, Region

SEED = 20240601
__all__ = ["USD_PER_EUR"]
COMPANY_NAME = "Tandem Demo Manufacturing"
COMPANY_ADDRESS = ("Invalidenstraße 44", "10115", "Berlin", "DE")

COUNTRY_NAMES: dict[str, str] = {
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "IT": "Italy",
    "ES": "Spain",
    "AT": "Austria",
    "US": "United States",
}

_LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "DE": ("GmbH", "KG", "AG"),
    "FR": ("SARL", "SAS"),
    "NL": ("B.V.",),
    "IT": ("S.r.l.", "S.p.A."),
    "ES": ("S.L.", "S.A."),
    "AT": ("GmbH",),
    "US": ("LLC", "Inc."),
}
_TRADES = (
    "Kaffeehaus",
    "Espresso Bar",
    "Hotelbedarf",
    "Gastro Service",
    "Office Coffee",
    "Rösterei",
    "Catering",
    "Bistro",
)

# (name, SKU suffix, net list price in EUR) - spare parts and consumables.
_PARTS: tuple[tuple[str, str, str], ...] = (
    ("Group Head Gasket 8.5 mm", "GSK-085", "6.90"),
    ("Group Head Gasket 9 mm", "GSK-090", "6.90"),
    ("Shower Screen 58 mm", "SHW-58", "11.50"),
    ("Portafilter Basket Single", "BSK-1", "14.00"),
    ("Portafilter Basket Double", "BSK-2", "15.50"),
    ("Bottomless Portafilter 58 mm", "PF-58-BL", "69.00"),
    ("Steam Wand Tip 4-hole", "STW-4H", "12.80"),
    ("Vibration Pump 230 V", "PMP-VIB", "48.00"),
    ("Rotary Pump Head", "PMP-ROT", "189.00"),
    ("Boiler Heating Element 1200 W", "HTR-1200", "79.00"),
    ("Pressure Gauge 0-16 bar", "GAU-16", "27.50"),
    ("Solenoid Valve 3-way", "VLV-3W", "54.00"),
    ("Drip Tray Stainless", "DRP-01", "34.00"),
    ("Water Tank 2.5 l", "TNK-25", "29.90"),
    ("Burr Set 64 mm Flat", "BUR-64", "58.00"),
    ("Burr Set 38 mm Conical", "BUR-38", "42.00"),
    ("Bean Hopper 1 kg", "HOP-1KG", "24.50"),
    ("Milk Pitcher 350 ml", "PIT-350", "16.90"),
    ("Milk Pitcher 600 ml", "PIT-600", "19.90"),
    ("Cleaning Tablets (100 pcs)", "CLN-TAB", "12.99"),
    ("Group Head Brush", "CLN-BRS", "8.50"),
    ("Blind Filter Rubber", "BLF-RUB", "4.90"),
    ("Thermoblock 1350 W", "THB-1350", "119.00"),
    ("Control Board Barista Pro", "PCB-ESP", "145.00"),
    ("Flowmeter", "FLM-01", "38.00"),
    ("Expansion Valve", "VLV-EXP", "21.00"),
    ("Steam Valve Knob", "KNB-STM", "9.90"),
    ("Power Cord EU", "PWR-EU", "11.00"),
    ("Power Cord US", "PWR-US", "11.00"),
    ("Cup Warmer Tray", "CWT-01", "26.00"),
    ("Grinder Motor 250 W", "MTR-250", "98.00"),
    ("Dosing Funnel 58 mm", "DSF-58", "17.50"),
    ("Distribution Tool 58 mm", "DST-58", "29.00"),
    ("Espresso Beans Roma 6 kg (trade)", "BNS-ROM-6KG", "99.00"),
    ("Filter Beans Yirgacheffe 1 kg", "BNS-YIR-1KG", "32.00"),
    ("Service Kit Annual", "SVC-KIT", "64.00"),
    ("Commercial Espresso Machine Duo", "ESP-200", "2490.00"),
    ("Commercial Grinder On-Demand", "GRD-400", "890.00"),
)


@dataclass(frozen=True)
class ProductRow:
    sku: str
    name: str
    list_price: Decimal
    cost_price: Decimal
    stock: int  # quantity on hand in the warehouse after the opening inventory


@dataclass(frozen=True)
class PartyRow:
    name: str
    is_company: bool
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    phone: str


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum() and ch.isascii()).lower()


def products(rng: random.Random | None = None) -> list[ProductRow]:
    """About fifty goods: the shop's catalogue first, then spare parts and trade items."""
    rng = rng or random.Random(f"tryton-products:{SEED}")
    catalogue = [(p.name, p.sku, p.price_eur) for p in PRODUCTS]
    parts = [(name, f"TDM-{suffix}", Decimal(price)) for name, suffix, price in _PARTS]
    rows = []
    for index, (name, sku, price) in enumerate(catalogue + parts):
        cost = (price * Decimal(rng.choice(("0.45", "0.55", "0.6")))).quantize(Decimal("0.0001"))
        # Every seventh item is out of stock, so the demo shows back orders too.
        stock = 0 if index % 7 == 6 else rng.choice((40, 60, 90, 120, 250, 500))
        rows.append(ProductRow(sku, name, price, cost, stock))
    return rows


def _renumber(street: str, number: int) -> str:
    """The same street with another house number ("12 Rue X" or "Hohe Straße 52")."""
    words = street.split(" ")
    if words[0].isdigit():
        return " ".join([str(number), *words[1:]])
    if words[-1].isdigit():
        return " ".join([*words[:-1], str(number)])
    return street


def _weighted_region(rng: random.Random) -> Region:
    return rng.choices(REGIONS, weights=[r.weight for r in REGIONS])[0]


def _party(rng: random.Random, index: int, is_company: bool) -> PartyRow:
    region = _weighted_region(rng)
    place, _rate = rng.choice(region.places)
    first, last = rng.choice(region.first_names), rng.choice(region.last_names)
    if is_company:
        name = f"{rng.choice(_TRADES)} {last} {rng.choice(_LEGAL_FORMS[region.country])}"
        local = f"orders{index}"
        domain_name = _ascii(f"{last}{index}")
    else:
        name = f"{first} {last}"
        local = f"{_ascii(first)}.{_ascii(last)}{index}"
        domain_name = "mail"
    street_line = _renumber(place.street, rng.randint(1, 180))
    tld = "com" if region.country == "US" else "org"
    phone = f"{region.phone_prefix}555 01{rng.randint(0, 99):02d}"
    return PartyRow(
        name=name,
        is_company=is_company,
        street=street_line,
        postal_code=place.postcode,
        city=place.city,
        country=region.country,
        email=f"{local}@{domain_name}.example.{tld}" if is_company else f"{local}@example.{tld}",
        phone=phone,
    )


def parties(count: int = 290, rng: random.Random | None = None) -> list[PartyRow]:
    """``count`` customers: every third a trade customer (company), the rest consumers."""
    rng = rng or random.Random(f"tryton-parties:{SEED}")
    rows = [_party(rng, index, index % 3 == 0) for index in range(1, count + 1)]
    rows[:0] = [_company_customer(name, region) for region in REGIONS for name in region.companies]
    return rows


def _company_customer(name: str, region: Region) -> PartyRow:
    place, _rate = region.places[0]
    return PartyRow(
        name=name,
        is_company=True,
        street=place.street,
        postal_code=place.postcode,
        city=place.city,
        country=region.country,
        email=f"purchasing@{_ascii(name)[:20]}.example.org",
        phone=f"{region.phone_prefix}555 0100",
    )


@dataclass(frozen=True)
class OrderRow:
    party_index: int
    lines: tuple[tuple[int, int], ...]  # (product index, quantity)
    stage: str  # one of STAGES
    reference: str


# Open sales (draft, quotation, processing) and some completed ones (shipped and invoiced).
STAGES = ("draft", "quotation", "processing", "shipped")


def open_orders(
    n_parties: int,
    product_rows: list[ProductRow],
    count: int = 48,
    rng: random.Random | None = None,
) -> list[OrderRow]:
    """Sales cycling through STAGES; shipped ones take a few units of stocked products only."""
    rng = rng or random.Random(f"tryton-orders:{SEED}")
    stocked = [index for index, row in enumerate(product_rows) if row.stock]
    rows = []
    for index in range(count):
        stage = STAGES[index % len(STAGES)]
        pool = stocked if stage == "shipped" else range(len(product_rows))
        quantities = (1, 2, 3) if stage == "shipped" else (1, 2, 3, 5, 10)
        picks = rng.sample(pool, rng.randint(1, 4))
        lines = tuple((p, rng.choice(quantities)) for p in picks)
        rows.append(OrderRow(rng.randrange(n_parties), lines, stage, f"PO-{4100 + index}"))
    return rows
