"""Tax arithmetic the Shopify mappings call (``{call: ...}``): Shopify states prices with tax
included when the shop says ``taxes_included``; canonical amounts are net of tax.

Shopify gives tax rates as JSON numbers (``0.19``); they are read through their shortest
text form (``Decimal("0.19")``), which is the rate the shop configured.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from mappings.engine import register_function


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{what}: {value!r} is not a number")
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what}: {value!r} is not a number") from None


def _sum(values: Any, what: str) -> Decimal:
    if values is None:
        return Decimal(0)
    if not isinstance(values, Iterable) or isinstance(values, str | bytes):
        values = [values]
    return sum((_decimal(v, what) for v in values if v is not None), Decimal(0))


def _included(flag: Any) -> bool:
    return flag is True or str(flag).strip().lower() in ("true", "1")


@register_function("shopify_net")
def net(value: Any) -> Decimal | None:
    """``[amount, taxes_included, [rates]]`` -> the amount without tax (unchanged when tax is
    not included); no amount (no discount allocations) stays missing."""
    amount, included, rates = value
    if amount is None:
        return None
    base = _decimal(amount, "amount")
    if not _included(included):
        return base
    return base / (1 + _sum(rates, "tax rate"))


@register_function("shopify_line_net")
def line_net(value: Any) -> Decimal | None:
    """``[price, quantity, [discounts], [taxes], taxes_included]`` -> the line total without
    tax, after its discounts: price x quantity - discounts (- the line's taxes when the price
    includes them). Exact: every part is a decimal string Shopify states. Missing when the
    price or quantity is (their own error names them)."""
    price, quantity, discounts, taxes, included = value
    if price is None or quantity is None:
        return None
    gross = _decimal(price, "price") * _decimal(quantity, "quantity")
    total = gross - _sum(discounts, "discount")
    return total - _sum(taxes, "tax") if _included(included) else total


@register_function("shopify_shipping_net")
def shipping_net(value: Any) -> Decimal:
    """``[shipping_lines, taxes_included]`` -> shipping without tax, after its discounts."""
    lines, included = value
    total = Decimal(0)
    for line in lines or []:
        if not isinstance(line, dict):
            raise ValueError(f"shipping line {line!r} is not an object")
        total += _decimal(line.get("discounted_price", line.get("price")), "price")
        if _included(included):
            total -= _sum([t.get("price") for t in line.get("tax_lines") or []], "tax")
    return total
