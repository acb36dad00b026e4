"""Shared value types of the canonical model: UTC instants, exact money, ISO codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

from canonical.countries import ISO_3166_1_ALPHA2

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must carry a time zone (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


def _country(value: str) -> str:
    value = value.strip().upper()
    if value not in ISO_3166_1_ALPHA2:
        hint = " (the United Kingdom is GB)" if value == "UK" else ""
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code{hint}")
    return value


def _currency(value: str) -> str:
    value = value.strip().upper()
    if not _CURRENCY.match(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


# A plain address: a dot-atom local part of lowercase ASCII letters, digits, _ + ' - and
# non-ASCII letters, and a domain of ASCII hostname labels. If its domain is plain too (valid,
# deliverable, already normalised: kept per domain) and the local part is NFC-normalised, it is
# one that email-validator accepts unchanged.
_PLAIN_EMAIL = re.compile(
    r"([a-z0-9_+'\-\u0080-\U0010ffff]+(?:\.[a-z0-9_+'\-\u0080-\U0010ffff]+)*)"
    r"@([a-z0-9-]+(?:\.[a-z0-9-]+)+)"
)
_EMAIL_MAX_LENGTH = 254  # octets (RFC 5321 4.5.3.1.3), as email-validator checks it


@lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> bool:
    probe = "x@" + domain
    try:
        return validate_email(probe)[1] == probe
    except ValueError:  # PydanticCustomError: the full validation says why, every time
        return False


def _plain_local(local: str) -> bool:
    return local.isascii() or (
        unicodedata.is_normalized("NFC", local)
        and all(c.isascii() or unicodedata.category(c)[0] == "L" for c in local)
    )


def _email(value: str) -> str:
    """pydantic's ``EmailStr`` validation (email-validator, no DNS look-up): the same result
    and the same errors, but a plain address (see ``_PLAIN_EMAIL``) is taken as it is without
    the full parse, which cost a third of a bulk load's time."""
    found = _PLAIN_EMAIL.fullmatch(value)
    if (
        found is not None
        and _plain_domain(found[2])
        and _plain_local(found[1])
        and len(value.encode()) <= _EMAIL_MAX_LENGTH
    ):
        return value
    return validate_email(value)[1]


EmailAddress = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]
"""An e-mail address as pydantic's ``EmailStr`` validates and normalises it."""

UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware instant, normalised to UTC. Naive values are refused."""

CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class CanonicalModel(BaseModel):
    """Base of every canonical model: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# Amounts: at most 15 integer digits (what a DECIMAL(19,4) money column holds; no order or
# invoice comes near 10^15) and at most 6 decimal places (NAV's unit amounts have up to 5).
# Trailing zeros do not count: 12.500000000 has one place.
MAX_AMOUNT_DIGITS = 15
MAX_AMOUNT_PLACES = 6


def _shown(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _places(value: Decimal) -> int:
    """Decimal places of ``value`` without its trailing zeros."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: pydantic refuses NaN and infinities
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


_AMOUNT_LIMIT = Decimal(10) ** MAX_AMOUNT_DIGITS


def _amount(value: Decimal) -> Decimal:
    if not -_AMOUNT_LIMIT < value < _AMOUNT_LIMIT:
        raise PydanticCustomError(
            "amount_too_large",
            "{amount} is out of range for an amount (more than {digits} integer digits)",
            {"amount": _shown(value), "digits": MAX_AMOUNT_DIGITS},
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -MAX_AMOUNT_PLACES:  # the common case
        return value
    if _places(value) > MAX_AMOUNT_PLACES:
        raise PydanticCustomError(
            "amount_too_precise",
            "{amount} has more than {places} decimal places",
            {"amount": _shown(value), "places": MAX_AMOUNT_PLACES},
        )
    return value


Amount = Annotated[Decimal, AfterValidator(_amount)]
"""An exact amount: finite, at most 15 integer digits and 6 decimal places."""


class Money(CanonicalModel):
    """An exact amount in one currency. Never a float. May be negative (a credit note, a
    discount); fields that may not are ``NonNegativeMoney``."""

    amount: Amount
    currency: CurrencyCode

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _not_negative(value: Money) -> Money:
    if value.amount < 0:
        raise PydanticCustomError(
            "amount_negative", "{amount} is negative", {"amount": _shown(value.amount)}
        )
    return value


NonNegativeMoney = Annotated[Money, AfterValidator(_not_negative)]
"""An amount that cannot be below zero: an order's total, a line's price and total, a list
price."""
