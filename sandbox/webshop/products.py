"""Creating simple products (``POST /products``) as WooCommerce does it.

WooCommerce answers 201 with the new product; a SKU another product already uses is refused
with 400 ``product_invalid_sku`` ("Invalid or duplicated SKU."); a product needs a name.
``status`` is one of draft, pending, private, publish; ``catalog_visibility`` one of visible,
catalog, search, hidden (both also checked on update, ``validate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.webshop.lines import Json
from sandbox.webshop.query import RestError, invalid_param
from sandbox.webshop.seed import stock_status, wc_dates

STATUSES = ("draft", "pending", "private", "publish")
VISIBILITIES = ("visible", "catalog", "search", "hidden")
TEXTS = ("name", "description", "short_description", "catalog_visibility", "status", "sku")


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())


def validate(body: Json, products: dict[int, Json], product_id: int | None = None) -> None:
    """The checks WooCommerce makes on the fields this sandbox stores."""
    if "status" in body and body["status"] not in STATUSES:
        raise invalid_param("status", "status is not one of draft, pending, private, and publish.")
    visibility = body.get("catalog_visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise invalid_param(
            "catalog_visibility",
            "catalog_visibility is not one of visible, catalog, search, and hidden.",
        )
    sku = body.get("sku")
    if sku:
        for other in products.values():
            if other.get("sku") == sku and other["id"] != product_id:
                raise RestError(400, "product_invalid_sku", "Invalid or duplicated SKU.")


def new_product(product_id: int, body: Json, now: datetime, site_url: str) -> Json:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RestError(400, "woocommerce_rest_product_invalid_name", "A product needs a name.")
    price = str(body.get("regular_price") or "")
    sale = str(body.get("sale_price") or "")
    record: Json = {
        "id": product_id,
        **wc_dates("created", now),
        **wc_dates("modified", now),
        "parent_id": 0,
        "type": "simple",
        "name": name,
        "slug": _slug(name),
        "permalink": f"{site_url}/product/{_slug(name)}/",
        "status": "publish",
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": "",
        "price": sale or price,
        "regular_price": price,
        "sale_price": sale,
        "on_sale": bool(sale),
        "purchasable": True,
        "virtual": False,
        "downloadable": False,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": bool(body.get("manage_stock", False)),
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "weight": str(body.get("weight") or ""),
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "variations": [],
        "meta_data": [],
        "_links": {
            "self": [{"href": f"{site_url}/wp-json/wc/v3/products/{product_id}"}],
            "collection": [{"href": f"{site_url}/wp-json/wc/v3/products"}],
        },
    }
    for field in TEXTS:
        if field in body and field != "name":
            record[field] = str(body[field])
    quantity: Any = body.get("stock_quantity")
    if quantity is not None:
        try:
            record["stock_quantity"] = int(quantity)
        except (TypeError, ValueError):
            raise invalid_param(
                "stock_quantity", "stock_quantity is not of type integer."
            ) from None
    record["stock_status"] = stock_status(record)
    return record
