"""NAV filter criteria (``ReadMultiple`` ``Criteria``), the subset the sandbox understands.

    ABC            exact match           'A|B*'   quoted literal (no operators inside)
    A*  ?BC        wildcards             @abc*    case-insensitive
    1000..2000     range (either side may be left open: ``2024-01-01..``)
    <>X  >X  >=X  <X  <=X                A|B      either            >1&<5   both
    ''             blank value

Values compare by the field's XSD type (dates as dates, decimals as numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.erp_soap.pages import XS_BOOLEAN, XS_DATE, XS_DATETIME, XS_DECIMAL, XS_INT

Predicate = Callable[[str | None], bool]
_OPERATORS = ("<>", ">=", "<=", ">", "<", "=")


class FilterError(ValueError):
    """A criteria string the sandbox cannot apply (NAV answers these with a Fault too)."""


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def convert(value: str, xs_type: str) -> Any:
    """The comparable Python value of a lexical XSD value; raises FilterError."""
    try:
        if xs_type == XS_DECIMAL:
            return Decimal(value)
        if xs_type == XS_INT:
            return int(value)
        if xs_type == XS_DATE:
            return date.fromisoformat(value)
        if xs_type == XS_DATETIME:
            dt = datetime.fromisoformat(value)
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        if xs_type == XS_BOOLEAN:
            return value.strip().lower() in ("true", "1", "yes")
    except (ValueError, InvalidOperation) as exc:
        raise FilterError(f"The filter value '{value}' is not a valid {xs_type}.") from exc
    return value


def _unquote(term: str) -> tuple[str, bool]:
    if len(term) >= 2 and term[0] == term[-1] == "'":
        return term[1:-1].replace("''", "'"), True
    return term, False


class _Term:
    def __init__(self, raw: str, xs_type: str) -> None:
        self.xs_type = xs_type
        term = raw.strip()
        self.ci = term.startswith("@")
        if self.ci:
            term = term[1:]
        self.test: Callable[[Any], bool] = self._parse(term)

    def _value(self, text: str) -> Any:
        text, _ = _unquote(text)
        if self.ci:
            text = text.lower()
        return convert(text, self.xs_type)

    def _parse(self, term: str) -> Callable[[Any], bool]:
        literal, quoted = _unquote(term)
        if quoted:
            if literal == "":
                return lambda v: v == ""
            value = self._value(term)
            return lambda v: v == value
        if ".." in term:
            lo_text, hi_text = term.split("..", 1)
            lo = self._value(lo_text) if lo_text else None
            hi = self._value(hi_text) if hi_text else None
            return lambda v: (lo is None or v >= lo) and (hi is None or v <= hi)
        for op in _OPERATORS:
            if term.startswith(op):
                return self._compare(op, self._value(term[len(op) :]))
        if "*" in term or "?" in term:
            pattern = re.escape(literal).replace(r"\*", ".*").replace(r"\?", ".")
            rx = re.compile(pattern, (re.IGNORECASE if self.ci else 0) | re.DOTALL)
            return lambda v: isinstance(v, str) and rx.fullmatch(v) is not None
        value = self._value(term)
        return lambda v: v == value

    @staticmethod
    def _compare(op: str, value: Any) -> Callable[[Any], bool]:
        ops: dict[str, Callable[[Any], bool]] = {
            "<>": lambda v: v != value,
            ">=": lambda v: v >= value,
            "<=": lambda v: v <= value,
            ">": lambda v: v > value,
            "<": lambda v: v < value,
            "=": lambda v: v == value,
        }
        return ops[op]

    def __call__(self, raw: str | None) -> bool:
        text = raw or ""
        if self.ci:
            text = text.lower()
        if text == "" and self.xs_type not in ("string", ""):
            text_value: Any = ""
        else:
            text_value = convert(text, self.xs_type)
        try:
            return self.test(text_value)
        except TypeError:  # a blank value against a typed bound
            return False


def compile_criteria(criteria: str, xs_type: str) -> Predicate:
    """A predicate over a record's lexical field value (None when the field is blank)."""
    alternatives = [
        [_Term(t, xs_type) for t in _split_outside_quotes(alt, "&")]
        for alt in _split_outside_quotes(criteria, "|")
    ]

    def predicate(value: str | None) -> bool:
        return any(all(term(value) for term in terms) for terms in alternatives)

    return predicate
