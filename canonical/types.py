"""Shared value types of the canonical model: UTC instants, exact money, ISO codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware instant, normalised to UTC. Naive values are refused."""

CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


class CanonicalModel(BaseModel):
    """Base of every canonical model: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Money(CanonicalModel):
    """An exact amount in one currency. Never a float."""

    amount: Decimal
    currency: CurrencyCode

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
