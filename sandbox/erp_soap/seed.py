"""The sandbox ERP's deterministic starting data: a trading company's customers, items with
stock, open sales orders and some history (shipped, invoiced and paid orders).

``seed_store(store, seed)`` always gives the same records for the same seed — numbers, Keys and
timestamps included (a seeded clock stamps them). Items are the product master of
``sandbox.pdm.products`` (the web shop's catalogue first, same SKUs), so the landscape agrees;
the history is made by the posting code itself, so balances, inventory and posted documents add
up.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sandbox.erp_soap.pages import PAGES
from sandbox.erp_soap.posting import Posting
from sandbox.erp_soap.rules import BusinessError, money
from sandbox.erp_soap.store import Record, Store
from sandbox.pdm.products import master
from sandbox.seed_scale import scaled
from sandbox.webshop.catalog import REGIONS

CUSTOMERS = scaled(300)
EXTRA_ITEMS = 188  # + the 12 catalogue products = 200 items
ORDERS = scaled(160)
START = date(2025, 1, 6)  # the first order day; the seeded "today" is START + _DAYS
_DAYS = 150
_FORMS = ("GmbH", "AG", "KG", "Ltd", "LLC", "S.r.l.", "B.V.", "SARL", "S.L.")
_TRADES = ("Kaffeehandel", "Gastro", "Office", "Hotel", "Roasters", "Café", "Bakery", "Catering")
_PREFIXES = ("Nord", "Süd", "Alpen", "Rhein", "Hanse", "Atlas", "Blue", "Union", "Pacific", "Cen")
_SALESPEOPLE = ("JR", "OF", "PS", "RB")
_TERMS = ("14 DAYS", "30 DAYS", "30 DAYS", "CM")
_AGENTS = (("DHL", "JJD00"), ("UPS", "1Z"), ("DPD", "0152"), ("FEDEX", "7489"))


@dataclass(frozen=True)
class SeedSummary:
    customers: int
    items: int
    open_orders: int
    shipments: int
    invoices: int


class _Clock:
    """Deterministic modification stamps: a minute apart, from a seeded start."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=61)
        return self.now


@contextmanager
def _seeded_clock(store: Store, start: datetime) -> Iterator[_Clock]:
    saved = store.clock
    clock = _Clock(start)
    store.clock = clock
    try:
        yield clock
    finally:
        store.clock = saved


def _street(rng: random.Random, street: str) -> str:
    return re.sub(r"\d+", str(rng.randint(1, 180)), street, count=1)


def _customer(rng: random.Random, index: int) -> Record:
    region = rng.choices(REGIONS, weights=[r.weight for r in REGIONS])[0]
    place, _tax = rng.choice(region.places)
    first, last = rng.choice(region.first_names), rng.choice(region.last_names)
    name = f"{rng.choice(_PREFIXES)} {rng.choice(_TRADES)} {last} {rng.choice(_FORMS)}"
    ascii_last = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    domain = re.sub(r"[^a-z]", "", ascii_last.lower()) or "shop"
    group = (
        "DOMESTIC" if region.country == "DE" else ("EU" if region.currency == "EUR" else "FOREIGN")
    )
    return {
        "Name": name,
        "Search_Name": name.upper()[:100],
        "Address": _street(rng, place.street),
        "Post_Code": place.postcode,
        "City": place.city,
        "County": place.state,
        "Country_Region_Code": region.country,
        "Phone_No": f"{region.phone_prefix}555 {1000 + index:04d}",
        "Contact": f"{first} {last}",
        "E_Mail": f"purchasing{index}@{domain}.example",
        "Credit_Limit_LCY": rng.choice(("0", "5000", "10000", "20000", "50000")),
        "Salesperson_Code": rng.choice(_SALESPEOPLE),
        "Blocked": "All" if index % 97 == 96 else ("Ship" if index % 61 == 60 else "_blank_"),
        "Gen_Bus_Posting_Group": group,
        "VAT_Bus_Posting_Group": group,
        "Customer_Posting_Group": group,
        "Payment_Terms_Code": rng.choice(_TERMS),
        "Currency_Code": "" if region.currency == "EUR" else region.currency,
        "Language_Code": {"DE": "DEU", "AT": "DEA", "FR": "FRA", "IT": "ITA", "ES": "ESP"}.get(
            region.country, "ENU"
        ),
    }


def _items(rng: random.Random) -> list[Record]:
    out = []
    for product in master(EXTRA_ITEMS):
        cost = (product.net_price_eur * Decimal(rng.randint(45, 70)) / 100).quantize(
            Decimal("0.01")
        )
        out.append(
            {
                "No": product.sku,
                "Description": product.name[:100],
                "Type": "Inventory",
                "Base_Unit_of_Measure": "PCS",
                "GTIN": product.gtin,
                "Item_Category_Code": product.group.upper(),
                "Costing_Method": "FIFO",
                "Unit_Cost": money(cost),
                "Unit_Price": money(product.net_price_eur),
                "Vendor_No": rng.choice(("V00010", "V00020", "V00030")),
                "Gen_Prod_Posting_Group": "RETAIL",
                "VAT_Prod_Posting_Group": "STANDARD",
                "Inventory_Posting_Group": "RESALE",
                "Net_Weight": str(product.weight_kg),
                "Reorder_Point": str(rng.choice((5, 10, 20, 40))),
                "Search_Description": product.name.upper()[:100],
                "_inventory": str(rng.choice((0, 3, 12, 25, 40, 60, 90, 140, 220, 400))),
            }
        )
    return out


