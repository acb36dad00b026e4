"""The shop's deterministic starting data: customers, products with stock, orders and notes.

``seed_shop(seed)`` always gives the same data: the registered customers every generated order
refers to (``REGISTERED_CUSTOMER_IDS``), the catalogue's products (the travel mug as a
variable product with two variations), and ``ORDER_COUNT`` orders from ``make_order``, the
older ones completed (or a few cancelled), the newest still ``processing``/``on-hold``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sandbox.pdm.products import generated
from sandbox.seed_scale import scaled
from sandbox.webshop.catalog import PRODUCTS, Product
from sandbox.webshop.lines import Json, money
from sandbox.webshop.orders import (
    REGISTERED_CUSTOMER_IDS,
    SITE_TIMEZONE,
    complete_order,
    make_order,
    registered_customer,
)

FIRST_ORDER_ID = 1001
ORDER_COUNT = scaled(200)
_EPOCH_GMT = datetime(2025, 3, 3, 6, 0, 0, tzinfo=UTC)
_STOCK_LEVELS = (0, 4, 9, 18, 35, 60, 85, 120, 160, 240)
STATUS_LABELS = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}


@dataclass
class ShopData:
    customers: dict[int, Json] = field(default_factory=dict)
    products: dict[int, Json] = field(default_factory=dict)  # products and variations by id
    orders: dict[int, Json] = field(default_factory=dict)
    notes: dict[int, list[Json]] = field(default_factory=dict)  # by order id
    next_note_id: int = 1


def wc_dates(name: str, moment: datetime) -> Json:
    """``date_<name>`` (site time) and ``date_<name>_gmt``, both without an offset."""
    local = moment.astimezone(SITE_TIMEZONE).replace(tzinfo=None)
    gmt = moment.astimezone(UTC).replace(tzinfo=None)
    return {
        f"date_{name}": local.isoformat(timespec="seconds"),
        f"date_{name}_gmt": gmt.isoformat(timespec="seconds"),
    }


def _links(site_url: str, resource: str, item_id: int) -> Json:
    base = f"{site_url}/wp-json/wc/v3/{resource}"
    return {"self": [{"href": f"{base}/{item_id}"}], "collection": [{"href": base}]}


def make_customer(seed: int, customer_id: int, site_url: str) -> Json:
    """The ``/wc/v3/customers/<id>`` record of a registered customer of ``make_order``."""
    _region, billing, _rate = registered_customer(seed, customer_id)
    rng = random.Random(f"wc-customer-account:{seed}:{customer_id}")
    created = _EPOCH_GMT - timedelta(days=rng.randint(20, 900), seconds=rng.randint(0, 86_399))
    shipping = {key: value for key, value in billing.items() if key != "email"}
    shipping["phone"] = ""
    email = billing["email"]
    digest = hashlib.md5(email.encode("utf-8"), usedforsecurity=False).hexdigest()
    return {
        "id": customer_id,
        **wc_dates("created", created),
        **wc_dates("modified", created),
        "email": email,
        "first_name": billing["first_name"],
        "last_name": billing["last_name"],
        "role": "customer",
        "username": email.split("@", 1)[0],
        "billing": dict(billing),
        "shipping": shipping,
        "is_paying_customer": False,
        "avatar_url": f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g",
        "meta_data": [],
        "_links": _links(site_url, "customers", customer_id),
    }


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


def stock_status(product: Json) -> str:
    """WooCommerce derives it from the quantity when stock is managed (no backorders)."""
    if product["manage_stock"]:
        quantity = product["stock_quantity"] or 0
        return "instock" if quantity > 0 else "outofstock"
    return str(product["stock_status"])


def _product_base(item: Product, item_id: int, site_url: str, created: datetime) -> Json:
    price = money(item.price_eur)
    return {
        "id": item_id,
        **wc_dates("created", created),
        **wc_dates("modified", created),
        "status": "publish",
        "sku": item.sku,
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "on_sale": False,
        "purchasable": True,
        "virtual": False,
        "downloadable": False,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": True,
        "stock_quantity": 0,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "image": {
            "id": item.image_id,
            "src": f"{site_url}/wp-content/uploads/2025/01/{item.sku.lower()}.jpg",
        },
        "meta_data": [],
    }


def make_products(seed: int, site_url: str) -> dict[int, Json]:
    """Every catalogue product (variations under their variable parent) with seeded stock."""
    rng = random.Random(f"wc-products:{seed}")
    created = _EPOCH_GMT - timedelta(days=400)
    products: dict[int, Json] = {}
    for item in PRODUCTS:
        quantity = rng.choice(_STOCK_LEVELS)
        if item.variation_id:
            record = _product_base(item, item.variation_id, site_url, created)
            record.update(
                parent_id=item.product_id,
                type="variation",
                name=item.name,
                attributes=[{"id": 0, "name": a[2], "option": a[3]} for a in item.attributes],
                permalink=f"{site_url}/product/{_slug(item.parent_name or item.name)}/",
                _links=_links(
                    site_url, f"products/{item.product_id}/variations", item.variation_id
                ),
            )
            parent = products.setdefault(item.product_id, _variable_parent(item, site_url, created))
            parent["variations"].append(item.variation_id)
        else:
            record = _product_base(item, item.product_id, site_url, created)
            record.update(
                parent_id=0,
                type="simple",
                name=item.name,
                slug=_slug(item.name),
                permalink=f"{site_url}/product/{_slug(item.name)}/",
                variations=[],
                _links=_links(site_url, "products", item.product_id),
            )
        record["stock_quantity"] = quantity
        record["stock_status"] = stock_status(record)
        products[record["id"]] = record
    products.update(_range_products(rng, site_url, created))
    return products


EXTRA_PRODUCTS = 188  # the rest of the product master the ERP and the PDM also carry


def _range_products(rng: random.Random, site_url: str, created: datetime) -> dict[int, Json]:
    """The accessories and care range beyond the catalogue's showcase products."""
    out: dict[int, Json] = {}
    for index, master in enumerate(generated(EXTRA_PRODUCTS), start=1):
        item = Product(
            product_id=5000 + index,
            variation_id=0,
            name=master.name,
            sku=master.sku,
            price_eur=master.net_price_eur,
            image_id=7000 + index,
        )
        record = _product_base(item, item.product_id, site_url, created)
        record.update(
            parent_id=0,
            type="simple",
            name=item.name,
            slug=_slug(item.name),
            permalink=f"{site_url}/product/{_slug(item.name)}/",
            variations=[],
            _links=_links(site_url, "products", item.product_id),
        )
        record["stock_quantity"] = rng.choice(_STOCK_LEVELS)
        record["stock_status"] = stock_status(record)
        out[item.product_id] = record
    return out


