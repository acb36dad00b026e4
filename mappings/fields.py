"""Small parsing helpers that collect every field error of a record instead of stopping at one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from canonical.errors import FieldError, InvalidRecord

T = TypeVar("T")
_MISSING = object()


def get_path(record: Any, path: str) -> Any:
    """Follow ``a.b[2].c`` into nested dicts/lists; a missing step gives ``_MISSING``."""
    current = record
    for part in path.replace("]", "").replace("[", ".").split("."):
        if part == "":
            continue
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


class FieldCollector:
    """Reads fields of one source record, remembering every problem with its field path."""

    def __init__(self, source: str, entity: str, record: Any, record_id: str | None) -> None:
        self.source, self.entity, self.record, self.record_id = source, entity, record, record_id
        self.errors: list[FieldError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raw(self, path: str) -> Any:
        value = get_path(self.record, path)
        return None if value is _MISSING else value

    def text(self, path: str, *, required: bool = False) -> str | None:
        value = self.raw(path)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(path, "is required but missing or empty")
            return None
        if isinstance(value, (dict, list)):
            self.error(path, f"expected text, got {type(value).__name__}")
            return None
        return str(value).strip()

    def parse(self, path: str, parser: Callable[[Any], T], *, required: bool = False) -> T | None:
        value = self.raw(path)
        if value is None or value == "":
            if required:
                self.error(path, "is required but missing or empty")
            return None
        try:
            return parser(value)
        except (ValueError, TypeError, ArithmeticError) as exc:
            self.error(path, str(exc))
            return None

    def absorb(self, prefix: str, exc: ValidationError) -> None:
        """Turn a pydantic validation error into field errors under ``prefix``."""
        for err in exc.errors():
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            self.error(f"{prefix}{loc}".lstrip("."), err["msg"])

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidRecord(self.source, self.record_id, self.errors, entity=self.entity)


def decimal(value: Any) -> Decimal:
    """An exact decimal from a JSON string or integer. Floats are refused: they are not exact."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{value!r} is not an exact decimal (send amounts as strings)")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def quantity(value: Any) -> Decimal:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = decimal(value)
    if result <= 0:
        raise ValueError(f"{value!r} is not a positive quantity")
    return result


def utc_naive_iso(value: Any) -> datetime:
    """A timestamp that the source gives in UTC without an offset (WooCommerce's ``*_gmt``)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
