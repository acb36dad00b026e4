"""What generated mapping functions call at run time, besides the transforms themselves."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}

# transforms worth remembering per input text: they parse; the others are as cheap as a lookup
MEMO_WORTHY = frozenset(
    {"decimal", "quantity", "integer", "datetime", "date", "country", "regex", "uom", "round",
     "trim_zeros", "boolean", "subdivision", "html_unescape"}
)  # fmt: skip
MEMO_SIZE = 512
_IMMUTABLE = frozenset({str, int, bool, Decimal, datetime, date, type(None)})
MEMO_KEYS = frozenset({str, int})  # exactly these: True == 1 == Decimal(1) must not collide
TUPLE_KEYS = frozenset({str, int, type(None)})  # the elements of a memo key of several fields
MISSING = object()


def remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Keep an immutable ``value`` in a bounded memo (emptied when full, like ``Memo``)."""
    if value.__class__ in _IMMUTABLE:
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = value


class Memo(dict[str | int, Any]):
    """A field's transform results by input text (or whole number); emptied when full.

    A hit is one dict lookup; a miss runs the transforms (an error is raised, not kept).
    Only immutable results are kept, so records never share a mutable value. Emptying instead
    of evicting one entry keeps it safe for threads without a lock.
    """

    __slots__ = ("_fns",)

    def __init__(self, fns: tuple[Callable[[Any], Any], ...]) -> None:
        super().__init__()
        self._fns = fns

    def __missing__(self, key: str | int) -> Any:
        value: Any = key
        for fn in self._fns:
            if value is None:
                break
            value = fn(value)
        if value.__class__ in _IMMUTABLE:
            if len(self) >= MEMO_SIZE:
                self.clear()
            self[key] = value
        return value


def concat(sep: str, parts: tuple[Any, ...]) -> str | None:
    return (
        sep.join([p if p.__class__ is str else str(p) for p in parts if p is not None and p != ""])
        or None
    )


def matches(pattern: re.Pattern[str], value: Any) -> bool:
    return value is not None and pattern.search(str(value)) is not None


def concat_lists(parts: tuple[Any, ...]) -> list[Any] | None:
    """The elements of the parts that are lists, and the other parts themselves, in order."""
    joined: list[Any] = []
    for part in parts:
        if isinstance(part, (list, tuple)):
            joined.extend(part)
        elif part is not None:
            joined.append(part)
    return joined or None


def compare(value: Any, op: Callable[[Any, Any], bool], limit: Decimal) -> bool:
    """``value op limit`` for a number or a text that is one; anything else does not match."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return False
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    try:
        return op(value, limit)
    except (ArithmeticError, TypeError):  # NaN
        return False