def _variable_parent(item: Product, site_url: str, created: datetime) -> Json:
    name = item.parent_name or item.name
    record = _product_base(item, item.product_id, site_url, created)
    record.update(
        parent_id=0,
        type="variable",
        name=name,
        slug=_slug(name),
        sku=item.sku.rsplit("-", 2)[0],
        permalink=f"{site_url}/product/{_slug(name)}/",
        manage_stock=False,
        stock_quantity=None,
        stock_status="instock",
        variations=[],
        _links=_links(site_url, "products", item.product_id),
    )
    return record


def _system_note(data: ShopData, order: Json, text: str, at_gmt: str) -> None:
    moment = datetime.fromisoformat(at_gmt).replace(tzinfo=UTC)
    note = {
        "id": data.next_note_id,
        "author": "system",
        **wc_dates("created", moment),
        "note": text,
        "customer_note": False,
    }
    data.next_note_id += 1
    data.notes.setdefault(order["id"], []).append(note)


def _seed_order(data: ShopData, seed: int, order_id: int, site_url: str) -> None:
    order = make_order(seed, order_id, site_url=site_url)
    rng = random.Random(f"wc-order-history:{seed}:{order_id}")
    first = STATUS_LABELS["pending"]
    _system_note(
        data,
        order,
        f"Order status changed from {first} to {STATUS_LABELS[order['status']]}.",
        order["date_modified_gmt"],
    )
    age = (FIRST_ORDER_ID + ORDER_COUNT - order_id) / ORDER_COUNT  # 1.0 oldest .. 0 newest
    if age > 0.3 and rng.random() < 0.95:
        before = order["status"]
        order = complete_order(order, after=timedelta(hours=rng.randint(20, 120)))
        text = f"Order status changed from {STATUS_LABELS[before]} to Completed."
        _system_note(data, order, text, order["date_modified_gmt"])
    elif age > 0.3:
        order.update(status="cancelled", is_editable=False, needs_processing=False)
    data.orders[order_id] = order


def seed_shop(seed: int = 1, site_url: str = "http://shop.example") -> ShopData:
    """The whole starting data of the shop; the same ``seed`` always gives the same data."""
    data = ShopData()
    for customer_id in REGISTERED_CUSTOMER_IDS:
        data.customers[customer_id] = make_customer(seed, customer_id, site_url)
    data.products = make_products(seed, site_url)
    for order_id in range(FIRST_ORDER_ID, FIRST_ORDER_ID + ORDER_COUNT):
        _seed_order(data, seed, order_id, site_url)
    for order in data.orders.values():
        customer = data.customers.get(order["customer_id"])
        if customer is not None and order["date_paid"] is not None:
            customer["is_paying_customer"] = True
    return data