def _order(rng: random.Random, customer: Record, items: list[Record], day: date, n: int) -> Record:
    picked: dict[str, None] = {}  # the catalogue sells most; ordered, without repeats
    for _ in range(rng.randint(1, 4)):
        picked[rng.choice(items[:12] if rng.random() < 0.6 else items)["No"]] = None
    lines: list[Record] = [
        {
            "Type": "Item",
            "No": no,
            "Quantity": str(rng.choice((1, 1, 2, 3, 5, 10))),
            "Line_Discount_Percent": rng.choice(("0", "0", "5", "10")),
        }
        for no in picked
    ]
    lines.append(
        {
            "Type": "G_L_Account",
            "No": "6110",
            "Description": "Shipping",
            "Quantity": "1",
            "Unit_Price": "9.90",
        }
    )
    return {
        "Sell_to_Customer_No": customer["No"],
        "External_Document_No": f"PO-{day:%y%m}-{n:04d}",
        "Order_Date": day.isoformat(),
        "Document_Date": day.isoformat(),
        "Requested_Delivery_Date": (day + timedelta(days=rng.randint(3, 21))).isoformat(),
        "Salesperson_Code": customer.get("Salesperson_Code", ""),
        "Currency_Code": customer.get("Currency_Code", ""),
        "Ship_to_Name": customer["Name"],
        "Ship_to_Address": customer.get("Address", ""),
        "Ship_to_City": customer.get("City", ""),
        "Ship_to_Post_Code": customer.get("Post_Code", ""),
        "Ship_to_Country_Region_Code": customer.get("Country_Region_Code", ""),
        "SalesLines": lines,
    }


def seed_store(store: Store, seed: int = 1) -> SeedSummary:
    """Fills an empty store; deterministic for a given seed."""
    rng = random.Random(seed)
    start = datetime(START.year, START.month, START.day, 7, 0, tzinfo=UTC)
    with store.bulk(), _seeded_clock(store, start) as clock:
        customers = [store.create(PAGES["Customer"], _customer(rng, i)) for i in range(CUSTOMERS)]
        items = _items(rng)
        for item in items:
            stock = item.pop("_inventory")
            store.create(PAGES["Item"], item)
            store.set_flow_fields("Item", item["No"], {"Inventory": stock})
        _history(store, rng, clock, customers, items)
    return summarize(store)


def _history(
    store: Store, rng: random.Random, clock: _Clock, customers: list[Record], items: list[Record]
) -> None:
    """Orders over ``_DAYS`` days: older ones shipped and invoiced (most paid), some shipped in
    part, the newest still open."""
    posting = Posting(store)
    active = [c for c in customers if c["Blocked"] == "_blank_"]
    for n in range(ORDERS):
        day = START + timedelta(days=n * _DAYS // ORDERS)
        clock.now = max(clock.now, datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC))
        try:
            order = store.create(
                PAGES["Sales_Order"], _order(rng, rng.choice(active), items, day, n)
            )
        except BusinessError:
            continue  # over the credit limit: the ERP refused it, as it would a clerk
        age = _DAYS - n * _DAYS // ORDERS
        if age < 25:
            continue  # recent: still open
        agent, prefix = rng.choice(_AGENTS)
        lines = [(int(x["Line_No"]), Decimal(x["Quantity"])) for x in order["SalesLines"]]
        if age < 45:  # shipped in part
            lines = lines[:1] + [(no, Decimal(0)) for no, _ in lines[1:]]
        try:
            posting.post_shipment(
                order["No"],
                lines,
                shipping_agent_code=agent,
                package_tracking_no=f"{prefix}{rng.randrange(10**9, 10**10)}",
                posting_date=day + timedelta(days=2),
            )
        except BusinessError:
            continue  # out of stock: the order waits
        invoice_no = posting.post_invoice(order["No"], posting_date=day + timedelta(days=3))
        if age > 60 or rng.random() < 0.3:
            invoice = store.lookup("Posted_Sales_Invoice", invoice_no) or {}
            remaining = Decimal(str(invoice.get("Remaining_Amount") or "0"))
            if remaining > 0:
                paid = (
                    remaining if rng.random() < 0.85 else (remaining / 2).quantize(Decimal("0.01"))
                )
                posting.register_payment(invoice_no, paid)


def summarize(store: Store) -> SeedSummary:
    return SeedSummary(
        customers=store.count("Customer"),
        items=store.count("Item"),
        open_orders=store.count("Sales_Order"),
        shipments=store.count("Posted_Sales_Shipment"),
        invoices=store.count("Posted_Sales_Invoice"),
    )
