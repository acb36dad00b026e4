"""The CRM's deterministic starting data: business accounts, their contacts, opportunities,
cases, notes and calls — plus the web shop's registered customers as contacts (same names and
e-mail addresses as ``sandbox.webshop`` with the same seed), so the landscape agrees.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sandbox.crm.store import CrmStore, iso
from sandbox.seed_scale import scaled
from sandbox.webshop.orders import REGISTERED_CUSTOMER_IDS, registered_customer

ACCOUNT_COUNT = scaled(120)
SHOP_CONTACTS = 150  # the first registered web shop customers
_EPOCH = datetime(2024, 1, 8, 8, 0, 0, tzinfo=UTC)
_PREFIXES = (
    "Nord",
    "Süd",
    "Alpen",
    "Rhein",
    "Hanse",
    "Atlas",
    "Blue",
    "Union",
    "Central",
    "Pacific",
)
_TRADES = ("Kaffeehandel", "Gastro", "Office", "Hotel", "Roasters", "Café", "Bakery", "Catering")
_FORMS = ("GmbH", "AG", "KG", "Ltd", "LLC", "S.r.l.", "B.V.", "SARL")
_INDUSTRIES = ("Hospitality", "Retail", "Food & Beverage", "Wholesale", "Services")
_CITIES = (
    ("Hamburg", "HH", "20095", "Germany"),
    ("München", "BY", "80331", "Germany"),
    ("Wien", "", "1010", "Austria"),
    ("Milano", "MI", "20121", "Italy"),
    ("Amsterdam", "", "1012", "Netherlands"),
    ("Seattle", "WA", "98101", "USA"),
)
_FIRST = ("Anna", "Jonas", "Marie", "Paul", "Elena", "Tom", "Clara", "Felix", "Sara", "David")
_LAST = ("Keller", "Brandt", "Vogel", "Lang", "Roth", "Frank", "Berger", "Novak", "Costa", "Hill")
_STAGES = (
    ("Prospecting", "10"),
    ("Qualification", "20"),
    ("Proposal/Price Quote", "65"),
    ("Negotiation/Review", "80"),
    ("Closed Won", "100"),
    ("Closed Lost", "0"),
)
_CASE_SUBJECTS = (
    "Espresso machine leaks water",
    "Grinder delivered with wrong burrs",
    "Invoice shows wrong VAT rate",
    "Order arrived incomplete",
    "Descaling programme fails",
)
_CASE_STATUSES = ("Open_New", "Open_Assigned", "Open_Pending Input", "Closed_Closed")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(store: CrmStore, module: str, record_id: str, entered: datetime, days: int) -> None:
    record = store.records[module][record_id]
    record["date_entered"] = iso(entered)
    record["date_modified"] = iso(entered + timedelta(days=days, minutes=7))


def _account(store: CrmStore, rng: random.Random, n: int) -> str:
    city, state, postcode, country = rng.choice(_CITIES)
    name = f"{rng.choice(_PREFIXES)} {rng.choice(_TRADES)} {rng.choice(_FORMS)}"
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
    account_id = store.create(
        "Accounts",
        {
            "name": f"{name} ({n:03d})"
            if any(a["name"] == name for a in store.records["Accounts"].values())
            else name,
            "account_type": rng.choice(("Customer", "Customer", "Prospect", "Reseller", "Partner")),
            "industry": rng.choice(_INDUSTRIES),
            "employees": str(rng.choice((5, 12, 40, 120, 800))),
            "phone_office": f"+49 40 {rng.randint(1_000_000, 9_999_999)}",
            "website": f"https://{slug}.example.com",
            "email1": f"info@{slug}.example.com",
            "billing_address_street": f"Hafenstraße {rng.randint(1, 120)}",
            "billing_address_city": city,
            "billing_address_state": state,
            "billing_address_postalcode": postcode,
            "billing_address_country": country,
        },
        _uuid(rng),
    )
    _stamp(store, "Accounts", account_id, _EPOCH + timedelta(hours=n * 30), rng.randint(0, 300))
    return account_id


def _contact(store: CrmStore, rng: random.Random, attributes: dict[str, str], n: int) -> str:
    contact_id = store.create("Contacts", attributes, _uuid(rng))
    _stamp(store, "Contacts", contact_id, _EPOCH + timedelta(hours=n * 11), rng.randint(0, 200))
    return contact_id


def _b2b_contact(store: CrmStore, rng: random.Random, account_id: str, n: int) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    account = store.records["Accounts"][account_id]
    domain = account["email1"].split("@", 1)[1]
    return _contact(
        store,
        rng,
        {
            "salutation": rng.choice(("Mr.", "Ms.", "")),
            "first_name": first,
            "last_name": last,
            "title": rng.choice(("Owner", "Purchasing", "Office Manager", "Head Barista")),
            "email1": f"{first.lower()}.{last.lower()}@{domain}",
            "phone_work": account["phone_office"],
            "account_id": account_id,
            "primary_address_city": account["billing_address_city"],
            "primary_address_country": account["billing_address_country"],
            "lead_source": rng.choice(("Web Site", "Trade Show", "Existing Customer", "Email")),
        },
        n,
    )


def _deals(store: CrmStore, rng: random.Random, account_id: str, contact_id: str, n: int) -> None:
    entered = _EPOCH + timedelta(hours=n * 40)
    if rng.random() < 0.8:
        stage, probability = rng.choice(_STAGES)
        amount = str(rng.choice((1_500, 4_800, 12_500, 38_000, 96_000)))
        opp_id = store.create(
            "Opportunities",
            {
                "name": rng.choice(("Espresso bar fit-out", "Beans contract", "Grinder fleet")),
                "amount": amount,
                "amount_usdollar": amount,
                "currency_id": "-99",
                "sales_stage": stage,
                "probability": probability,
                "date_closed": (entered + timedelta(days=60)).date().isoformat(),
                "account_id": account_id,
            },
            _uuid(rng),
        )
        _stamp(store, "Opportunities", opp_id, entered, rng.randint(0, 90))
    if rng.random() < 0.6:
        status = rng.choice(_CASE_STATUSES)
        case_id = store.create(
            "Cases",
            {
                "name": rng.choice(_CASE_SUBJECTS),
                "type": rng.choice(("Product", "User", "Administration")),
                "status": status,
                "state": status.split("_", 1)[0],
                "priority": rng.choice(("P1", "P2", "P2", "P3")),
                "account_id": account_id,
            },
            _uuid(rng),
        )
        store.relate("Cases", case_id, "Contacts", contact_id)
        _stamp(store, "Cases", case_id, entered + timedelta(days=3), rng.randint(0, 30))
        note_id = store.create(
            "Notes",
            {"name": "Customer called", "description": "Asked for an update on the case.",
             "parent_type": "Cases", "parent_id": case_id, "contact_id": contact_id},
            _uuid(rng),
        )  # fmt: skip
        _stamp(store, "Notes", note_id, entered + timedelta(days=4), 0)
    start = entered + timedelta(days=rng.randint(1, 30), hours=2)
    call_id = store.create(
        "Calls",
        {
            "name": "Follow-up call",
            "status": rng.choice(("Planned", "Held", "Held", "Not Held")),
            "direction": rng.choice(("Outbound", "Inbound")),
            "date_start": iso(start),
            "date_end": iso(start + timedelta(minutes=15)),
            "duration_hours": "0",
            "duration_minutes": "15",
            "parent_type": "Accounts",
            "parent_id": account_id,
        },
        _uuid(rng),
    )
    _stamp(store, "Calls", call_id, start - timedelta(days=1), 1)


def seed_crm(store: CrmStore, seed: int = 1) -> None:
    """Fills an empty store; the same ``seed`` always gives the same records and ids."""
    rng = random.Random(f"crm:{seed}")
    contact_n = 0
    for n in range(ACCOUNT_COUNT):
        account_id = _account(store, rng, n)
        first_contact = ""
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            contact_id = _b2b_contact(store, rng, account_id, contact_n)
            first_contact = first_contact or contact_id
            contact_n += 1
        _deals(store, rng, account_id, first_contact, n)
    for customer_id in list(REGISTERED_CUSTOMER_IDS)[:SHOP_CONTACTS]:
        _region, billing, _rate = registered_customer(seed, customer_id)
        _contact(
            store,
            rng,
            {
                "first_name": billing["first_name"],
                "last_name": billing["last_name"],
                "email1": billing["email"],
                "phone_work": billing["phone"],
                "primary_address_street": billing["address_1"],
                "primary_address_city": billing["city"],
                "primary_address_postalcode": billing["postcode"],
                "primary_address_country": billing["country"],
                "lead_source": "Web Site",
                "description": f"Web shop customer {customer_id}",
            },
            contact_n,
        )
        contact_n += 1
