"""Tryton's JSON: Decimals, dates, datetimes, times, timedeltas and bytes as ``__class__`` objects.

``dumps``/``loads`` translate both ways. JSON floats are read as exact ``Decimal`` (quantities
travel as floats), so no mapping ever sees a binary float. ``nest`` turns Tryton's dotted reads
(``"party.code"`` answers ``{"party": 7, "party.": {"id": 7, "code": "C7"}}``) into plain nested
records (``{"party": {"id": 7, "code": "C7"}}``), lists of them for x2many fields.
"""

from __future__ import annotations

import base64
import datetime
import json
from decimal import Decimal
from typing import Any

_DATETIME_PARTS = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_TIME_PARTS = ("hour", "minute", "second", "microsecond")


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind is None:
        return obj
    if kind == "Decimal":
        return Decimal(str(obj["decimal"]))
    if kind == "date":
        return datetime.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        year, month, day, hour, minute, second, micro = (
            int(obj.get(part, 0)) for part in _DATETIME_PARTS
        )
        return datetime.datetime(year, month, day, hour, minute, second, micro)
    if kind == "time":
        hour, minute, second, micro = (int(obj.get(part, 0)) for part in _TIME_PARTS)
        return datetime.time(hour, minute, second, micro)
    if kind == "timedelta":
        return datetime.timedelta(seconds=float(obj["seconds"]))
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def _encode(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, datetime.datetime):
        return {"__class__": "datetime", **{p: getattr(obj, p) for p in _DATETIME_PARTS}}
    if isinstance(obj, datetime.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, datetime.time):
        return {"__class__": "time", **{p: getattr(obj, p) for p in _TIME_PARTS}}
    if isinstance(obj, datetime.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} cannot be sent to Tryton")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_encode, separators=(",", ":")).encode()


def loads(body: bytes) -> Any:
    return json.loads(body, object_hook=_decode, parse_float=Decimal)


def nest(row: Any) -> Any:
    """A read row with every ``"field."`` entry folded into ``"field"`` (recursively)."""
    if isinstance(row, list):
        return [nest(item) for item in row]
    if not isinstance(row, dict):
        return row
    result: dict[str, Any] = {}
    for key, value in row.items():
        if key.endswith("."):
            result[key[:-1]] = nest(value)
        elif key + "." not in row:
            result[key] = value
    return result
