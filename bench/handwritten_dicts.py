"""The WooCommerce order mapping written by hand as plain Python producing plain dicts.

It makes exactly what the engine's two mapping files make before canonical validation (the
benchmark checks that first), with the same error collection, so the benchmark compares the
engine with the code a developer would write for the same job.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

from bench.handwritten_woocommerce import decimal, quantity, utc_naive_iso
from mappings.engine.geo import _alpha2, subdivision_code

STATUS = {
    "pending": "received",
    "on-hold": "received",
    "checkout-draft": "received",
    "processing": "accepted",
    "completed": "shipped",
    "cancelled": "cancelled",
    "refunded": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}
_Q = Decimal("0.0001")


def _text(value: Any) -> Any:
    if value.__class__ is str:
        return value.strip() or None
    return value


class _Errors(list[tuple[str, str]]):
    def parse(self, path: str, value: Any, parser: Any, required: bool = False) -> Any:
        value = _text(value)
        if value is None:
            if required:
                self.append((path, "is required but missing or empty"))
            return None
        try:
            return parser(value)
        except (ValueError, ArithmeticError) as exc:
            self.append((path, str(exc)))
            return None


def _address(block: Any, prefix: str, kind: str, errs: _Errors) -> dict[str, Any] | None:
    if not isinstance(block, dict) or _text(block.get("address_1")) is None:
        return None
    first, last = _text(block.get("first_name")), _text(block.get("last_name"))
    out: dict[str, Any] = {"kind": kind, "street": _text(block["address_1"])}
    name = " ".join(str(p) for p in (first, last) if p)
    for key, value in (
        ("name", name or None),
        ("company", _text(block.get("company"))),
        ("street2", _text(block.get("address_2"))),
        ("postal_code", _text(block.get("postcode"))),
    ):
        if value is not None:
            out[key] = value
    city = _text(block.get("city"))
    if city is None:
        errs.append((f"{prefix}.city", "is required but missing or empty"))
    else:
        out["city"] = city
    country = _text(block.get("country"))
    state = _text(block.get("state"))
    if state is not None:
        if country and state.upper().startswith(f"{country.upper()}-"):
            state = state[len(country) + 1 :]
        if len(state) <= 3:
            state = state.upper()
        elif country and (code := _alpha2(country.upper())):
            state = subdivision_code(state, code) or state
        out["subdivision"] = state
    if country is None:
        errs.append((f"{prefix}.country", "is required but missing or empty"))
    else:
        code = country.upper() if country.upper() == "XK" else _alpha2(country.upper())
        if code is None:
            errs.append((f"{prefix}.country", f"{country!r} is not an ISO 3166-1 country"))
        else:
            out["country"] = code
    return out


def _customer_key(order: dict[str, Any], errs: _Errors) -> str | None:
    customer_id = _text(order.get("customer_id"))
    if customer_id not in (None, 0, "0"):
        return str(customer_id)
    email = _text((order.get("billing") or {}).get("email"))
    if email is None:
        errs.append(("billing.email", "is required for a guest order (customer_id is 0)"))
        return None
    return f"guest:{str(email).lower()}"


def _money(errs: _Errors, path: str, value: Any, currency: Any, required: bool = False) -> Any:
    amount = errs.parse(path, value, decimal, required)
    if amount is None:
        return None
    return {"amount": amount, "currency": currency} if currency else {"amount": amount}


def _line(item: dict[str, Any], i: int, currency: Any, errs: _Errors) -> dict[str, Any]:
    p = f"line_items[{i}]."
    out: dict[str, Any] = {"line_number": i + 1}
    sku = _text(item.get("sku"))
    if sku is None:
        for key in ("variation_id", "product_id"):
            if _text(item.get(key)) not in (None, 0, "0"):
                sku = f"WC-{_text(item[key])}"
                break
        else:
            errs.append((p + "sku", "neither a SKU nor a product_id identifies the item"))
    if sku is not None:
        out["sku"] = sku
    if (name := _text(item.get("name"))) is not None and (name := html.unescape(name).strip()):
        out["description"] = name
    qty = errs.parse(p + "quantity", item.get("quantity"), quantity, True)
    subtotal = errs.parse(p + "subtotal", item.get("subtotal"), decimal, True)
    if qty is not None:
        out["quantity"] = qty
    if qty is not None and subtotal is not None:
        price = (subtotal / qty).quantize(_Q)
        price = price.quantize(Decimal(1)) if price == price.to_integral() else price.normalize()
        out["unit_price"] = {"amount": price, "currency": currency}
    total = errs.parse(p + "total", item.get("total"), decimal, True)
    if subtotal is not None and total is not None:
        out["discount"] = {"amount": subtotal - total, "currency": currency}
    if total is not None:
        out["line_total"] = {"amount": total, "currency": currency}
    if (tax := _money(errs, p + "total_tax", item.get("total_tax"), currency)) is not None:
        out["tax"] = tax
    return out


def map_order_dicts(order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """(customer values, order values, errors), as the engine's two mappings give them."""
    errs = _Errors()
    billing = order.get("billing") or {}
    currency = _text(order.get("currency"))
    if currency is None:
        errs.append(("currency", "is required but missing or empty"))
    key = _customer_key(order, errs)
    company = _text(billing.get("company"))
    first, last = _text(billing.get("first_name")), _text(billing.get("last_name"))
    name = company or " ".join(str(p) for p in (first, last) if p) or None
    if name is None:
        errs.append(("billing.first_name", "a customer needs a name or a company"))
    customer: dict[str, Any] = {"kind": "organisation" if company else "person"}
    addresses = [
        a
        for a in (
            _address(billing, "billing", "billing", errs),
            _address(order.get("shipping"), "shipping", "shipping", errs),
        )
        if a is not None
    ]
    for k, v in (
        ("name", name),
        ("first_name", first),
        ("last_name", last),
        ("email", _text(billing.get("email"))),
        ("phone", _text(billing.get("phone"))),
        ("currency", currency),
        ("addresses", addresses or None),
    ):
        if v is not None:
            customer[k] = v
    out: dict[str, Any] = {}
    number = _text(order.get("number")) or _text(order.get("id"))
    if number is not None:
        out["order_number"] = str(number)
    if key is not None:
        out["customer_ref"] = key
    status = _text(order.get("status"))
    if status is None:
        errs.append(("status", "is required but missing or empty"))
    elif status not in STATUS:
        errs.append(("status", f"unknown WooCommerce order status {status!r}"))
    else:
        out["status"] = STATUS[status]
    created = errs.parse("date_created_gmt", order.get("date_created_gmt"), utc_naive_iso, True)
    modified = errs.parse("date_modified_gmt", order.get("date_modified_gmt"), utc_naive_iso)
    if created is not None:
        out["ordered_at"] = created
    if modified or created:
        out["updated_at"] = modified or created
    if currency is not None:
        out["currency"] = currency
    items = order.get("line_items")
    if isinstance(items, list) and items:
        out["lines"] = [_line(item, i, currency, errs) for i, item in enumerate(items)]
    else:
        errs.append(("line_items", "an order needs at least one line item"))
    for key_name, kind in (("billing_address", "billing"), ("shipping_address", "shipping")):
        address = _address(order.get(kind), kind, kind, _Errors())
        if address is not None:
            out[key_name] = address
    for field, path in (
        ("total", "total"),
        ("tax_total", "total_tax"),
        ("shipping_total", "shipping_total"),
        ("discount_total", "discount_total"),
    ):
        money = _money(errs, path, order.get(path), currency, field == "total")
        if money is not None:
            out[field] = money
    for field in ("payment_method", "customer_note"):
        if (value := _text(order.get(field))) is not None:
            out[field] = value
    codes = [str(c["code"]).strip() for c in order.get("coupon_lines") or () if c.get("code")]
    if codes:
        out["coupon_codes"] = codes
    return customer, out, errs
