"""Date and time transforms: parse with formats and time zones, always ending in UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mappings.engine.registry import (
    BadArgument,
    Transform,
    ValueMapSource,
    need,
    options,
    transform,
)


def _zone(name: Any) -> tzinfo:
    if name in (None, "UTC", "utc", "Z"):
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadArgument(f"unknown time zone {name!r}") from exc


def _formats(value: Any) -> tuple[str, ...]:
    formats = (value,) if isinstance(value, str) else tuple(value or ("iso",))
    need(all(isinstance(f, str) for f in formats), "format is text or a list of texts")
    return formats


def _parser(formats: tuple[str, ...]) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        for fmt in formats:
            try:
                if fmt == "iso":
                    return datetime.fromisoformat(text)
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        if formats == ("iso",):
            raise ValueError(f"{text!r} is not an ISO 8601 timestamp")
        raise ValueError(f"{text!r} does not match {' or '.join(repr(f) for f in formats)}")

    return parse


@transform(
    "datetime",
    "timestamp -> UTC: {datetime: {format: iso | '%d.%m.%Y %H:%M', tz: Europe/Berlin}}; "
    "tz is the zone of values without an offset (default UTC)",
    argument=None,
)
def datetime_(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = options(argument, "datetime", {"format", "tz"})
    zone = _zone(opts.get("tz"))
    parse = _parser(_formats(opts.get("format")))

    def run(value: Any) -> datetime:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time())
        elif isinstance(value, str):
            moment = parse(value.strip())
        else:
            raise ValueError(f"{value!r} is not a timestamp")
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)

    return run


@transform(
    "date",
    "calendar date: {date: {format: '%d.%m.%Y'}}; a timestamp gives its date in tz (default UTC)",
    argument=None,
)
def date_(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = options(argument, "date", {"format", "tz"})
    zone = _zone(opts.get("tz"))
    formats = _formats(opts.get("format"))
    parse = _parser(formats)

    def run(value: Any) -> date:
        if isinstance(value, datetime):
            return (value.astimezone(zone) if value.tzinfo else value).date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            text = value.strip()
            if formats == ("iso",):
                try:
                    return date.fromisoformat(text[:10])
                except ValueError:
                    raise ValueError(f"{value!r} is not an ISO 8601 date") from None
            return parse(text).date()
        raise ValueError(f"{value!r} is not a date")

    return run
