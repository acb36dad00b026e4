"""Available to promise (ATP) per SKU, from the stock levels and the open orders in the hub.

For every SKU the ERP reports (the ERP owns the item master: a SKU it does not know is not
promised)::

    erp_free  = ERP on hand - ERP allocated          (Qty_on_Sales_Order: orders the ERP holds)
    free      = min(erp_free, 3PL available)         where the 3PL reports the SKU
              = erp_free                             elsewhere
    pending   = open hub orders the ERP does not hold yet (received, accepted, allocated,
                partially shipped; no xref to the ERP), their line quantities
    ATP       = max(0, free - pending)

The 3PL's available (846 QTY*33: on hand less the shipping orders it has received) is the
physical truth for goods it holds; the ERP's figure is the book truth. Taking the smaller
never promises goods one of them does not see (a receipt the ERP has booked but the 3PL has
not counted yet, or a shipment the 3PL made that the ERP has not posted). Orders are counted
once: in the ERP's allocation once the ERP holds them, as pending before.

The result is stored as an InventoryLevel at location ``ATP`` (on hand: the smaller on hand
of ERP and 3PL; available: ATP; allocated: the difference) under xref system ``atp``; a
change that leaves the figures as they were is not stored again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from canonical.models import Entity, InventoryLevel, OrderStatus, SalesOrder
from hub.schema import CanonicalRecord, Xref
from hub.store import HubSession, UpsertOutcome

ATP_SYSTEM = "atp"
ATP_LOCATION = "ATP"
OPEN_ORDER = frozenset(
    {
        OrderStatus.RECEIVED,
        OrderStatus.ACCEPTED,
        OrderStatus.ALLOCATED,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
ZERO = Decimal(0)


@dataclass
class SkuStock:
    erp_on_hand: Decimal = ZERO
    erp_allocated: Decimal = ZERO
    tpl_on_hand: Decimal | None = None
    tpl_available: Decimal | None = None
    pending: Decimal = ZERO
    unit: str = "EA"
    as_of: list[datetime] = field(default_factory=list)

    def atp(self, sku: str) -> InventoryLevel:
        free = self.erp_on_hand - self.erp_allocated
        on_hand = self.erp_on_hand
        if self.tpl_available is not None and self.tpl_on_hand is not None:
            free = min(free, self.tpl_available)
            on_hand = min(on_hand, self.tpl_on_hand)
        available = max(ZERO, free - self.pending)
        return InventoryLevel(
            sku=sku,
            location=ATP_LOCATION,
            on_hand=on_hand,
            allocated=max(ZERO, on_hand - available),
            available=available,
            unit_of_measure=self.unit,
            as_of=max(self.as_of),
        )


@dataclass(frozen=True)
class Sources:
    erp: str  # the ERP system's name (its levels' source_system)
    logistics: tuple[str, ...] = ("logistics",)
    erp_order_systems: tuple[str, ...] = ("erp",)  # xref systems meaning "the ERP has it"


def _rows(hs: HubSession, entity: Entity, systems: Iterable[str]) -> list[CanonicalRecord]:
    stmt = select(CanonicalRecord).where(
        CanonicalRecord.entity == entity, CanonicalRecord.source_system.in_(list(systems))
    )
    return list(hs.session.scalars(stmt))


def stock_by_sku(hs: HubSession, sources: Sources) -> dict[str, SkuStock]:
    """Every SKU the ERP reports, with its 3PL figures and pending orders."""
    erp: dict[str, SkuStock] = defaultdict(SkuStock)
    tpl: dict[str, SkuStock] = defaultdict(SkuStock)
    for row in _rows(hs, Entity.INVENTORY_LEVEL, (sources.erp, *sources.logistics)):
        level = InventoryLevel.model_validate_json(row.payload)
        if row.source_system == sources.erp:
            stock = erp[level.sku]
            stock.erp_on_hand += level.on_hand
            stock.erp_allocated += level.allocated
            stock.unit = level.unit_of_measure
        else:
            stock = tpl[level.sku]
            stock.tpl_on_hand = (stock.tpl_on_hand or ZERO) + level.on_hand
            stock.tpl_available = (stock.tpl_available or ZERO) + level.available
        stock.as_of.append(level.as_of)
    for sku, held in tpl.items():
        if sku in erp:
            erp[sku].tpl_on_hand, erp[sku].tpl_available = held.tpl_on_hand, held.tpl_available
            erp[sku].as_of.extend(held.as_of)
    for sku, quantity in pending_orders(hs, sources).items():
        if sku in erp:
            erp[sku].pending = quantity
    return dict(erp)


def pending_orders(hs: HubSession, sources: Sources) -> dict[str, Decimal]:
    """Quantities per SKU of open hub orders that have not reached the ERP."""
    in_erp = set(
        hs.session.scalars(
            select(Xref.canonical_id).where(
                Xref.entity == Entity.SALES_ORDER,
                Xref.system.in_([*sources.erp_order_systems, sources.erp]),
            )
        )
    )
    pending: dict[str, Decimal] = defaultdict(lambda: ZERO)
    stmt = select(CanonicalRecord).where(CanonicalRecord.entity == Entity.SALES_ORDER)
    for row in hs.session.scalars(stmt):
        if row.id in in_erp or row.source_system == sources.erp:
            continue
        order = SalesOrder.model_validate_json(row.payload)
        if order.status in OPEN_ORDER:
            for line in order.lines:
                pending[line.sku] += line.quantity
    return dict(pending)


def same_figures(a: InventoryLevel, b: InventoryLevel) -> bool:
    return (a.on_hand, a.allocated, a.available) == (b.on_hand, b.allocated, b.available)


def stored_atp(hs: HubSession) -> dict[str, tuple[str, InventoryLevel]]:
    """Every stored ATP record by SKU: (canonical id, record), in one query."""
    stmt = (
        select(Xref.external_id, CanonicalRecord.id, CanonicalRecord.payload)
        .join(CanonicalRecord, CanonicalRecord.id == Xref.canonical_id)
        .where(Xref.system == ATP_SYSTEM, Xref.entity == Entity.INVENTORY_LEVEL)
    )
    return {
        sku: (cid, InventoryLevel.model_validate_json(payload))
        for sku, cid, payload in hs.session.execute(stmt)
    }


def store_atp(
    hs: HubSession, level: InventoryLevel, stored: tuple[str, InventoryLevel] | None
) -> UpsertOutcome | None:
    """Store a SKU's ATP (``stored``: what the hub holds for it); None when the stored
    figures are already these."""
    cid = None
    if stored is not None:
        cid = stored[0]
        if same_figures(stored[1], level):
            return None
    outcome = hs.upsert(level, canonical_id=cid, source_system=ATP_SYSTEM)
    hs.link(Entity.INVENTORY_LEVEL, outcome.canonical_id, ATP_SYSTEM, level.sku)
    return outcome
