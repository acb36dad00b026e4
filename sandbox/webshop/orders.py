"""Deterministic WooCommerce REST API v3 orders, shaped like the payload of an order webhook.

``make_order(seed, order_id)`` returns the dict WooCommerce's ``/wc/v3/orders/<id>`` endpoint
builds (``WC_REST_Orders_V2_Controller::get_formatted_item_data`` plus v3's extras), which is
what an ``order.*`` webhook carries. Its quirks are reproduced because mappings must cope:

- money is a string with the shop's decimals (``"29.35"``), except ``line_items[].price``,
  which is a JSON number (``total / quantity``), and the per-rate ``taxes`` entries, which are
  trimmed decimals (``"0.9"``);
- ``date_created`` is the *site's local time without an offset*; only ``date_created_gmt``
  says UTC (also without an offset). The shop's timezone is ``SITE_TIMEZONE``;
- checkout leaves an order ``processing`` or ``on-hold``; ``complete_order`` makes the later
  ``completed`` state;
- guests have ``customer_id`` 0; registered customers keep one id, name and address per seed;
- ``state`` is WooCommerce's code (``"CA"``, ``"DE-BY"``, ``"MI"``) or ``""`` where the
  country has none; ``country`` is ISO 3166-1 alpha-2.

Totals add up the WooCommerce way (tax rounded per line): ``total = sum(line_items.total) +
sum(fee_lines.total) + shipping_total + total_tax`` and ``total_tax = cart_tax +
shipping_tax``; ``discount_total = sum(line subtotal - line total)``.
"""

from __future__ import annotations

import copy
import random
import string
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.seed_scale import scaled
from sandbox.webshop.catalog import (
    COD_FEE,
    COUPON,
    PAYMENT_METHODS,
    PRODUCTS,
    REGIONS,
    USER_AGENTS,
    Product,
    Region,
    TaxRate,
)
from sandbox.webshop.lines import Basket, Json, money

SITE_URL = "http://shop.example"
SITE_TIMEZONE = ZoneInfo("Europe/Berlin")
WC_VERSION = "9.8.5"
_EPOCH_GMT = datetime(2025, 3, 3, 6, 0, 0, tzinfo=UTC)
_GUEST_SHARE = 0.4
# the user ids orders of registered customers use
REGISTERED_CUSTOMER_IDS = range(2, 2 + scaled(399))


