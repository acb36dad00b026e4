"""Values read from and written to staging columns, checked the same way on every database.

SQLite stores any value in any column and a VARCHAR(20) holds any length; PostgreSQL and
MariaDB refuse. So the connector checks what the column's declared type asks before writing
(and reads number columns that the ERP exports as text), and names the column it refuses.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa


def as_number(value: Any) -> Decimal | None:
    """An exact decimal from a number or text column (``.`` as the separator); None if empty;
    ValueError when the value is no finite number."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date and time") from None


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{value!r} is a date and time, the column takes a date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date") from None


def for_column(column: sa.Column[Any], value: Any) -> Any:
    """``value`` as ``column`` takes it; ValueError saying what is wrong."""
    kind = column.type
    if value is None:
        return None
    if isinstance(kind, sa.Integer):
        number = as_number(value)
        if number is not None and number != number.to_integral_value():
            raise ValueError(f"{value!r} is not a whole number")
        return None if number is None else int(number)
    if isinstance(kind, sa.Numeric):
        return as_number(value)
    if isinstance(kind, sa.DateTime):
        return _timestamp(value)
    if isinstance(kind, sa.Date):
        return _date(value)
    if isinstance(kind, sa.String) and kind.length and len(str(value)) > kind.length:
        raise ValueError(f"{len(str(value))} characters, the column holds {kind.length}")
    return value
