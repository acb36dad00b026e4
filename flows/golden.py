"""Golden records: each field from the system that owns it, else from the most recent one.

A ``Survivorship`` policy is data (``survivorship.yaml`` or settings): per field, the systems
in order of authority; fields not listed go to the most recent view. A system's value wins
when it has one (empty values never win); among systems of equal rank, or for unlisted fields,
the most recently changed view wins. ``merge`` returns the golden values and, per field, the
system and the time the value came from — kept with the record, shown in the customer 360.

Example (the defaults for customers)::

    credit_limit: [erp]          # the ERP owns credit and payment terms
    payment_terms: [erp]
    email: [webshop, crm, erp]   # the shop owns the login e-mail
    marketing_consent: [webshop]
    contacts: [crm, erp]         # the CRM owns contacts
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CUSTOMER_OWNERS: dict[str, tuple[str, ...]] = {
    "credit_limit": ("erp",),
    "payment_terms": ("erp",),
    "vat_number": ("erp", "crm", "webshop"),
    "email": ("webshop", "crm", "erp"),
    "marketing_consent": ("webshop", "crm"),
    "contacts": ("crm", "erp"),
    "phone": ("crm", "webshop", "erp"),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {}, ())


@dataclass(frozen=True)
class FieldSource:
    system: str
    at: datetime | None
    rule: str  # "owner" or "recency"

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "at": self.at.isoformat() if self.at else None,
                "rule": self.rule}  # fmt: skip


@dataclass(frozen=True)
class Survivorship:
    owners: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    system_aliases: Mapping[str, str] = field(default_factory=dict)  # erp_soap -> erp

    def role(self, system: str) -> str:
        return self.system_aliases.get(system, system)

    def merge(
        self, views: Mapping[str, tuple[Mapping[str, Any], datetime | None]]
    ) -> tuple[dict[str, Any], dict[str, FieldSource]]:
        """``views``: system -> (its record as a dict, when the system changed it)."""
        newest_first = sorted(views.items(), key=lambda kv: kv[1][1] or _EPOCH, reverse=True)
        names: list[str] = []
        for _, (payload, _at) in newest_first:
            names.extend(n for n in payload if n not in names)
        golden: dict[str, Any] = {}
        sources: dict[str, FieldSource] = {}
        for name in names:
            chosen = self._pick(name, newest_first)
            if chosen is not None:
                system, value, at, rule = chosen
                golden[name] = value
                sources[name] = FieldSource(system, at, rule)
        return golden, sources

    def _pick(
        self, name: str, newest_first: list[tuple[str, tuple[Mapping[str, Any], datetime | None]]]
    ) -> tuple[str, Any, datetime | None, str] | None:
        for owner in self.owners.get(name, ()):
            for system, (payload, at) in newest_first:
                if self.role(system) == owner and not _empty(payload.get(name)):
                    return system, payload[name], at, "owner"
        for system, (payload, at) in newest_first:
            if not _empty(payload.get(name)):
                return system, payload[name], at, "recency"
        return None