def _wc_date(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _local_and_gmt(moment: datetime | None) -> tuple[str | None, str | None]:
    if moment is None:
        return None, None
    return _wc_date(moment.astimezone(SITE_TIMEZONE)), _wc_date(moment.astimezone(UTC))


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _token(rng: random.Random, length: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _pick_region(rng: random.Random) -> Region:
    return rng.choices(REGIONS, weights=[region.weight for region in REGIONS])[0]


def _person(rng: random.Random, region: Region) -> tuple[Json, TaxRate]:
    """A billing address (with e-mail and phone) and the tax rate that applies to it."""
    place, rate = rng.choice(region.places)
    first, last = rng.choice(region.first_names), rng.choice(region.last_names)
    company = rng.choice(region.companies) if rng.random() < 0.2 else ""
    domain = rng.choice(("example.com", "example.org", "example.net"))
    billing: Json = {
        "first_name": first,
        "last_name": last,
        "company": company,
        "address_1": place.street,
        "address_2": rng.choice(("", "", "", "Apt 4B" if region.country == "US" else "2. OG")),
        "city": place.city,
        "state": place.state,
        "postcode": place.postcode,
        "country": region.country,
        "email": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@{domain}",
        "phone": f"{region.phone_prefix}{rng.randint(1_000_000, 9_999_999)}",
    }
    if region.country == "US":
        area = rng.choice(("415", "212", "512", "206"))
        billing["phone"] = f"({area}) 555-01{rng.randint(0, 99):02d}"
    return billing, rate


def _shipping_address(rng: random.Random, billing: Json, region: Region) -> Json:
    shipping = {key: billing[key] for key in billing if key != "email"}
    shipping["phone"] = ""
    if rng.random() < 0.25:  # a gift or a workplace: another name, same city
        shipping["first_name"] = rng.choice(region.first_names)
        shipping["company"] = ""
    return shipping


def _sum(values: Iterable[str]) -> Decimal:
    return sum((Decimal(value) for value in values), Decimal(0))


def _quantity(rng: random.Random, product: Product) -> int:
    if product.price_eur >= 50:
        return rng.choice((1, 1, 1, 1, 2))
    return rng.choice((1, 1, 1, 2, 2, 3, 6))


def _customer(rng: random.Random, seed: int) -> tuple[int, Region, Json, TaxRate]:
    if rng.random() < _GUEST_SHARE:
        region = _pick_region(rng)
        billing, rate = _person(rng, region)
        return 0, region, billing, rate
    customer_id = rng.randint(REGISTERED_CUSTOMER_IDS.start, REGISTERED_CUSTOMER_IDS.stop - 1)
    region, billing, rate = registered_customer(seed, customer_id)
    return customer_id, region, billing, rate


def registered_customer(seed: int, customer_id: int) -> tuple[Region, Json, TaxRate]:
    """A registered customer's region, billing address and tax rate: the same in every order
    of this seed (``customer_id`` in ``REGISTERED_CUSTOMER_IDS``)."""
    person_rng = random.Random(f"wc-customer:{seed}:{customer_id}")
    region = _pick_region(person_rng)
    billing, rate = _person(person_rng, region)
    return region, billing, rate


def _links(site_url: str, order_id: int, customer_id: int) -> Json:
    links: Json = {
        "self": [
            {
                "href": f"{site_url}/wp-json/wc/v3/orders/{order_id}",
                "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            }
        ],
        "collection": [{"href": f"{site_url}/wp-json/wc/v3/orders"}],
    }
    if customer_id:
        links["customer"] = [{"href": f"{site_url}/wp-json/wc/v3/customers/{customer_id}"}]
    return links


def _payment(rng: random.Random, order_id: int) -> Json:
    """Gateway, status, transaction id and the four WooCommerce dates (local and GMT)."""
    gateway, title, status, paid_at_checkout = rng.choice(PAYMENT_METHODS)
    created = _EPOCH_GMT + timedelta(minutes=11 * (order_id % 50_000), seconds=rng.randint(0, 59))
    paid = created + timedelta(seconds=rng.randint(2, 9)) if paid_at_checkout else None
    completed: datetime | None = None  # an order is completed later (see complete_order)
    modified = paid or created + timedelta(seconds=rng.randint(1, 3))
    transaction_id = ""
    if gateway == "stripe":
        transaction_id = "ch_3" + _token(rng, 23, string.ascii_letters + string.digits)
    elif gateway == "ppcp-gateway":
        transaction_id = _token(rng, 17, string.ascii_uppercase + string.digits)
    dates: Json = {}
    for name, moment in (
        ("created", created),
        ("modified", modified),
        ("completed", completed),
        ("paid", paid),
    ):
        dates[f"date_{name}"], dates[f"date_{name}_gmt"] = _local_and_gmt(moment)
    return {
        "gateway": gateway,
        "title": title,
        "status": status,
        "transaction_id": transaction_id,
        **dates,
    }


def make_order(seed: int, order_id: int, *, site_url: str = SITE_URL) -> Json:
    """One realistic order; the same ``(seed, order_id)`` always gives the same dict."""
    rng = random.Random(f"wc-order:{seed}:{order_id}")
    customer_id, region, billing, rate = _customer(rng, seed)
    shipping = _shipping_address(rng, billing, region)
    basket = Basket(rate, region.currency, site_url, next_item_id=order_id * 100)

    coupon_pct = COUPON[1] if rng.random() < 0.2 else Decimal(0)
    count = rng.choices((1, 2, 3, 4, 5), weights=(35, 30, 18, 10, 7))[0]
    line_items = [
        basket.line_item(product, _quantity(rng, product), coupon_pct)
        for product in rng.sample(PRODUCTS, count)
    ]
    items_total = _sum(li["total"] for li in line_items)
    discount_total = _sum(li["subtotal"] for li in line_items) - items_total
    discount_tax = _sum(li["subtotal_tax"] for li in line_items) - _sum(
        li["total_tax"] for li in line_items
    )
    pay = _payment(rng, order_id)
    fee_lines = [basket.fee_line(*COD_FEE)] if pay["gateway"] == "cod" else []
    shipping_line = basket.shipping_line(region, items_total, line_items)
    shipping_total = Decimal(shipping_line["total"])
    shipping_tax = Decimal(shipping_line["total_tax"])
    cart_tax = _sum(li["total_tax"] for li in line_items) + _sum(f["total_tax"] for f in fee_lines)
    total_tax = cart_tax + shipping_tax
    total = items_total + _sum(f["total"] for f in fee_lines) + shipping_total + total_tax
    coupon_lines = []
    if coupon_pct:
        coupon_lines.append(basket.coupon_line(COUPON[0], coupon_pct, discount_total, discount_tax))
    tax_lines = [basket.tax_line(cart_tax, shipping_tax)]
    order_key = "wc_order_" + _token(rng, 13, string.ascii_letters + string.digits)
    status = pay["status"]

    return {
        "id": order_id,
        "parent_id": 0,
        "status": status,
        "currency": region.currency,
        "version": WC_VERSION,
        "prices_include_tax": False,
        "date_created": pay["date_created"],
        "date_modified": pay["date_modified"],
        "discount_total": money(discount_total),
        "discount_tax": money(discount_tax),
        "shipping_total": money(shipping_total),
        "shipping_tax": money(shipping_tax),
        "cart_tax": money(cart_tax),
        "total": money(total),
        "total_tax": money(total_tax),
        "customer_id": customer_id,
        "order_key": order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": pay["gateway"],
        "payment_method_title": pay["title"],
        "transaction_id": pay["transaction_id"],
        "customer_ip_address": f"203.0.113.{rng.randint(1, 254)}",
        "customer_user_agent": rng.choice(USER_AGENTS),
        "created_via": "checkout",
        "customer_note": rng.choice(region.notes),
        "date_completed": pay["date_completed"],
        "date_paid": pay["date_paid"],
        "cart_hash": _token(rng, 32, "0123456789abcdef"),
        "number": str(order_id),
        "meta_data": [
            {"id": order_id * 100 - 3, "key": "is_vat_exempt", "value": "no"},
            {
                "id": order_id * 100 - 2,
                "key": "_wc_order_attribution_source_type",
                "value": "typein",
            },
            {
                "id": order_id * 100 - 1,
                "key": "_wc_order_attribution_device_type",
                "value": "Desktop",
            },
        ],
        "line_items": line_items,
        "tax_lines": tax_lines,
        "shipping_lines": [shipping_line],
        "fee_lines": fee_lines,
        "coupon_lines": coupon_lines,
        "refunds": [],
        "payment_url": (
            f"{site_url}/checkout/order-pay/{order_id}/?pay_for_order=true&key={order_key}"
        ),
        "is_editable": status == "on-hold",
        "needs_payment": False,
        "needs_processing": True,
        "date_created_gmt": pay["date_created_gmt"],
        "date_modified_gmt": pay["date_modified_gmt"],
        "date_completed_gmt": pay["date_completed_gmt"],
        "date_paid_gmt": pay["date_paid_gmt"],
        "currency_symbol": region.currency_symbol,
        "_links": _links(site_url, order_id, customer_id),
    }


def complete_order(order: Json, *, after: timedelta = timedelta(days=2)) -> Json:
    """A copy of ``order`` as WooCommerce shows it once completed (for ``order.updated``)."""
    created = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
    local, gmt = _local_and_gmt(created + after)
    updated = copy.deepcopy(order)
    updated.update(
        status="completed",
        is_editable=False,
        date_completed=local,
        date_completed_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    if updated["date_paid"] is None:  # bank transfer or cash on delivery: paid on completion
        updated.update(date_paid=local, date_paid_gmt=gmt)
    return updated
