"""Codes to Tryton ids (countries, subdivisions, currencies, units, categories), remembered.

Write records name other records by their codes (``"country": "DE"``, ``"unit": "u"``); Tryton
wants ids. A code Tryton does not know is a ``PermanentError`` that names the record and the
field. Reference data changes rarely, so each answer is kept for the connector's lifetime.
"""

from __future__ import annotations

import threading
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import PermanentError
from connectors.erp_tryton.rpc import TrytonRpc


class Lookups:
    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc
        self._cache: dict[tuple[str, str, str], int | None] = {}
        self._lock = threading.Lock()

    def find(self, model: str, field: str, value: str) -> int | None:
        key = (model, field, value)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        ids = self.rpc.search(model, [(field, "=", value)], limit=1)
        found = ids[0] if ids else None
        with self._lock:
            self._cache[key] = found
        return found

    def need(self, model: str, field: str, value: Any, *, what: str, path: str) -> int:
        """The id of the ``model`` record whose ``field`` is ``value``, or a PermanentError
        naming ``what`` (the record) and ``path`` (its field)."""
        found = self.find(model, field, str(value))
        if found is None:
            raise PermanentError(f"{what}: {path}: {value!r} is not a known {model} {field}")
        return found

    def country(self, code: Any, *, what: str, path: str) -> int:
        return self.need("country.country", "code", str(code).upper(), what=what, path=path)

    def subdivision(self, country: str, code: Any) -> int | None:
        """The subdivision ``<country>-<code>`` if this Tryton has it loaded, else None."""
        text = str(code).upper()
        full = text if text.startswith(f"{country.upper()}-") else f"{country.upper()}-{text}"
        return self.find("country.subdivision", "code", full)


def decimal(value: Any, *, what: str, path: str) -> Decimal:
    """An exact amount from a write record (Decimal, int or text); floats are refused."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise PermanentError(f"{what}: {path}: {value!r} is not an exact number")


def required(record: Any, name: str, *, what: str) -> Any:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PermanentError(f"{what}: {name}: is required")
    return value.strip() if isinstance(value, str) else value
