"""Checks and facts of one BMEcat product or header, as plain dicts (``xmltree``'s shape).

Shared by the sequential reader (``bmecat``) and the fragment parser (``fragments``): the key
(SUPPLIER_PID/SUPPLIER_AID), the operation the transaction and ``mode`` give, exact decimal
prices, and the catalogue facts of the HEADER.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MODES = frozenset({"new", "update", "delete"})


class ProductError(ValueError):
    """One product cannot be read; ``field`` names the element or attribute."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def validate(data: Any, tag: str, transaction: str) -> tuple[str, str]:
    """The key and operation of a product, or ``ProductError`` naming the field."""
    if not isinstance(data, dict):
        raise ProductError(tag, "the product element is empty")
    key = product_key(data, tag)
    operation = product_operation(data, transaction)
    if operation != "delete":
        check_prices(data, tag)
    return key, operation


def _text(value: Any) -> str | None:
    """Text of a leaf as ``xmltree`` gives it (a string or ``{"#text": ...}``)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("#text")
    return value.strip() or None if isinstance(value, str) else None


def product_key(data: dict[str, Any], tag: str) -> str:
    field = "SUPPLIER_PID" if tag == "PRODUCT" else "SUPPLIER_AID"
    key = _text(data.get(field))
    if key is None:
        other = "SUPPLIER_AID" if field == "SUPPLIER_PID" else "SUPPLIER_PID"
        key = _text(data.get(other))  # a vendor mixing the two versions' names
    if key is None:
        raise ProductError(field, "is missing or empty: the product has no key")
    return key


def product_operation(data: dict[str, Any], transaction: str) -> str:
    if transaction == "T_UPDATE_PRODUCTS":
        mode = data.get("@mode")
        if mode not in MODES:
            shown = "missing" if mode is None else repr(mode)
            raise ProductError("@mode", f"{shown}; a T_UPDATE_PRODUCTS product needs new, "
                               "update or delete")  # fmt: skip
        return str(mode)
    if transaction == "T_UPDATE_PRICES":
        return "update"
    return "new"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def check_prices(data: dict[str, Any], tag: str) -> None:
    """Every PRICE_AMOUNT must be an exact decimal (``12.50``; BMEcat has no comma form)."""
    prefix = "PRODUCT" if tag == "PRODUCT" else "ARTICLE"
    details_name = f"{prefix}_PRICE_DETAILS"
    for d, details in enumerate(_as_list(data.get(details_name))):
        if not isinstance(details, dict):
            continue
        for p, price in enumerate(_as_list(details.get(f"{prefix}_PRICE"))):
            if not isinstance(price, dict):
                continue
            amount = price.get("PRICE_AMOUNT")
            where = f"{details_name}[{d}].{prefix}_PRICE[{p}].PRICE_AMOUNT"
            text = _text(amount)
            if text is None:
                raise ProductError(where, "is missing or empty")
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ProductError(where, f"{text!r} is not a decimal number") from None
            if not number.is_finite():
                raise ProductError(where, f"{text!r} is not a decimal number")


def header_info(header: Any) -> dict[str, Any]:
    """Catalogue facts from HEADER: id, version, name, languages, currency, date, supplier."""
    if not isinstance(header, dict):
        return {}
    catalog = header.get("CATALOG") if isinstance(header.get("CATALOG"), dict) else {}
    supplier = header.get("SUPPLIER") if isinstance(header.get("SUPPLIER"), dict) else {}
    assert isinstance(catalog, dict) and isinstance(supplier, dict)
    languages = _as_list(catalog.get("LANGUAGE"))
    codes = [t for t in (_text(x) for x in languages) if t]
    default = next(
        (_text(x) for x in languages if isinstance(x, dict) and x.get("@default") == "true"),
        codes[0] if codes else None,
    )
    info: dict[str, Any] = {
        "id": _text(catalog.get("CATALOG_ID")),
        "version": _text(catalog.get("CATALOG_VERSION")),
        "name": _text(catalog.get("CATALOG_NAME")),
        "language": default,
        "languages": codes,
        "currency": _text(catalog.get("CURRENCY")),
        "generation_date": _generation_date(catalog),
        "supplier_id": _text(supplier.get("SUPPLIER_ID")),
        "supplier_name": _text(supplier.get("SUPPLIER_NAME")),
    }
    return {k: v for k, v in info.items() if v not in (None, [])}


def _generation_date(catalog: dict[str, Any]) -> str | None:
    """2005: GENERATION_DATE as written; 1.2: DATETIME type=generation_date as ISO text."""
    found = _text(catalog.get("GENERATION_DATE"))
    if found:
        return found
    for stamp in _as_list(catalog.get("DATETIME")):
        if isinstance(stamp, dict) and stamp.get("@type") == "generation_date":
            date, time = _text(stamp.get("DATE")), _text(stamp.get("TIME"))
            zone = _text(stamp.get("TIMEZONE")) or ""
            if date:
                zone = zone.removeprefix("GMT").removeprefix("UTC")
                return f"{date}T{time or '00:00:00'}{zone}"
    return None
