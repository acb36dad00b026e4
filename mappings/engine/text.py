"""Text transforms: text, trim, case, prefix/suffix, format, truncate, split/join, regex, lookup."""

from __future__ import annotations

import html
import re
from typing import Any

from mappings.engine.registry import (
    FUNCTIONS,
    BadArgument,
    Transform,
    ValueMapSource,
    need,
    options,
    simple,
    transform,
)


@simple("text", "any scalar as trimmed text; empty text counts as missing")
def text(value: Any) -> str | None:
    if isinstance(value, (dict, list, tuple)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value).strip() or None


@simple("trim", "strip spaces; empty text counts as missing")
def trim(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


@simple("html_unescape", "decode HTML entities (&ndash; &amp; &#8211;) as web shops send them")
def html_unescape(value: Any) -> Any:
    return html.unescape(value) if isinstance(value, str) else value


@simple("upper", "upper case")
def upper(value: Any) -> str:
    return str(value).upper()


@simple("lower", "lower case")
def lower(value: Any) -> str:
    return str(value).lower()


_CASES = {"upper": str.upper, "lower": str.lower, "title": str.title}


@transform("case", "upper, lower or title case: {case: title}", argument=True)
def case(argument: Any, _maps: ValueMapSource) -> Transform:
    need(argument in _CASES, f"case: one of {sorted(_CASES)}")
    fn = _CASES[argument]
    return lambda value: fn(str(value))


@transform("prefix", "put text before: {prefix: 'guest:'}", argument=True)
def prefix(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, str), "prefix: expected text")
    return lambda value: f"{argument}{value}"


@transform("suffix", "put text after: {suffix: '-EU'}", argument=True)
def suffix(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, str), "suffix: expected text")
    return lambda value: f"{value}{argument}"


@transform("format", "fill a template: {format: 'WC-{}'} ({} once per input)", argument=True)
def format_(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, str) and "{" in argument, "format: expected a template with {}")
    template: str = argument

    def fill(value: Any) -> str:
        parts = value if isinstance(value, tuple) else (value,)
        return template.format(*("" if p is None else p for p in parts))

    return fill


@transform("truncate", "cut text to a length: {truncate: 35}", argument=True)
def truncate(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, int) and argument > 0, "truncate: expected a positive length")
    return lambda value: str(value)[:argument] or None


@transform("split", "text -> list: {split: ','} or {split: {sep: ',', index: 0}}", argument=True)
def split(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = (
        {"sep": argument}
        if isinstance(argument, str)
        else options(argument, "split", {"sep", "index"})
    )
    sep = opts.get("sep")
    need(isinstance(sep, str) and sep != "", "split: sep must be non-empty text")
    raw_index = opts.get("index")
    need(raw_index is None or isinstance(raw_index, int), "split: index must be an integer")
    index = raw_index if isinstance(raw_index, int) else None

    def run(value: Any) -> Any:
        parts = [p.strip() for p in str(value).split(sep) if p.strip()]
        if index is None:
            return parts or None
        return parts[index] if -len(parts) <= index < len(parts) else None

    return run


@transform("join", "list -> text: {join: ', '} (missing parts are left out)", argument=True)
def join(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, str), "join: expected the separator text")

    def run(value: Any) -> str | None:
        items = value if isinstance(value, (list, tuple)) else (value,)
        return argument.join(str(v) for v in items if v not in (None, "")) or None

    return run


@transform(
    "regex",
    "extract with a regular expression: {regex: '(\\d+)'} or {regex: {pattern, group, missing}}",
    argument=True,
)
def regex(argument: Any, _maps: ValueMapSource) -> Transform:
    if isinstance(argument, str):
        argument = {"pattern": argument}
    opts = options(argument, "regex", {"pattern", "group", "missing"})
    try:
        pattern = re.compile(opts.get("pattern", ""))
    except (re.error, TypeError) as exc:
        raise BadArgument(f"regex: bad pattern: {exc}") from exc
    group = opts.get("group", 1 if pattern.groups else 0)
    need(isinstance(group, (int, str)), "regex: group is a number or a name")
    missing = opts.get("missing", "error")
    need(missing in ("error", "none"), "regex: missing is 'error' or 'none'")

    def run(value: Any) -> Any:
        found = pattern.search(str(value))
        if found is None:
            if missing == "none":
                return None
            raise ValueError(f"{value!r} does not match /{pattern.pattern}/")
        return found.group(group)

    return run


@transform(
    "lookup",
    "translate through a value map: {lookup: order_status} or {lookup: {map, default}}",
    argument=True,
)
def lookup(argument: Any, maps: ValueMapSource) -> Transform:
    if isinstance(argument, str):
        argument = {"map": argument}
    opts = options(argument, "lookup", {"map", "default"})
    need(isinstance(opts.get("map"), str), "lookup: name the value map")
    table, title = maps.lookup_table(opts["map"])
    if "default" in opts:
        fallback = opts["default"]
        return lambda value: table.get(value if value.__class__ is str else str(value), fallback)

    def run(value: Any) -> Any:
        key = value if value.__class__ is str else str(value)
        try:
            return table[key]
        except KeyError:
            raise ValueError(f"unknown {title} {value!r}") from None

    return run


@transform("call", "a registered Python function (the escape hatch): {call: name}", argument=True)
def call(argument: Any, _maps: ValueMapSource) -> Transform:
    need(isinstance(argument, str), "call: name the function")
    fn = FUNCTIONS.get(argument)
    if fn is None:
        known = ", ".join(sorted(FUNCTIONS)) or "none registered"
        raise BadArgument(f"call: no mapping function named {argument!r} ({known})")
    return fn


_TRUE = frozenset({"1", "true", "yes", "y", "on", "x"})
_FALSE = frozenset({"0", "false", "no", "n", "off", ""})


@simple("boolean", "yes/no, true/false, 1/0, on/off -> true or false")
def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no")
