"""Inbox -> golden customers -> deliveries: one processor per source stream.

Who hears of a change (``Router``): every target but the system the change came from (no
echo), as ``survivorship.yaml``'s ``fan_out`` says (``all``, ``known``: only where the customer
already is, ``none``); prospects (``prospects.py``) go to the CRM as leads, not here. A source
whose record was overruled by a field's owner (the CRM changed the ERP's credit limit) gets
the golden record back, so it shows the owner's value again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from canonical.errors import TransientError
from canonical.models import Customer, Entity
from flows.customers.config import FanOut, SyncConfig
from flows.customers.golden import FIELDS, Absorbed, GoldenCustomers
from flows.customers.prospects import is_prospect
from flows.customers.sources import Source, SourceRecord
from flows.golden import FieldSource
from flows.processing import InboxProcessor, Processed, routes
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import Hub, HubSession, UpsertOutcome
from hub.views import views

log = logging.getLogger(__name__)


_DIGEST = re.compile(r"[0-9a-f]{24}")


def version_of(message: InboxMessage) -> str | None:
    """The source's version of a pulled record, from its dedupe key
    (``system:stream:key:version[:digest]``; a bare digest is no version)."""
    parts = message.dedupe_key.split(":", 3)
    if len(parts) < 4 or parts[2] == "quarantined":
        return None
    rest = parts[3]
    head, sep, tail = rest.rpartition(":")
    if sep and _DIGEST.fullmatch(tail):
        rest = head
    return None if not rest or _DIGEST.fullmatch(rest) else rest


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {}, ())


Shape = Callable[[Customer], Any]
"""A customer in a target's shape (its mapping), to tell what the target can hold."""


@dataclass(frozen=True)
class Router:
    config: SyncConfig
    targets: tuple[str, ...]  # systems: crm, erp_soap
    shapes: Mapping[str, Shape] = field(default_factory=dict)

    def wants(self, hs: HubSession, target: str, cid: str) -> bool:
        rule = self.config.fan_out_to(target)
        if rule is FanOut.NONE:
            return False
        known = hs.external_id(Entity.CUSTOMER, cid, target) is not None
        if rule is FanOut.KNOWN or known:
            return known
        return not is_prospect(hs, cid, self.config)

    def overruled(
        self, hs: HubSession, cid: str, source: str, sources: dict[str, FieldSource]
    ) -> list[str]:
        """Fields the source holds otherwise than their owner decided."""
        row = hs.get(cid)
        held = views(hs, cid).get(source)
        if row is None or held is None:
            return []
        golden = json.loads(row.payload)
        fields = sorted(
            name
            for name, src in sources.items()
            if src.rule == "owner"
            and src.system != source
            and not _empty(held[0].get(name))
            and held[0].get(name) != golden.get(name)
        )
        shape = self.shapes.get(source)
        if not fields or shape is None:
            return fields
        # only what the source can hold otherwise (NAV has no persons: its kind is no error)
        now = Customer.model_validate({k: v for k, v in held[0].items() if k in FIELDS})
        fixed = now.model_copy(
            update={k: getattr(Customer.model_validate(golden), k) for k in fields}
        )
        return fields if shape(now) != shape(fixed) else []

    def fan_out(
        self,
        hs: HubSession,
        message: InboxMessage,
        source: str,
        outcome: UpsertOutcome,
        sources: dict[str, FieldSource],
    ) -> list[str]:
        cid = outcome.canonical_id
        chosen = [
            t for t in routes(self.targets, source) if outcome.changed and self.wants(hs, t, cid)
        ]
        fix = self.overruled(hs, cid, source, sources) if source in self.targets else []
        if fix and self.wants(hs, source, cid):
            chosen.append(source)
            hs.event(
                "owner_restored",
                message_id=message.id,
                correlation_id=cid,
                system=source,
                detail=f"{', '.join(fix)}: the owner's value goes back",
            )
        for target in chosen:
            hs.enqueue(
                message_id=message.id,
                target_system=target,
                entity=Entity.CUSTOMER,
                canonical_id=cid,
                record_version=outcome.version,
                correlation_id=cid,
            )
        return chosen


class CustomerProcessor(InboxProcessor):
    flow = "customer-sync"

    def __init__(self, hub: Hub, golden: GoldenCustomers, source: Source, router: Router) -> None:
        super().__init__(hub)
        self.golden = golden
        self.source = source
        self.router = router
        self.system = source.pull.system
        self.kinds = source.kinds

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        record = self.source.mapper(doc)
        if record.account_key is not None:
            return self._contact_person(hs, message, record, summary)
        version = self.source.version(doc) or version_of(message)
        absorbed = self.golden.absorb(hs, self.system, record, version=version)
        cid = absorbed.canonical_id
        self._log_identity(hs, message, absorbed)
        if absorbed.outcome is None:
            summary.stale += 1
            hs.event(
                "stale_ignored",
                message_id=message.id,
                correlation_id=cid,
                system=self.system,
                detail=f"{record.key}: older than the view held",
            )
            return Processed(cid, Entity.CUSTOMER, cid)
        self.count(absorbed.outcome, summary)
        self.router.fan_out(hs, message, self.system, absorbed.outcome, absorbed.sources)
        return Processed(cid, Entity.CUSTOMER, cid, absorbed.outcome)

    def _contact_person(
        self, hs: HubSession, message: InboxMessage, record: SourceRecord, summary: FlowSummary
    ) -> Processed:
        assert record.account_key is not None
        cid = hs.resolve(Entity.CUSTOMER, self.system, record.account_key)
        if cid is None:
            raise TransientError(
                f"{self.system} contact {record.key}: its account {record.account_key} is not "
                "synced yet"
            )
        merged = self.golden.absorb_contact_person(hs, self.system, cid, record)
        if merged is None:
            summary.stale += 1
            return Processed(cid, Entity.CUSTOMER, cid)
        outcome, sources = merged
        self.count(outcome, summary)
        self.router.fan_out(hs, message, self.system, outcome, sources)
        return Processed(cid, Entity.CUSTOMER, cid, outcome)

    def _log_identity(self, hs: HubSession, message: InboxMessage, absorbed: Absorbed) -> None:
        if absorbed.how == "xref":
            return
        detail = f"{absorbed.how}: " + (
            absorbed.comparison.explain() if absorbed.comparison else "no candidate"
        )
        hs.event(
            "identity",
            message_id=message.id,
            correlation_id=absorbed.canonical_id,
            system=self.system,
            detail=detail[:2000],
        )
