"""One system's customer record -> the golden customer: identity, views, survivorship.

``GoldenCustomers.absorb`` does, inside the caller's transaction:

1. identity: the system's id already in the xref; else the ``IdentityIndex`` (built from the
   hub's golden customers at the start of a run, profiles only) — deterministic keys first
   (VAT, GLN, e-mail), then the evidence score. A match links the record to that golden
   customer; a pair to review is put on the review list with its explanation and the record
   becomes a new golden customer; so does a record that matches a golden customer that
   already holds another record of the same system (that system has a duplicate: a person
   decides);
2. the system's view is kept (``save_view``); an older view than the one held is stale and
   changes nothing. An echo (the record as our own write left it: its version is the one our
   write got back) updates the view but not its time, so it cannot win on recency;
3. the golden record is merged from every view (field owners, then recency), stored
   (``upsert``) with the source of every field (``set_field_sources``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from canonical.models import Customer, Entity
from flows.customers.config import SyncConfig
from flows.customers.sources import SourceRecord
from flows.golden import FieldSource
from flows.identity.index import IdentityIndex
from flows.identity.matching import Comparison, Profile, Verdict
from hub.schema import CanonicalRecord, Xref
from hub.store import Hub, HubSession, UpsertOutcome
from hub.views import add_review, save_view, set_field_sources, set_sent_hash, views

log = logging.getLogger(__name__)
FIELDS = frozenset(Customer.model_fields) - {"id", "updated_at", "schema_version"}
CONTACTS_BY_ID = "_contacts_by_id"  # in the CRM view: contact persons by their CRM id


@dataclass
class Absorbed:
    canonical_id: str
    outcome: UpsertOutcome | None  # None: stale, nothing stored
    how: str  # xref, vat, gln, email, evidence, new, review
    echo: bool = False
    comparison: Comparison | None = None
    sources: dict[str, FieldSource] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.outcome is not None and self.outcome.changed


def view_of(customer: Customer) -> dict[str, Any]:
    return customer.model_dump(mode="json", exclude={"id", "updated_at", "schema_version"})


class GoldenCustomers:
    """The golden customers of one run: the identity index and the merge."""

    def __init__(self, hub: Hub, config: SyncConfig) -> None:
        self.config = config
        self.index = IdentityIndex()
        self._load(hub)

    def _load(self, hub: Hub) -> None:
        with hub.begin() as hs:
            rows = hs.session.execute(
                select(CanonicalRecord.id, CanonicalRecord.payload)
                .where(CanonicalRecord.entity == Entity.CUSTOMER)
                .execution_options(yield_per=1000)
            )
            for cid, payload in rows:
                self.index.add(Profile.of(cid, json.loads(payload)))

    # -- identity --------------------------------------------------------------------------

    def identify(
        self, hs: HubSession, system: str, record: SourceRecord
    ) -> tuple[str | None, str, Comparison | None]:
        """(the golden customer's id or None for a new one, how, the comparison used)."""
        known = hs.resolve(Entity.CUSTOMER, system, record.key)
        if known is not None:
            return known, "xref", None
        best = self.index.match(Profile.of(f"{system}:{record.key}", record.customer))
        if best is None or hs.get(best.right) is None:
            return None, "new", None
        if best.verdict is Verdict.MATCH and not self._holds_other(hs, best.right, system):
            return best.right, best.rule, best
        return None, "review", best

    @staticmethod
    def _holds_other(hs: HubSession, canonical_id: str, system: str) -> bool:
        other = hs.session.scalar(
            select(Xref.id).where(
                Xref.canonical_id == canonical_id,
                Xref.system == system,
                Xref.entity == Entity.CUSTOMER,
            )
        )
        return other is not None

    # -- absorbing a record ----------------------------------------------------------------

    def absorb(
        self, hs: HubSession, system: str, record: SourceRecord, *, version: str | None
    ) -> Absorbed:
        cid, how, comparison = self.identify(hs, system, record)
        created = cid is None
        if cid is None:
            cid = hs.upsert(record.customer, canonical_id=None, source_system=system).canonical_id
            if how == "review" and comparison is not None:
                explanation = comparison.explain()
                add_review(
                    hs, Entity.CUSTOMER, cid, comparison.right, comparison.score, explanation
                )
        echo = not created and self._is_echo(hs, system, record.key, version)
        payload = view_of(record.customer) | {"_ordered": record.ordered}
        every = views(hs, cid)
        held = every.get(system)
        if held is not None and CONTACTS_BY_ID in held[0]:  # the account's contact persons
            payload |= {k: held[0][k] for k in (CONTACTS_BY_ID, "contacts")}
        # an echo keeps the time the system last spoke for itself (none: it never did)
        at = (held[1] if held is not None else None) if echo else record.at
        if held is not None and held[0] == payload and not echo:
            at = max(filter(None, (held[1], record.at)), default=None)
        if not save_view(hs, cid, system, payload, at):
            return Absorbed(cid, None, how, echo, comparison)
        if not echo and (held is None or held[0] != payload):
            set_sent_hash(hs, Entity.CUSTOMER, cid, system, "")  # it no longer holds what we sent
        hs.link(Entity.CUSTOMER, cid, system, record.key, version)
        every[system] = (payload, at if at is not None else held[1] if held else None)
        outcome, sources = self.merge(hs, cid, system, every)
        if created:
            outcome = UpsertOutcome(cid, outcome.version, created=True, changed=True, stale=False)
        return Absorbed(cid, outcome, how, echo, comparison, sources)

    def merge(
        self,
        hs: HubSession,
        cid: str,
        system: str,
        every: dict[str, tuple[dict[str, Any], datetime | None]] | None = None,
    ) -> tuple[UpsertOutcome, dict[str, FieldSource]]:
        """Rebuild the golden record from every view (``every``: as just saved, else read);
        store it with its field sources."""
        held = views(hs, cid) if every is None else every
        golden, sources = self.config.survivorship.merge(held)
        values = {k: v for k, v in golden.items() if k in FIELDS}
        stamps = [at for _, at in held.values() if at is not None]
        customer = Customer.model_validate(values | {"updated_at": max(stamps, default=None)})
        outcome = hs.upsert(customer, canonical_id=cid, source_system=system)
        set_field_sources(hs, cid, {k: s.as_dict() for k, s in sources.items() if k in FIELDS})
        self.index.add(Profile.of(cid, customer))
        return outcome, sources

    @staticmethod
    def _is_echo(hs: HubSession, system: str, key: str, version: str | None) -> bool:
        """The record is as our last write to ``system`` left it (same version, and we wrote
        it: a sent hash is held)."""
        if not version:
            return False
        row = hs.session.scalar(
            select(Xref).where(
                Xref.system == system, Xref.entity == Entity.CUSTOMER, Xref.external_id == key
            )
        )
        return row is not None and bool(row.sent_hash) and row.external_version == version

    # -- contact persons of an account (CRM) -----------------------------------------------

    def absorb_contact_person(
        self, hs: HubSession, system: str, cid: str, record: SourceRecord
    ) -> tuple[UpsertOutcome, dict[str, FieldSource]] | None:
        """A contact of an account: into the account's view (``contacts``), newest wins."""
        held = views(hs, cid).get(system)
        payload: dict[str, Any] = dict(held[0]) if held else {}
        people: dict[str, Any] = dict(payload.get(CONTACTS_BY_ID) or {})
        before = people.get(record.key)
        stamp = record.at.isoformat() if record.at else ""
        if before is not None and stamp and before.get("at", "") > stamp:
            return None  # an older version of this contact person
        people[record.key] = {"at": stamp, "contact": record.as_contact().model_dump(mode="json")}
        payload[CONTACTS_BY_ID] = people
        payload["contacts"] = [people[k]["contact"] for k in sorted(people)]
        at: datetime | None = held[1] if held else record.at
        save_view(hs, cid, system, payload, at)
        return self.merge(hs, cid, system)
