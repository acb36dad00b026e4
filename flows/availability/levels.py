"""Stock levels into the hub: one canonical InventoryLevel per (source, location, SKU).

- the ERP's on hand (``erp_soap`` items with their Inventory / Qty_on_Sales_Order FlowFields,
  or ``erp_sql`` stock rows), at the ERP's location(s);
- the 3PL's 846 inventory advice (``logistics`` inventory), at the 3PL's warehouse;
- distributors' stock from their sell-through reports (``drp`` sell_through), at
  ``<distributor>/<location>``: kept for CRM and BI, never pushed to the shop.

A level's time is the time it was true (the 846's report time, the ERP read time, the
report period's end), so an older report read later never overwrites a newer one. Every
level names the SKU as the message's correlation id: ``tandem messages show --correlation
<sku>`` shows the stock messages of a SKU and the shop deliveries they caused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from canonical.errors import InvalidRecord, PermanentError
from canonical.models import Entity, InventoryLevel
from flows.processing import InboxProcessor, Processed, parse_json
from flows.summary import FlowSummary
from hub.schema import InboxMessage
from hub.store import Hub, HubSession, UpsertOutcome
from mappings import drp, erp_sql, nav, x12

NOT_STOCKED = frozenset({"Service", "Non_Inventory"})  # NAV item types without inventory


@dataclass
class Touched:
    """The SKUs whose stock changed in this run (the ATP step recomputes those)."""

    skus: set[str] = field(default_factory=set)


def store_level(
    hs: HubSession, level: InventoryLevel, system: str, touched: Touched
) -> UpsertOutcome:
    """Upsert one level (keyed ``<location>|<sku>`` in the source's xref); its time is as_of."""
    key = f"{level.location}|{level.sku}"
    stamped = level.model_copy(update={"updated_at": level.updated_at or level.as_of})
    outcome = hs.upsert(
        stamped,
        canonical_id=hs.resolve(Entity.INVENTORY_LEVEL, system, key),
        source_system=system,
    )
    hs.link(Entity.INVENTORY_LEVEL, outcome.canonical_id, system, key)
    if outcome.changed:
        touched.skus.add(level.sku)
    return outcome


Mapper = Callable[[InboxMessage, Any], InventoryLevel | None]


def nav_item_level(message: InboxMessage, doc: Any) -> InventoryLevel | None:
    """A NAV Item record's company-wide inventory, as of the time it was read."""
    if isinstance(doc, Mapping) and doc.get("Type") in NOT_STOCKED:
        return None
    return nav.inventory_from_nav(doc, location="ALL", as_of=message.received_at)


def staging_level(message: InboxMessage, doc: Any) -> InventoryLevel | None:
    return erp_sql.stock_from_staging(doc)


def x12_level(message: InboxMessage, doc: Any) -> InventoryLevel | None:
    return x12.inventory_from_846(doc)


ERP_SOURCES: dict[str, tuple[str, Mapper]] = {
    # ERP system -> (stream with its stock, mapper)
    "erp_soap": ("items", nav_item_level),
    "erp_sql": ("stock", staging_level),
}


class LevelProcessor(InboxProcessor):
    """Messages of one source system -> InventoryLevels in the hub."""

    flow = "inventory"

    def __init__(self, hub: Hub, system: str, kind: str, mapper: Mapper, touched: Touched) -> None:
        super().__init__(hub)
        self.system, self.kinds = system, (kind,)
        self.mapper = mapper
        self.touched = touched

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        level = self.mapper(message, doc)
        if level is None:
            summary.notes.append(f"{self.system} {_key(message)}: no stock to keep")
            return Processed(_key(message))
        outcome = store_level(hs, level, self.system, self.touched)
        self.count(outcome, summary)
        return Processed(level.sku, Entity.INVENTORY_LEVEL, outcome.canonical_id, outcome)


def _key(message: InboxMessage) -> str | None:
    try:
        key = json.loads(message.headers or "{}").get("key")
    except ValueError:
        return None
    return str(key) if key else None


DRP_CURSOR = "inventory.drp_levels"


def distributor_levels(hub: Hub, touched: Touched, summary: FlowSummary) -> None:
    """Distributor stock from the DRP sell-through messages in the inbox.

    Read beside (not instead of) the sell-through flow's own processing: the messages are not
    claimed or marked here, only read after this flow's own cursor (their receive time), so
    both flows see every report. A row without stock figures (sales only) is passed over; a
    row that cannot be mapped is noted with its reason (the sell-through flow quarantines it).
    """
    with hub.begin() as hs:
        after = hs.get_cursor(DRP_CURSOR)
        stmt = select(InboxMessage).where(
            InboxMessage.source_system == drp.SYSTEM, InboxMessage.kind == "sell_through"
        )
        if after:
            stmt = stmt.where(InboxMessage.received_at >= datetime.fromisoformat(after))
        messages = list(hs.session.scalars(stmt.order_by(InboxMessage.received_at)))
        newest = after
        for message in messages:
            try:
                level = drp.inventory_level(parse_json(message))
            except (InvalidRecord, PermanentError) as exc:
                summary.notes.append(f"drp message {message.id}: {exc}")
                continue
            if level is not None:
                InboxProcessor.count(store_level(hs, level, drp.SYSTEM, touched), summary)
            newest = message.received_at.isoformat()
        if newest and newest != after:
            hs.set_cursor(DRP_CURSOR, newest)
