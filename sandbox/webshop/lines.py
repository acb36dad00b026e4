"""Order lines the way WooCommerce computes them: per-line tax rounding, decimal strings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.webshop.catalog import USD_PER_EUR, Product, Region, TaxRate

_CENT = Decimal("0.01")

Json = dict[str, Any]


def money(value: Decimal) -> str:
    """WooCommerce's ``wc_format_decimal($v, 2)``: always two decimals."""
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def trimmed(value: Decimal) -> str:
    """``wc_format_decimal($v)`` without a precision: trailing zeros dropped (``"0.9"``)."""
    text = format(value.quantize(_CENT, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def round_money(value: Decimal) -> Decimal:
    """Half up to cents, like PHP ``round($v, 2)``."""
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _unit_price(product: Product, currency: str) -> Decimal:
    if currency == "USD":
        return round_money(product.price_eur * USD_PER_EUR)
    return product.price_eur


@dataclass
class Basket:
    """What one order's lines are built with: its tax rate, currency and item ids."""

    rate: TaxRate
    currency: str
    site_url: str
    next_item_id: int

    def item_id(self) -> int:
        self.next_item_id += 1
        return self.next_item_id

    def tax(self, amount: Decimal) -> Decimal:
        return round_money(amount * self.rate.percent / 100)

    def taxes(self, total_tax: Decimal, subtotal_tax: Decimal) -> list[Json]:
        rate_id = self.rate.rate_id
        return [{"id": rate_id, "total": trimmed(total_tax), "subtotal": trimmed(subtotal_tax)}]

    def line_item(self, product: Product, quantity: int, discount_pct: Decimal) -> Json:
        item_id = self.item_id()
        subtotal = _unit_price(product, self.currency) * quantity
        total = subtotal - round_money(subtotal * discount_pct / 100)
        subtotal_tax, total_tax = self.tax(subtotal), self.tax(total)
        price = total / quantity
        meta = [
            {"id": item_id * 10 + n, "key": key, "value": value, "display_key": dkey,
             "display_value": dvalue}
            for n, (key, value, dkey, dvalue) in enumerate(product.attributes, start=1)
        ]  # fmt: skip
        return {
            "id": item_id,
            "name": product.name,
            "product_id": product.product_id,
            "variation_id": product.variation_id,
            "quantity": quantity,
            "tax_class": "",
            "subtotal": money(subtotal),
            "subtotal_tax": money(subtotal_tax),
            "total": money(total),
            "total_tax": money(total_tax),
            "taxes": self.taxes(total_tax, subtotal_tax),
            "meta_data": meta,
            "sku": product.sku,
            "price": int(price) if price == price.to_integral_value() else float(price),
            "image": {
                "id": str(product.image_id),
                "src": f"{self.site_url}/wp-content/uploads/2025/01/{product.sku.lower()}.jpg",
            },
            "parent_name": product.parent_name,
        }

    def fee_line(self, name: str, amount: Decimal) -> Json:
        fee_tax = self.tax(amount)
        return {
            "id": self.item_id(),
            "name": name,
            "tax_class": "",
            "tax_status": "taxable",
            "amount": trimmed(amount),
            "total": money(amount),
            "total_tax": money(fee_tax),
            "taxes": self.taxes(fee_tax, fee_tax),
            "meta_data": [],
        }

    def shipping_line(self, region: Region, items_total: Decimal, line_items: list[Json]) -> Json:
        method_id, method_title, cost = region.shipping_method
        if items_total >= region.free_shipping_from:
            method_id, method_title, cost = "free_shipping", "Free shipping", Decimal(0)
        shipping_tax = self.tax(cost) if self.rate.shipping_taxed else Decimal(0)
        shipping_id = self.item_id()
        summary = ", ".join(f"{li['name']} &times; {li['quantity']}" for li in line_items)
        return {
            "id": shipping_id,
            "method_title": method_title,
            "method_id": method_id,
            "instance_id": "3" if method_id == "flat_rate" else "4",
            "total": money(cost),
            "total_tax": money(shipping_tax),
            "taxes": self.taxes(shipping_tax, shipping_tax) if shipping_tax else [],
            "tax_status": "taxable" if self.rate.shipping_taxed else "none",
            "meta_data": [
                {"id": shipping_id * 10, "key": "Items", "value": summary,
                 "display_key": "Items", "display_value": summary}
            ],
        }  # fmt: skip

    def coupon_line(self, code: str, pct: Decimal, discount: Decimal, tax: Decimal) -> Json:
        return {
            "id": self.item_id(),
            "code": code,
            "discount": money(discount),
            "discount_tax": money(tax),
            "meta_data": [],
            "discount_type": "percent",
            "nominal_amount": float(pct),
            "free_shipping": False,
        }

    def tax_line(self, cart_tax: Decimal, shipping_tax: Decimal) -> Json:
        return {
            "id": self.item_id(),
            "rate_code": self.rate.rate_code,
            "rate_id": self.rate.rate_id,
            "label": self.rate.label,
            "compound": False,
            "tax_total": money(cart_tax),
            "shipping_tax_total": money(shipping_tax),
            "rate_percent": float(self.rate.percent),
            "meta_data": [],
        }
