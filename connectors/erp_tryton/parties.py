"""Writing parties (customers) with their addresses, e-mail and phone, idempotently.

A write record (what ``mappings/tryton/party.from_canonical.yaml`` makes)::

    {"code": "C-1001" (optional), "name": "Kaffeehaus Berger GmbH",
     "email": "orders@berger.example", "phone": "+49 30 5550100",
     "addresses": [{"name": ..., "street": "Hohe Straße 52", "postal_code": "10115",
                    "city": "Berlin", "country": "DE", "subdivision": "BE"}]}

The party is found by ``code`` when given, else by its e-mail (an e-mail contact mechanism);
found, it gets the name, the phone (its first phone is changed, or one added), the e-mail
(added when the party lacks it; none is removed) and the addresses it lacks (an address is the
same when street, postal code, city and country are). Nothing that already matches is
written again, so a replay changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack
from connectors.erp_tryton.changes import STAMP
from connectors.erp_tryton.lookups import Lookups, required
from connectors.erp_tryton.rpc import Row, TrytonRpc

_READ = (
    "code",
    "name",
    STAMP,
    "contact_mechanisms.type",
    "contact_mechanisms.value",
    "addresses.street_unstructured",
    "addresses.postal_code",
    "addresses.city",
    "addresses.country.code",
)
_ACTIVE_OR_NOT = ["OR", ("active", "=", True), ("active", "=", False)]


def _like(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _norm(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _same_contact(kind: str, have: Any, want: str) -> bool:
    if kind == "phone":
        return re.sub(r"\D", "", str(have or "")) == re.sub(r"\D", "", want)
    return _norm(have) == _norm(want)


def address_key(street: Any, postal_code: Any, city: Any, country: Any) -> tuple[str, ...]:
    return (_norm(street), _norm(postal_code), _norm(city), _norm(country))


class PartyWriter:
    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc
        self.lookups = Lookups(rpc)

    # -- finding -------------------------------------------------------------------------

    def find(self, record: Mapping[str, Any]) -> Row | None:
        """The party a record means: by ``code``, else by ``email``; None when new."""
        if record.get("code"):
            rows = self.rpc.search_read(
                "party.party", [("code", "=", str(record["code"])), _ACTIVE_OR_NOT], _READ
            )
            return rows[0] if rows else None
        if record.get("email"):
            return self.find_by_email(str(record["email"]))
        return None

    def find_by_email(self, email: str) -> Row | None:
        found = self.rpc.search_read(
            "party.contact_mechanism",
            [("type", "=", "email"), ("value", "ilike", _like(email.strip()))],
            ["party"],
            order=(("party", "ASC"),),
        )
        if not found:
            return None
        rows = self.rpc.read("party.party", [int(found[0]["party"])], _READ)
        return rows[0] if rows else None

    def find_by_code(self, code: str) -> Row | None:
        return self.find({"code": code})

    # -- writing -------------------------------------------------------------------------

    def write(self, record: Mapping[str, Any]) -> Ack:
        what = f"Tryton party {record.get('code') or record.get('email') or record.get('name')}"
        name = required(record, "name", what=what)
        if not record.get("code") and not record.get("email"):
            raise PermanentError(f"{what}: code or email is required (it finds the party again)")
        key = str(record.get("code") or record.get("email"))
        current = self.find(record)
        if current is None:
            values: dict[str, Any] = {"name": name}
            if record.get("code"):
                values["code"] = str(record["code"])
            mechanisms = self._new_mechanisms(record)
            if mechanisms:
                values["contact_mechanisms"] = [("create", mechanisms)]
            addresses = [self.address_values(a, what, i) for i, a in self._addresses(record)]
            if addresses:
                values["addresses"] = [("create", addresses)]
            (party_id,) = self.rpc.create("party.party", [values])
            return self._ack(key, party_id, created=True)
        self._update(current, record, name, what)
        return self._ack(key, int(current["id"]), created=False)

    def _ack(self, key: str, party_id: int, *, created: bool) -> Ack:
        (row,) = self.rpc.read("party.party", [party_id], ["code", STAMP])
        stamp = row.get(STAMP)
        return Ack(
            key=key,
            external_id=str(party_id),
            version=stamp.isoformat() if stamp is not None else None,
            created=created,
            detail={"code": row.get("code")},
        )

    @staticmethod
    def _addresses(record: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
        return [(i, a) for i, a in enumerate(record.get("addresses") or []) if a]

    @staticmethod
    def _new_mechanisms(record: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {"type": kind, "value": str(record[kind]).strip()}
            for kind in ("email", "phone")
            if record.get(kind)
        ]

    def address_values(self, address: Mapping[str, Any], what: str, index: int) -> dict[str, Any]:
        path = f"addresses[{index}]"
        country_code = required(address, "country", what=f"{what} {path}")
        country = self.lookups.country(country_code, what=what, path=f"{path}.country")
        values: dict[str, Any] = {
            "street_unstructured": required(address, "street", what=f"{what} {path}"),
            "city": required(address, "city", what=f"{what} {path}"),
            "postal_code": address.get("postal_code"),
            "country": country,
        }
        if address.get("name"):
            values["party_name"] = str(address["name"])
        if address.get("subdivision"):
            values["subdivision"] = self.lookups.subdivision(country_code, address["subdivision"])
        for flag in ("invoice", "delivery"):
            if address.get(flag) is not None:
                values[flag] = bool(address[flag])
        return values

    def _update(self, current: Row, record: Mapping[str, Any], name: str, what: str) -> None:
        party_id = int(current["id"])
        changes: dict[str, Any] = {}
        if _norm(current.get("name")) != _norm(name):
            changes["name"] = name
        mechanisms = self._mechanism_changes(current, record)
        if mechanisms:
            changes["contact_mechanisms"] = mechanisms
        have = {
            address_key(
                a.get("street_unstructured"),
                a.get("postal_code"),
                a.get("city"),
                (a.get("country") or {}).get("code"),
            )
            for a in current.get("addresses") or []
        }
        new = [
            self.address_values(a, what, i)
            for i, a in self._addresses(record)
            if address_key(a.get("street"), a.get("postal_code"), a.get("city"), a.get("country"))
            not in have
        ]
        if new:
            changes["addresses"] = [("create", new)]
        if changes:
            self.rpc.write("party.party", [party_id], changes)

    @staticmethod
    def _mechanism_changes(current: Row, record: Mapping[str, Any]) -> list[Any]:
        actions: list[Any] = []
        mechanisms = current.get("contact_mechanisms") or []
        for kind in ("email", "phone"):
            want = str(record.get(kind) or "").strip()
            if not want:
                continue
            same_kind = [m for m in mechanisms if m.get("type") == kind]
            if any(_same_contact(kind, m.get("value"), want) for m in same_kind):
                continue
            if same_kind and kind == "phone":
                actions.append(("write", [int(same_kind[0]["id"])], {"value": want}))
            else:  # a party may have several e-mails; a new one is added, none is lost
                actions.append(("create", [{"type": kind, "value": want}]))
        return actions
