"""Idempotent writes of one CRM record: find it by its key, create or update, then link it.

A record to write is the module's attributes (SuiteCRM field names) plus, optionally,
``_related``: the records to link it to, each ``{"module": "Accounts", "key": <key field
value>}`` or ``{"module": "Accounts", "id": <CRM id>}``. A Note takes its first related
record as its parent (``parent_type``/``parent_id``); other modules are linked through the V8
relationships route (contact -> account, case -> account, opportunity -> account).

The record is found, in order, by the key field (``settings.key_field``, a custom field that
holds Tandem's key) and, for Contacts, by ``email1`` among contacts that hold no key yet (one
keyed for another customer sharing the address is left alone); found -> only the attributes
that differ are PATCHed (none differ -> no call, so a replay does not even bump
``date_modified``); not found -> created. A related record that is not in the CRM yet is a
``TransientError`` (written later, once it is there). The whole write is retried on
transient errors: a create whose answer was lost is found by its key on the next attempt,
not created twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical.errors import PermanentError, TransientError
from connectors.base import Ack
from connectors.crm.client import CrmClient, CrmRefused, Resource
from connectors.transports.retry import with_retries

RELATED = "_related"
_LINKS = {"Accounts": "accounts", "Contacts": "contacts", "Cases": "cases"}


def key_of(record: Mapping[str, Any], key_field: str, module: str) -> str:
    """The record's key for acks and messages: its key field, else (Contacts) its e-mail."""
    key = record.get(key_field)
    if (key is None or key == "") and module == "Contacts":
        key = record.get("email1")
    return "" if key is None else str(key)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class RecordWriter:
    def __init__(self, client: CrmClient, module: str) -> None:
        self.client = client
        self.module = module
        self.key_field = client.settings.key_field

    def write(self, record: Mapping[str, Any]) -> Ack:
        key = key_of(record, self.key_field, self.module)
        what = f"crm {self.module} {key or '<no key>'}"
        if not key:
            needs = f"{self.key_field}" + (" or email1" if self.module == "Contacts" else "")
            raise PermanentError(f"{what}: {needs} is required (it makes the write idempotent)")
        related = record.get(RELATED) or []
        if not isinstance(related, list) or not all(isinstance(r, Mapping) for r in related):
            raise PermanentError(f"{what}: {RELATED} must be a list of {{module, key|id}}")
        # ``id``: the CRM id when the writer knows it (found by it first; never sent)
        known = _text(record.get("id"))
        attributes = {k: v for k, v in record.items() if k not in (RELATED, "id")}
        try:
            return with_retries(
                lambda: self._write(key, attributes, related, known),
                self.client.settings.retry,
                what=what,
            )
        except CrmRefused as exc:
            raise CrmRefused(
                f"{what}: {exc}", status=exc.status, detail=exc.detail, pointer=exc.pointer
            ) from exc

    def _write(
        self,
        key: str,
        attributes: dict[str, Any],
        related: list[Mapping[str, Any]],
        known: str = "",
    ) -> Ack:
        links = [self._resolve(key, r) for r in related]
        if self.module == "Notes" and links:
            attributes = attributes | {"parent_type": links[0][0], "parent_id": links[0][1]}
            links = []
        current = self._find(attributes, known)
        if current is None:
            resource = self.client.create(self.module, attributes)
            created, changed = True, sorted(attributes)
        else:
            have = current.get("attributes") or {}
            changed = sorted(k for k, v in attributes.items() if _text(have.get(k)) != _text(v))
            resource = current
            if changed:
                update = {k: attributes[k] for k in changed}
                resource = self.client.update(self.module, str(current["id"]), update)
            created = False
        record_id = str(resource["id"])
        have = resource.get("attributes") or {}
        linked = {
            "Accounts": _text(have.get("account_id")),
            "Contacts": _text(have.get("contact_id")),
        }
        for other, other_id in links:
            if linked.get(other) == other_id:
                continue  # already linked (an account, or the contact a lead became)
            self.client.relate(
                self.module, record_id, _LINKS.get(other, other.lower()), other, other_id
            )
        version = (resource.get("attributes") or {}).get("date_modified")
        return Ack(
            key=key,
            external_id=record_id,
            version=None if version is None else str(version),
            created=created,
            detail={"module": self.module, "changed": changed},
        )

    def _find(self, attributes: Mapping[str, Any], known: str = "") -> Resource | None:
        if known:
            found = self.client.find(self.module, {"id": known}, retry=False)
            if found is not None:
                return found
        key = _text(attributes.get(self.key_field))
        if key:
            found = self.client.find(self.module, {self.key_field: key}, retry=False)
            if found is not None:
                return found
        email = _text(attributes.get("email1"))
        if self.module == "Contacts" and email:
            # a contact nobody keyed yet (entered by hand, or by the web shop's plugin); one
            # that holds another key is another customer's, sharing the address
            candidates = self.client.records(
                self.module,
                filters={"email1": {"eq": email}},
                sort="date_entered",
                size=20,
                retry=False,
            )
            unkeyed = (
                c for c in candidates if not _text((c.get("attributes") or {}).get(self.key_field))
            )
            return next(unkeyed, None)
        return None

    def _resolve(self, key: str, related: Mapping[str, Any]) -> tuple[str, str]:
        module = _text(related.get("module"))
        if not module:
            raise PermanentError(f"crm {self.module} {key}: {RELATED} entry without a module")
        if related.get("id"):
            return module, _text(related["id"])
        other_key = _text(related.get("key"))
        if not other_key:
            raise PermanentError(f"crm {self.module} {key}: {RELATED} {module} needs a key or id")
        found = self.client.find(module, {self.key_field: other_key}, retry=False)
        if found is None:
            raise TransientError(
                f"crm {self.module} {key}: the related {module} {other_key} is not in the CRM yet"
            )
        return module, str(found["id"])
