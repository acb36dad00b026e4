"""Named transforms, each as a mapping file uses it: ``{name: argument}``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from mappings.engine.registry import TRANSFORMS, BadArgument, Transform, build


class _NoMaps:
    def lookup_table(self, name: str) -> tuple[dict[str, Any], str]:
        raise BadArgument(f"no value map {name}")


def t(name: str, argument: Any = None) -> Transform:
    return build(name, argument, _NoMaps())


@pytest.mark.parametrize(
    ("name", "argument", "value", "expected"),
    [
        ("text", None, 42, "42"),
        ("text", None, "   ", None),
        ("trim", None, "  a b ", "a b"),
        ("case", "title", "hello world", "Hello World"),
        ("split", {"sep": ",", "index": 1}, "a, b ,c", "b"),
        ("split", ";", "a;;b", ["a", "b"]),
        ("join", "-", ["a", None, "b"], "a-b"),
        ("regex", {"pattern": r"(?P<no>\d+)", "group": "no"}, "PO 4711/2", "4711"),
        ("regex", {"pattern": r"\d+", "missing": "none"}, "none", None),
        ("format", "WC-{}-{}", ("1", "2"), "WC-1-2"),
        ("truncate", 3, "abcdef", "abc"),
        ("boolean", None, "Yes", True),
        ("decimal", {"locale": "de"}, "1.234,56", Decimal("1234.56")),
        ("decimal", {"locale": "fr"}, "1 234,5", Decimal("1234.5")),
        ("decimal", {"locale": "de_CH"}, "1'234.50", Decimal("1234.50")),
        ("decimal", None, 7, Decimal(7)),
        ("integer", None, "12", 12),
        ("round", {"places": 2, "mode": "half_up"}, Decimal("2.345"), Decimal("2.35")),
        ("round", 2, Decimal("2.345"), Decimal("2.34")),
        ("trim_zeros", None, Decimal("20.0000"), Decimal("20")),
        ("divide", None, (Decimal(10), Decimal(4)), Decimal("2.5")),
        ("sum", None, ["1.10", None, "2"], Decimal("3.10")),
        ("uom", {"from": "KGM", "to": "GRM"}, "1.5", Decimal("1500")),
        ("uom", {"from": "DZN", "to": "PCS"}, "2", Decimal("24")),
        ("country", None, "deu", "DE"),
        ("country", None, "France", "FR"),
        ("country", None, " nl ", "NL"),
        ("subdivision", None, ("us-ca", "US"), "CA"),
        ("subdivision", None, ("Greater London", "GB"), "Greater London"),
        ("subdivision", None, ("BE", "Germany"), "BE"),
        ("subdivision", None, ("Bavaria", "Germany"), "BY"),
        ("subdivision", None, ("  bayern ", "DE"), "BY"),
        ("subdivision", None, ("THURINGEN", "DE"), "TH"),
        ("subdivision", None, ("New York", "US"), "NY"),
        ("subdivision", None, ("new  york", "USA"), "NY"),
        ("subdivision", None, ("ile-de-france", "FR"), "IDF"),
        ("subdivision", {"strict": True}, ("Baden-Württemberg", "DE"), "BW"),
        ("subdivision", None, ("Bavaria", None), "Bavaria"),  # no country: kept as it is
    ],
)
def test_transform_results(name: str, argument: Any, value: Any, expected: Any) -> None:
    result = t(name, argument)(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("name", "argument", "value", "message"),
    [
        ("decimal", None, 1.1, "1.1 is not an exact decimal (send amounts as strings)"),
        ("decimal", None, "Infinity", "'Infinity' is not a finite number"),
        ("decimal", {"locale": "de"}, "1,2,3", "'1,2,3' is not a number"),
        ("quantity", None, "0", "'0' is not a positive quantity"),
        ("integer", None, "1.5", "'1.5' is not a whole number"),
        ("datetime", None, "yesterday", "'yesterday' is not an ISO 8601 timestamp"),
        (
            "datetime",
            {"format": "%d.%m.%Y"},
            "2025-01-01",
            "'2025-01-01' does not match '%d.%m.%Y'",
        ),
        ("country", None, "Atlantis", "'Atlantis' is not an ISO 3166-1 country"),
        (
            "subdivision",
            {"strict": True},
            ("XX", "DE"),
            "'XX' is not an ISO 3166-2 subdivision of DE",
        ),
        (
            "subdivision",
            {"strict": True},
            ("Atlantis", "DE"),
            "'Atlantis' is not an ISO 3166-2 subdivision of DE",
        ),
        ("boolean", None, "maybe", "'maybe' is not yes/no"),
        ("text", None, {"a": 1}, "expected text, got dict"),
    ],
)
def test_transform_errors_say_what_is_wrong(
    name: str, argument: Any, value: Any, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        t(name, argument)(value)
    assert str(caught.value) == message


def test_timestamps_end_in_utc_whatever_zone_they_come_in() -> None:
    berlin = t("datetime", {"tz": "Europe/Berlin"})
    assert berlin("2025-07-01T12:00:00") == datetime(2025, 7, 1, 10, tzinfo=UTC)
    assert berlin("2025-07-01T12:00:00+02:00") == datetime(2025, 7, 1, 10, tzinfo=UTC)
    assert t("datetime")(date(2025, 1, 2)) == datetime(2025, 1, 2, tzinfo=UTC)
    formats = t("datetime", {"format": ["%d.%m.%Y %H:%M", "%Y%m%d"], "tz": "America/New_York"})
    assert formats("20250102") == datetime(2025, 1, 2, 5, tzinfo=UTC)
    assert t("date", {"tz": "Europe/Berlin"})(datetime(2025, 1, 1, 23, 30, tzinfo=UTC)) == date(
        2025, 1, 2
    )


@pytest.mark.parametrize(
    ("name", "argument", "message"),
    [
        ("datetime", {"tz": "Mars/Base"}, "unknown time zone 'Mars/Base'"),
        ("uom", {"from": "KGM", "to": "LTR"}, "uom: cannot convert KGM to LTR"),
        ("decimal", {"locale": "xx"}, "decimal: unknown locale"),
        ("regex", "(", "regex: bad pattern"),
        ("upper", "x", "upper takes no argument"),
        ("prefix", None, "prefix needs an argument"),
        ("call", "nobody", "call: no mapping function named 'nobody'"),
    ],
)
def test_bad_arguments_are_refused_when_the_mapping_is_compiled(
    name: str, argument: Any, message: str
) -> None:
    with pytest.raises(BadArgument, match=message.replace("(", r"\(")):
        t(name, argument)


def test_every_transform_says_what_it_does() -> None:
    assert all(info.summary for info in TRANSFORMS.values())
    assert {"lookup", "call", "datetime", "decimal", "country", "uom"} <= set(TRANSFORMS)
