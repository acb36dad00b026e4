"""Records made and changed from REST requests: new orders (totals computed the way
WooCommerce does), new customers, address and ``meta_data`` updates."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.webshop.catalog import COD_FEE, PRODUCTS, REGIONS, Product, Region, TaxRate
from sandbox.webshop.lines import Basket, Json, money
from sandbox.webshop.orders import WC_VERSION
from sandbox.webshop.query import RestError
from sandbox.webshop.seed import wc_dates

ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "phone",
)
_NO_TAX = TaxRate(0, Decimal(0), "", "", "", shipping_taxed=False)


def address(raw: Any, *, with_email: bool) -> Json:
    source = raw if isinstance(raw, dict) else {}
    fields = ADDRESS_FIELDS + (("email",) if with_email else ())
    return {name: str(source.get(name) or "") for name in fields}


def _region_and_rate(billing: Json) -> tuple[Region | None, TaxRate]:
    for region in REGIONS:
        if region.country == billing["country"]:
            for place, rate in region.places:
                if place.state == billing["state"]:
                    return region, rate
            return region, region.places[0][1]
    return None, _NO_TAX


def _product(line: Any, index: int) -> tuple[Product, int]:
    if not isinstance(line, dict):
        raise RestError(400, "rest_invalid_param", f"line_items[{index}] is not an object.")
    product_id, variation_id = int(line.get("product_id") or 0), int(line.get("variation_id") or 0)
    sku = str(line.get("sku") or "")
    for item in PRODUCTS:
        by_id = product_id and item.product_id == product_id
        if (by_id and item.variation_id == variation_id) or (sku and item.sku == sku):
            try:
                quantity = int(line.get("quantity", 1))
            except (TypeError, ValueError):
                quantity = 0
            if quantity < 1:
                raise RestError(
                    400,
                    "woocommerce_rest_invalid_product_quantity",
                    "Product quantity must be a positive float.",
                )
            return item, quantity
    if not product_id and not sku:
        raise RestError(
            400, "woocommerce_rest_required_product_reference", "Product ID or SKU is required."
        )
    raise RestError(400, "woocommerce_rest_invalid_product_id", "Invalid product ID or SKU.")


def build_order(body: Json, order_id: int, now: datetime, site_url: str) -> Json:
    """The new order (status ``pending`` unless given or ``set_paid``), totals computed."""
    billing = address(body.get("billing"), with_email=True)
    shipping = address(body.get("shipping") or body.get("billing"), with_email=False)
    region, rate = _region_and_rate(billing)
    currency = str(body.get("currency") or (region.currency if region else "EUR"))
    basket = Basket(rate, currency, site_url, next_item_id=order_id * 100)
    lines = body.get("line_items") or []
    if not isinstance(lines, list):
        raise RestError(400, "rest_invalid_param", "Invalid parameter(s): line_items")
    line_items = [basket.line_item(*_product(line, n), Decimal(0)) for n, line in enumerate(lines)]
    items_total = sum((Decimal(li["total"]) for li in line_items), Decimal(0))
    payment_method = str(body.get("payment_method") or "")
    fee_lines = [basket.fee_line(*COD_FEE)] if payment_method == "cod" else []
    shipping_lines = [basket.shipping_line(region, items_total, line_items)] if region else []
    shipping_total = sum((Decimal(s["total"]) for s in shipping_lines), Decimal(0))
    shipping_tax = sum((Decimal(s["total_tax"]) for s in shipping_lines), Decimal(0))
    cart_tax = sum((Decimal(x["total_tax"]) for x in line_items + fee_lines), Decimal(0))
    fees = sum((Decimal(f["total"]) for f in fee_lines), Decimal(0))
    total = items_total + fees + shipping_total + cart_tax + shipping_tax
    status = "processing" if body.get("set_paid") else str(body.get("status") or "pending")
    order_key = "wc_order_" + secrets.token_urlsafe(10)[:13]
    customer_id = int(body.get("customer_id") or 0)
    paid = wc_dates("paid", now) if body.get("set_paid") else {"date_paid": None}
    links: Json = {
        "self": [{"href": f"{site_url}/wp-json/wc/v3/orders/{order_id}"}],
        "collection": [{"href": f"{site_url}/wp-json/wc/v3/orders"}],
    }
    if customer_id:
        links["customer"] = [{"href": f"{site_url}/wp-json/wc/v3/customers/{customer_id}"}]
    return {
        "id": order_id,
        "parent_id": int(body.get("parent_id") or 0),
        "status": status,
        "currency": currency,
        "version": WC_VERSION,
        "prices_include_tax": False,
        **wc_dates("created", now),
        **wc_dates("modified", now),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": money(shipping_total),
        "shipping_tax": money(shipping_tax),
        "cart_tax": money(cart_tax),
        "total": money(total),
        "total_tax": money(cart_tax + shipping_tax),
        "customer_id": customer_id,
        "order_key": order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": payment_method,
        "payment_method_title": str(body.get("payment_method_title") or ""),
        "transaction_id": str(body.get("transaction_id") or ""),
        "customer_ip_address": "",
        "customer_user_agent": "",
        "created_via": "rest-api",
        "customer_note": str(body.get("customer_note") or ""),
        "date_completed": None,
        "date_completed_gmt": None,
        **({"date_paid_gmt": None} | paid),
        "cart_hash": "",
        "number": str(order_id),
        "meta_data": [],
        "line_items": line_items,
        "tax_lines": [basket.tax_line(cart_tax, shipping_tax)] if rate.rate_id else [],
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "coupon_lines": [],
        "refunds": [],
        "payment_url": (
            f"{site_url}/checkout/order-pay/{order_id}/?pay_for_order=true&key={order_key}"
        ),
        "is_editable": status in ("pending", "on-hold", "auto-draft"),
        "needs_payment": status == "pending",
        "needs_processing": True,
        "currency_symbol": "$" if currency == "USD" else "€",
        "_links": links,
    }


def new_customer(customer_id: int, email: str, body: Json, now: datetime, site_url: str) -> Json:
    customer: Json = {
        "id": customer_id,
        **wc_dates("created", now),
        **wc_dates("modified", now),
        "email": email,
        "first_name": "",
        "last_name": "",
        "role": "customer",
        "username": str(body.get("username") or email.split("@", 1)[0]),
        "billing": address({}, with_email=True),
        "shipping": address({}, with_email=False),
        "is_paying_customer": False,
        "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
        "meta_data": [],
        "_links": _links(site_url, "customers", customer_id),
    }
    apply_customer(customer, body)
    return customer


def _links(site_url: str, resource: str, item_id: int) -> Json:
    base = f"{site_url}/wp-json/wc/v3/{resource}"
    return {"self": [{"href": f"{base}/{item_id}"}], "collection": [{"href": base}]}


def apply_customer(customer: Json, body: Json) -> None:
    for name in ("email", "first_name", "last_name"):
        if name in body:
            customer[name] = str(body[name] or "")
    for name in ("billing", "shipping"):
        if isinstance(body.get(name), dict):
            customer[name].update(address(body[name], with_email=name == "billing"))
    apply_meta(customer, body.get("meta_data"))


def apply_meta(record: Json, changes: Any) -> None:
    """WooCommerce's ``update_meta_data``: by ``id`` if given, else replaces the key."""
    if not isinstance(changes, list):
        return
    meta: list[Json] = record.setdefault("meta_data", [])
    for change in changes:
        if not isinstance(change, dict) or "key" not in change:
            continue
        by_id = [m for m in meta if change.get("id") and m["id"] == change["id"]]
        if by_id:
            by_id[0]["value"] = change.get("value")
            continue
        meta[:] = [m for m in meta if m["key"] != change["key"]]
        if change.get("value") is not None:
            next_id = max((m["id"] for m in meta), default=record["id"] * 100) + 1
            meta.append({"id": next_id, "key": change["key"], "value": change.get("value")})
