"""What a record must look like before the connector hands it on (else it is quarantined).

The checks are structural only, the fields the connector itself and every mapping rely on:
an integer ``id``, a GMT change stamp, and the right JSON types for the blocks. Whether an
amount or an e-mail address is valid is the mapping's business (it names the field too).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from connectors.webshop.cursor import MODIFIED, instant

Check = Callable[[Mapping[str, Any]], list[str]]


def _typed(
    record: Mapping[str, Any], name: str, kind: type | tuple[type, ...], what: str
) -> list[str]:
    if name in record and record[name] is not None and not isinstance(record[name], kind):
        return [f"{name}: {_short(record[name])} is not {what}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def record_id(record: Any) -> str | None:
    """The record's id as text when it is a positive integer, else None."""
    if not isinstance(record, Mapping):
        return None
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text if text.isdigit() and int(text) > 0 else None


def common(record: Mapping[str, Any]) -> list[str]:
    problems = [] if record_id(record) else [f"id: {_short(record.get('id'))} is not a record id"]
    try:
        instant(record.get(MODIFIED))
    except ValueError as exc:
        problems.append(f"{MODIFIED}: {exc}")
    return problems


def order(record: Mapping[str, Any]) -> list[str]:
    problems = common(record)
    problems += _typed(record, "status", str, "a status")
    problems += _typed(record, "billing", dict, "an object")
    problems += _typed(record, "shipping", dict, "an object")
    items = record.get("line_items")
    if not isinstance(items, list):
        problems.append(f"line_items: {_short(items)} is not a list")
    else:
        problems += [
            f"line_items[{i}]: {_short(item)} is not an object"
            for i, item in enumerate(items)
            if not isinstance(item, dict)
        ]
    return problems


def customer(record: Mapping[str, Any]) -> list[str]:
    problems = common(record)
    problems += _typed(record, "email", str, "text")
    problems += _typed(record, "billing", dict, "an object")
    problems += _typed(record, "shipping", dict, "an object")
    return problems


def product(record: Mapping[str, Any]) -> list[str]:
    problems = common(record)
    problems += _typed(record, "sku", str, "text")
    quantity = record.get("stock_quantity")
    if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int)):
        problems.append(f"stock_quantity: {_short(quantity)} is not a whole number")
    return problems


def problems_of(check: Check, record: Any) -> list[str]:
    if not isinstance(record, Mapping):
        return [f"{_short(record)} is not a JSON object"]
    return check(record)
