"""PDM catalogue products (BMEcat) -> canonical Products in the hub -> deliveries.

The PDM owns the product master: each product of a full catalogue or a delta is mapped
(``mappings/bmecat``), stored under its SUPPLIER_PID (the SKU) and, when its content changed,
queued for every target (the ERP's items, the web shop's products). A delete in a delta
(``mode="delete"``) discontinues the stored product (lifecycle ``discontinued``): the ERP
blocks the item, the shop unpublishes and hides it; nothing is deleted, history stays. A
product's time is its catalogue's generation date, so an older catalogue read later never
overwrites a newer one. A product that cannot be mapped is quarantined with the reason
naming file, product and field; the rest of the catalogue goes on.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from canonical.models import Entity, LifecycleStatus, Product
from flows.processing import InboxProcessor, Processed, enqueue_change, routes
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import Hub, HubSession, UpsertOutcome
from mappings import bmecat

PDM_TIME_ZONE = "Europe/Berlin"  # a generation date without offset (as the mapping)


def catalog_time(doc: Any, fallback: datetime) -> datetime:
    """The catalogue's generation date (the time its products were true)."""
    catalog = doc.get("catalog") if isinstance(doc, dict) else None
    text = catalog.get("generation_date") if isinstance(catalog, dict) else None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return fallback
    # the zone is loaded when first needed, not at import (DAG files parse without I/O)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(PDM_TIME_ZONE))


def _source(message: InboxMessage) -> str:
    try:
        headers = json.loads(message.headers or "{}")
    except ValueError:
        headers = {}
    return str(headers.get("source") or f"pdm message {message.id}")


class CatalogIntake(InboxProcessor):
    flow, system, kinds = "catalog", bmecat.SYSTEM, ("product",)

    def __init__(self, hub: Hub, targets: tuple[str, ...]) -> None:
        super().__init__(hub)
        self.targets = targets

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        mapped = bmecat.map_product(doc, source=_source(message))
        key = mapped.key
        cid = hs.resolve(Entity.PRODUCT, self.system, key)
        if mapped.product is None:  # a delete: the product is discontinued
            if cid is None:
                summary.notes.append(f"delete of unknown product {key}: nothing to retire")
                return Processed(key)
            stored = hs.load(cid, Product)
            product = stored.model_copy(
                update={
                    "lifecycle_status": LifecycleStatus.DISCONTINUED,
                    "updated_at": catalog_time(doc, message.received_at),
                }
            )
        else:
            product = mapped.product
        outcome = hs.upsert(product, canonical_id=cid, source_system=self.system)
        hs.link(Entity.PRODUCT, outcome.canonical_id, self.system, key)
        self.count(outcome, summary)
        if outcome.changed:
            self._enqueue(hs, message, outcome, key)
        return Processed(key, Entity.PRODUCT, outcome.canonical_id, outcome)

    def _enqueue(
        self, hs: HubSession, message: InboxMessage, outcome: UpsertOutcome, key: str
    ) -> None:
        for target in routes(self.targets, self.system):
            enqueue_change(hs, message, target, Entity.PRODUCT, outcome, key)
