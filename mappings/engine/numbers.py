"""Number transforms: exact decimals (with locale), quantities, rounding, arithmetic, units."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mappings.engine.registry import (
    Transform,
    ValueMapSource,
    need,
    options,
    simple,
    transform,
)

# decimal separator, grouping separators
LOCALES: dict[str, tuple[str, str]] = {
    "en": (".", ","),
    "de": (",", "."),
    "de_ch": (".", "'\u2019"),
    "fr": (",", " \u00a0\u202f"),
    "it": (",", "."),
    "es": (",", "."),
    "nl": (",", "."),
    "pl": (",", " \u00a0"),
    "sv": (",", " \u00a0"),
}


def exact_decimal(value: Any) -> Decimal:
    """An exact decimal from text or an integer. Floats are refused: they are not exact."""
    cls = value.__class__
    if cls is str:  # the common case first: Decimal() itself ignores surrounding spaces
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if result.is_finite():
            return result
        raise ValueError(f"{value!r} is not a finite number")
    if cls is Decimal and value.is_finite():
        return value  # type: ignore[no-any-return]
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, (bool, float)):
        raise ValueError(f"{value!r} is not an exact decimal (send amounts as strings)")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


@transform(
    "decimal",
    "exact decimal from text; floats refused; {decimal: {locale: de}} reads '1.234,50'",
    argument=None,
)
def decimal(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = options(argument, "decimal", {"locale", "decimal_sep", "group_sep"})
    if not opts:
        return exact_decimal
    point, groups = LOCALES.get(str(opts.get("locale", "en")).lower().replace("-", "_"), ("", ""))
    need(point != "" or "locale" not in opts, f"decimal: unknown locale; known: {sorted(LOCALES)}")
    point = opts.get("decimal_sep", point or ".")
    groups = opts.get("group_sep", groups)
    need(isinstance(point, str) and len(point) == 1, "decimal: decimal_sep is one character")
    need(isinstance(groups, str) and point not in groups, "decimal: group_sep must differ")

    def parse(value: Any) -> Decimal:
        if isinstance(value, str):
            text = value.strip()
            for sep in groups:
                text = text.replace(sep, "")
            try:
                return exact_decimal(text.replace(point, "."))
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        return exact_decimal(value)

    return parse


MAX_QUANTITY = Decimal(10) ** 12


@simple("quantity", "a positive exact decimal; a whole-number float (2.0) is accepted")
def quantity(value: Any) -> Decimal:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = exact_decimal(value)
    if result <= 0:
        raise ValueError(f"{value!r} is not a positive quantity")
    if result >= MAX_QUANTITY:  # no system takes it (NAV: 12 integer digits); not a quantity
        raise ValueError(f"{value!r} is out of range for a quantity")
    return result


@simple("integer", "a whole number from text or a number")
def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    number = exact_decimal(int(value) if isinstance(value, float) and value.is_integer() else value)
    if number != number.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number")
    return int(number)


_MODES = {"half_even": ROUND_HALF_EVEN, "half_up": ROUND_HALF_UP}


@transform(
    "round", "round to places: {round: 2} or {round: {places: 2, mode: half_up}}", argument=True
)
def round_(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = (
        {"places": argument}
        if isinstance(argument, int)
        else options(argument, "round", {"places", "mode"})
    )
    places = opts.get("places")
    need(isinstance(places, int) and 0 <= places <= 12, "round: places is 0..12")
    assert isinstance(places, int)
    mode = _MODES.get(str(opts.get("mode", "half_even")), "")
    need(mode != "", f"round: mode is one of {sorted(_MODES)}")
    exponent = Decimal(1).scaleb(-places)

    def run(value: Any) -> Decimal:
        if value.__class__ is Decimal and value.is_finite():
            return value.quantize(exponent, rounding=mode)  # type: ignore[no-any-return]
        return exact_decimal(value).quantize(exponent, rounding=mode)

    return run


@simple("trim_zeros", "drop trailing zeros after the decimal point (19.5000 -> 19.5)")
def trim_zeros(value: Any) -> Decimal:
    number = value if value.__class__ is Decimal and value.is_finite() else exact_decimal(value)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def _pair(value: Any, name: str) -> tuple[Decimal, Decimal] | None:
    if value.__class__ is tuple and len(value) == 2:  # the common case: two finite Decimals
        a, b = value
        if a.__class__ is Decimal and b.__class__ is Decimal and a.is_finite() and b.is_finite():
            return a, b
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"{name} needs two inputs: from: [a, b]")
    a, b = value
    if a is None or b is None:
        return None
    return exact_decimal(a), exact_decimal(b)


@simple("divide", "a / b for from: [a, b]")
def divide(value: Any) -> Decimal | None:
    pair = _pair(value, "divide")
    if pair is None:
        return None
    if pair[1] == 0:
        raise ValueError("division by zero")
    return pair[0] / pair[1]


@simple("subtract", "a - b for from: [a, b]")
def subtract(value: Any) -> Decimal | None:
    pair = _pair(value, "subtract")
    return None if pair is None else pair[0] - pair[1]


@simple("multiply", "a * b for from: [a, b]")
def multiply(value: Any) -> Decimal | None:
    pair = _pair(value, "multiply")
    return None if pair is None else pair[0] * pair[1]


@simple("sum", "the sum of a list of numbers (missing ones left out)")
def sum_(value: Any) -> Decimal:
    items = value if isinstance(value, (list, tuple)) else (value,)
    return sum((exact_decimal(v) for v in items if v is not None), Decimal(0))


# factor to the base unit of each dimension (UN/ECE Rec 20 codes, with common aliases)
_UNITS: dict[str, tuple[str, Decimal]] = {
    "KGM": ("mass", Decimal(1)),
    "GRM": ("mass", Decimal("0.001")),
    "TNE": ("mass", Decimal(1000)),
    "LBR": ("mass", Decimal("0.45359237")),
    "ONZ": ("mass", Decimal("0.028349523125")),
    "MTR": ("length", Decimal(1)),
    "CMT": ("length", Decimal("0.01")),
    "MMT": ("length", Decimal("0.001")),
    "INH": ("length", Decimal("0.0254")),
    "FOT": ("length", Decimal("0.3048")),
    "LTR": ("volume", Decimal(1)),
    "MLT": ("volume", Decimal("0.001")),
    "MTQ": ("volume", Decimal(1000)),
    "GLL": ("volume", Decimal("3.785411784")),
    "C62": ("count", Decimal(1)),
    "EA": ("count", Decimal(1)),
    "DZN": ("count", Decimal(12)),
}
_ALIASES = {"KG": "KGM", "G": "GRM", "T": "TNE", "LB": "LBR", "OZ": "ONZ", "M": "MTR",
            "CM": "CMT", "MM": "MMT", "IN": "INH", "FT": "FOT", "L": "LTR", "ML": "MLT",
            "GAL": "GLL", "PCS": "C62", "PC": "C62", "DOZ": "DZN"}  # fmt: skip


def unit(code: Any) -> str:
    name = str(code).strip().upper()
    return _ALIASES.get(name, name)


@transform("uom", "convert a quantity between units: {uom: {from: LBR, to: KGM}}", argument=True)
def uom(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = options(argument, "uom", {"from", "to"})
    source, target = unit(opts.get("from", "")), unit(opts.get("to", ""))
    need(source in _UNITS and target in _UNITS, f"uom: units are among {sorted(_UNITS)}")
    need(_UNITS[source][0] == _UNITS[target][0], f"uom: cannot convert {source} to {target}")
    factor = _UNITS[source][1] / _UNITS[target][1]
    return lambda value: exact_decimal(value) * factor
