"""Fixed reference data of the demo shop: products, places with their tax rates, people.

Everything here is invented. Street addresses are real streets in real cities (so country,
state and postcode formats are right) with invented house numbers; e-mail domains are the
reserved ``example.*`` ones and US phone numbers use the fictional 555-0100..0199 range.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    product_id: int
    variation_id: int  # 0 for simple products
    name: str  # the order item name WooCommerce stores ("Parent - Attr, Attr" for variations)
    sku: str
    price_eur: Decimal  # net (excluding tax)
    image_id: int
    parent_name: str | None = None
    attributes: tuple[tuple[str, str, str, str], ...] = ()  # key, value, display key, value


@dataclass(frozen=True)
class Place:
    city: str
    state: str  # WooCommerce state code for the country ("" where it has none)
    postcode: str
    street: str


@dataclass(frozen=True)
class TaxRate:
    rate_id: int
    percent: Decimal
    label: str
    country: str
    state: str  # "" for a country-wide rate
    shipping_taxed: bool

    @property
    def rate_code(self) -> str:
        """Like ``WC_Tax::get_rate_code``: COUNTRY-STATE-LABEL-PRIORITY, upper case."""
        parts = [self.country, self.state, self.label, "1"]
        return "-".join(part for part in parts if part).upper()


@dataclass(frozen=True)
class Region:
    country: str
    currency: str
    currency_symbol: str
    weight: int
    places: tuple[tuple[Place, TaxRate], ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    phone_prefix: str
    shipping_method: tuple[str, str, Decimal]  # method_id, title, cost
    free_shipping_from: Decimal
    notes: tuple[str, ...]
    companies: tuple[str, ...]


def _vat(rate_id: int, percent: str, label: str, country: str) -> TaxRate:
    return TaxRate(rate_id, Decimal(percent), label, country, "", shipping_taxed=True)


def _us_tax(rate_id: int, percent: str, state: str) -> TaxRate:
    return TaxRate(rate_id, Decimal(percent), f"{state} State Tax", "US", state, False)


_DE_VAT = _vat(1, "19", "MwSt.", "DE")
_FR_VAT = _vat(2, "20", "TVA", "FR")
_NL_VAT = _vat(3, "21", "BTW", "NL")
_IT_VAT = _vat(4, "22", "IVA", "IT")
_ES_VAT = _vat(5, "21", "IVA", "ES")
_AT_VAT = _vat(6, "20", "USt.", "AT")

_EU_NOTES = ("", "", "", "Bitte beim Nachbarn abgeben.", "Please ring twice.", "")
_US_NOTES = ("", "", "", "Leave at the front desk.", "Gift - no invoice in the box please.")

REGIONS: tuple[Region, ...] = (
    Region(
        "DE",
        "EUR",
        "€",
        35,
        (
            (Place("Berlin", "DE-BE", "10115", "Invalidenstraße 44"), _DE_VAT),
            (Place("München", "DE-BY", "80331", "Sendlinger Straße 12"), _DE_VAT),
            (Place("Hamburg", "DE-HH", "20095", "Mönckebergstraße 7"), _DE_VAT),
            (Place("Köln", "DE-NW", "50667", "Hohe Straße 52"), _DE_VAT),
        ),
        ("Anna", "Lukas", "Jürgen", "Sophie", "Maximilian", "Greta"),
        ("Müller", "Schmidt", "Weiß", "Becker", "Hoffmann", "Schäfer"),
        "+49 30 ",
        ("flat_rate", "DHL Paket", Decimal("4.90")),
        Decimal("50.00"),
        _EU_NOTES,
        ("Müller Maschinenbau GmbH", "Café Sonnenschein UG"),
    ),
    Region(
        "FR",
        "EUR",
        "€",
        10,
        (
            (Place("Paris", "", "75002", "12 Rue Montorgueil"), _FR_VAT),
            (Place("Lyon", "", "69002", "5 Rue de la République"), _FR_VAT),
        ),
        ("Camille", "Léa", "Théo", "Hugo"),
        ("Martin", "Lefèvre", "Dubois", "Moreau"),
        "+33 1 ",
        ("flat_rate", "Colissimo", Decimal("6.50")),
        Decimal("60.00"),
        _EU_NOTES,
        ("Brasserie du Coin SARL",),
    ),
    Region(
        "NL",
        "EUR",
        "€",
        10,
        (
            (Place("Amsterdam", "", "1012 JS", "Damrak 70"), _NL_VAT),
            (Place("Utrecht", "", "3511 LX", "Oudegracht 158"), _NL_VAT),
        ),
        ("Daan", "Sanne", "Bram", "Fleur"),
        ("de Vries", "Jansen", "van Dijk", "Bakker"),
        "+31 20 ",
        ("flat_rate", "PostNL", Decimal("5.95")),
        Decimal("50.00"),
        _EU_NOTES,
        ("Koffiebar Damrak B.V.",),
    ),
    Region(
        "IT",
        "EUR",
        "€",
        8,
        (
            (Place("Milano", "MI", "20121", "Via Dante 15"), _IT_VAT),
            (Place("Roma", "RM", "00186", "Via del Corso 120"), _IT_VAT),
        ),
        ("Giulia", "Luca", "Francesca", "Marco"),
        ("Rossi", "Bianchi", "Esposito", "Ricci"),
        "+39 02 ",
        ("flat_rate", "BRT Corriere", Decimal("7.90")),
        Decimal("70.00"),
        _EU_NOTES,
        ("Torrefazione Dante S.r.l.",),
    ),
    Region(
        "ES",
        "EUR",
        "€",
        7,
        (
            (Place("Madrid", "M", "28013", "Calle Mayor 5"), _ES_VAT),
            (Place("Barcelona", "B", "08002", "Carrer de Ferran 10"), _ES_VAT),
        ),
        ("Lucía", "Javier", "María", "Pablo"),
        ("García", "Fernández", "López", "Martínez"),
        "+34 91 ",
        ("flat_rate", "Correos Express", Decimal("6.90")),
        Decimal("60.00"),
        _EU_NOTES,
        ("Cafetería Mayor S.L.",),
    ),
    Region(
        "AT",
        "EUR",
        "€",
        5,
        ((Place("Wien", "", "1010", "Kärntner Straße 19"), _AT_VAT),),
        ("Lena", "Florian", "Katharina"),
        ("Gruber", "Huber", "Wagner"),
        "+43 1 ",
        ("flat_rate", "Österreichische Post", Decimal("5.90")),
        Decimal("50.00"),
        _EU_NOTES,
        ("Kaffeehaus Hawelka GmbH",),
    ),
    Region(
        "US",
        "USD",
        "$",
        25,
        (
            (Place("San Francisco", "CA", "94103", "969 Market St"), _us_tax(10, "7.25", "CA")),
            (Place("New York", "NY", "10001", "350 5th Ave"), _us_tax(11, "4", "NY")),
            (Place("Austin", "TX", "78701", "600 Congress Ave"), _us_tax(12, "6.25", "TX")),
            (Place("Seattle", "WA", "98101", "1200 1st Ave"), _us_tax(13, "6.5", "WA")),
        ),
        ("Emily", "James", "Olivia", "Michael", "Ava"),
        ("Johnson", "Williams", "Brown", "O'Connor", "Nguyen"),
        "+1 ",
        ("flat_rate", "USPS Priority Mail", Decimal("8.00")),
        Decimal("75.00"),
        _US_NOTES,
        ("Blue Bottle Roasters LLC", "Acme Office Supply Inc."),
    ),
)

_MUG_BLACK = (
    ("pa_color", "black", "Color", "Black"),
    ("pa_size", "350-ml", "Size", "350 ml"),
)
_MUG_RED = (
    ("pa_color", "red", "Color", "Red"),
    ("pa_size", "500-ml", "Size", "500 ml"),
)

PRODUCTS: tuple[Product, ...] = (
    Product(101, 0, "Espresso Machine Barista Pro", "TDM-ESP-100", Decimal("349.00"), 201),
    Product(102, 0, "Kaffeemühle Classic", "TDM-GRD-200", Decimal("89.90"), 202),
    Product(103, 0, "Milk Frother", "TDM-MLK-110", Decimal("39.50"), 203),
    Product(104, 0, "Espresso Beans Roma 1 kg", "TDM-BNS-ROM-1KG", Decimal("18.90"), 204),
    Product(105, 0, "Filter Beans Yirgacheffe 250 g", "TDM-BNS-YIR-250", Decimal("9.40"), 205),
    Product(106, 0, "Descaling Liquid 500 ml", "TDM-CLN-DSC", Decimal("7.99"), 206),
    Product(
        140,
        141,
        "Travel Mug - Black, 350 ml",
        "TDM-MUG-BLK-350",
        Decimal("14.90"),
        207,
        "Travel Mug",
        _MUG_BLACK,
    ),
    Product(
        140,
        143,
        "Travel Mug - Red, 500 ml",
        "TDM-MUG-RED-500",
        Decimal("16.90"),
        208,
        "Travel Mug",
        _MUG_RED,
    ),
    Product(107, 0, "Tamper 58 mm Stainless", "TDM-TMP-58", Decimal("24.00"), 209),
    Product(108, 0, "Water Filter Cartridge (3-pack)", "TDM-FLT-3PK", Decimal("21.99"), 210),
    Product(109, 0, "Knock Box", "TDM-KBX-01", Decimal("19.50"), 211),
    Product(110, 0, "Cup Set Porcelain (6 pcs)", "TDM-CUP-6", Decimal("32.00"), 212),
)

# (gateway id, title shown to the customer, status after checkout, paid at checkout)
PAYMENT_METHODS: tuple[tuple[str, str, str, bool], ...] = (
    ("stripe", "Credit Card (Stripe)", "processing", True),
    ("ppcp-gateway", "PayPal", "processing", True),
    ("bacs", "Direct bank transfer", "on-hold", False),
    ("cod", "Cash on delivery", "processing", False),
)

COUPON = ("spring10", Decimal("10"))  # code, percent
COD_FEE = ("Cash on delivery fee", Decimal("2.50"))
USD_PER_EUR = Decimal("1.10")

USER_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
)
