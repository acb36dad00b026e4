"""The parts of a BMEcat product that a mapping file cannot say declaratively.

Registered for ``{call: ...}`` in ``product.to_canonical.yaml``. Values come as the PDM
connector reads them (xmltodict's shape: a leaf is text, ``{"@attr": ..., "#text": ...}``
with attributes, a list when an element repeats).

- ``bmecat_text``: ``(value, language)`` -> the text in that language (``@lang``), else the
  text without a language (the catalogue's default), else the first one.
- ``bmecat_price``: a PRODUCT_PRICE_DETAILS / ARTICLE_PRICE_DETAILS block (one or many) ->
  the list price: the first price type of net_list, net_customer, gros_list, nrp (any other
  after them), and of those the one for the smallest quantity (LOWER_BOUND).
- ``bmecat_attributes``: ``(features, details, order details, language)`` -> the canonical
  attributes: every FEATURE as ``FNAME: FVALUE [FUNIT]`` (several FVALUEs joined with
  ``, ``), then the classification (``classification``: system and group id), the
  manufacturer (``manufacturer``, ``manufacturer_pid``) and the packing units
  (``content_unit``, ``content_per_order_unit``, ``price_quantity``, ``quantity_min``,
  ``quantity_interval``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from mappings.engine import register_function

PRICE_TYPES = ("net_list", "net_customer", "gros_list", "nrp")


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _leaf(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("#text")
    if isinstance(value, str):
        return value.strip() or None
    return None


def _lang(value: Any) -> str | None:
    return value.get("@lang") if isinstance(value, dict) else None


def text_in(value: Any, language: str | None) -> str | None:
    candidates = [v for v in _items(value) if _leaf(v) is not None]
    if not candidates:
        return None
    chosen = (
        next((v for v in candidates if language and _lang(v) == language), None)
        or next((v for v in candidates if _lang(v) is None), None)
        or candidates[0]
    )
    return _leaf(chosen)


@register_function("bmecat_text")
def bmecat_text(value: Any) -> str | None:
    if not isinstance(value, tuple) or len(value) != 2:
        raise ValueError("bmecat_text takes from: [text, language]")
    text, language = value
    return text_in(text, language if isinstance(language, str) else None)


def _bound(price: dict[str, Any]) -> Decimal:
    try:
        return Decimal(_leaf(price.get("LOWER_BOUND")) or "1")
    except InvalidOperation:
        return Decimal(1)


@register_function("bmecat_price")
def bmecat_price(value: Any) -> dict[str, Any] | None:
    prices = [
        price
        for details in _items(value)
        if isinstance(details, dict)
        for name, entry in details.items()
        if name in ("PRODUCT_PRICE", "ARTICLE_PRICE")
        for price in _items(entry)
        if isinstance(price, dict)
    ]
    if not prices:
        return None

    def rank(price: dict[str, Any]) -> tuple[int, Decimal]:
        kind = price.get("@price_type")
        order = PRICE_TYPES.index(kind) if kind in PRICE_TYPES else len(PRICE_TYPES)
        return order, _bound(price)

    return min(prices, key=rank)


def _features(blocks: Any, language: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for block in _items(blocks):
        if not isinstance(block, dict):
            continue
        for feature in _items(block.get("FEATURE")):
            if not isinstance(feature, dict):
                continue
            name = text_in(feature.get("FNAME"), language)
            values = [v for v in (_leaf(x) for x in _items(feature.get("FVALUE"))) if v]
            localised = [
                v
                for v in _items(feature.get("FVALUE"))
                if language and _lang(v) == language and _leaf(v)
            ]
            if localised:
                values = [v for v in (_leaf(x) for x in localised) if v]
            if not name or not values:
                continue
            unit = _leaf(feature.get("FUNIT"))
            text = ", ".join(values)
            out[name] = f"{text} {unit}" if unit else text
    return out


def _classification(blocks: Any) -> str | None:
    for block in _items(blocks):
        if isinstance(block, dict):
            system = _leaf(block.get("REFERENCE_FEATURE_SYSTEM_NAME"))
            group = _leaf(block.get("REFERENCE_FEATURE_GROUP_ID"))
            if group:
                return f"{system} {group}" if system else group
    return None


_ORDER_FIELDS = {
    "content_unit": "CONTENT_UNIT",
    "content_per_order_unit": "NO_CU_PER_OU",
    "price_quantity": "PRICE_QUANTITY",
    "quantity_min": "QUANTITY_MIN",
    "quantity_interval": "QUANTITY_INTERVAL",
}


@register_function("bmecat_attributes")
def bmecat_attributes(value: Any) -> dict[str, str] | None:
    if not isinstance(value, tuple) or len(value) != 4:
        raise ValueError("bmecat_attributes takes from: [features, details, order, language]")
    features, details, order, language = value
    lang = language if isinstance(language, str) else None
    out = _features(features, lang)
    fixed: dict[str, str | None] = {"classification": _classification(features)}
    if isinstance(details, dict):
        fixed["manufacturer"] = _leaf(details.get("MANUFACTURER_NAME"))
        fixed["manufacturer_pid"] = _leaf(
            details.get("MANUFACTURER_PID") or details.get("MANUFACTURER_AID")
        )
    if isinstance(order, dict):
        for key, element in _ORDER_FIELDS.items():
            fixed[key] = _leaf(order.get(element))
    out.update({k: v for k, v in fixed.items() if v is not None})
    return out or None


@register_function("bmecat_gtin")
def bmecat_gtin(value: Any) -> str | None:
    """The INTERNATIONAL_PID of type gtin or ean (any case), or one without a type."""
    for entry in _items(value):
        kind = entry.get("@type") if isinstance(entry, dict) else None
        if kind is None or str(kind).lower() in ("gtin", "ean", "gtin13", "gtin8", "gtin14"):
            text = _leaf(entry)
            if text:
                return text
    return None
