"""Inventory availability: ERP and 3PL stock + open orders -> ATP per SKU -> web shop stock.

One run, top to bottom (see docs/flows/inventory.md):

1. pull the stock sources into the inbox from their cursors: the ERP's stock (``erp_soap``
   items or ``erp_sql`` stock), the 3PL's 846 inventory (``logistics`` inventory) and the
   distributors' sell-through reports (``drp`` sell_through);
2. store each as an InventoryLevel per source, location and SKU (``availability/levels.py``);
   distributor stock (``<distributor>/<location>``) stays in the hub for CRM and BI;
3. recompute ATP for every SKU the ERP reports, from the levels and the hub's open orders
   (``availability/atp.py``) and queue the shop's stock levels that must change
   (``availability/promise.py``);
4. deliver them to the shop's ``stock`` stream: only a changed quantity is sent (the payload
   hash skips a repeat, and the connector does not PUT a quantity the shop already shows).

The 3PL and the distributors are optional sources: a system without a connection is passed
over with a note. The ERP and the shop are required.
"""

from __future__ import annotations

from collections.abc import Callable

from canonical.errors import PermanentError
from canonical.models import Entity, InventoryLevel, Record
from connectors.base import Connector
from flows.availability.atp import Sources
from flows.availability.delivering import deliver_own, lazy_target
from flows.availability.levels import (
    ERP_SOURCES,
    LevelProcessor,
    Mapper,
    Touched,
    distributor_levels,
    x12_level,
)
from flows.availability.promise import SHOP, promise, to_shop
from flows.pull import PullSpec, pull
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services, chosen_targets
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget
from hub.store import HubSession
from mappings import x12

OPTIONAL = ("logistics", "drp")


def _optional(services: Services, system: str, summary: FlowSummary) -> Connector | None:
    try:
        return services.connector(system)
    except Exception as exc:  # not configured: this source is left out of the run
        summary.notes.append(f"{system} left out: {exc}")
        return None


def _sources(services: Services) -> list[tuple[str, str, str, Mapper]]:
    erp = services.system_name("erp")
    if erp not in ERP_SOURCES:
        raise PermanentError(
            f"inventory: no stock source for ERP {erp!r} (supported: {', '.join(ERP_SOURCES)})"
        )
    stream, mapper = ERP_SOURCES[erp]
    return [(erp, stream, "item_stock", mapper), (x12.SYSTEM, "inventory", "inventory", x12_level)]


def run(services: Services, options: RunOptions) -> FlowSummary:
    hub = services.hub
    summary = FlowSummary("inventory")
    touched = Touched()
    erp = services.system_name("erp")
    if not options.dry_run:
        for system, stream, kind, mapper in _sources(services):
            connector = (
                _optional(services, system, summary)
                if system in OPTIONAL
                else services.connector(system)
            )
            if connector is None:
                continue
            spec = PullSpec(system, stream, kind)
            pulled = pull(hub, connector, spec, full=options.full)
            summary.notes.append(f"pulled {pulled.read} {system} {stream} record(s)")
            summary.quarantined += pulled.quarantined
            processor = LevelProcessor(hub, system, kind, mapper, touched)
            processor.run(
                since=options.since,
                message_ids=options.message_ids,
                entity_ids=options.entity_ids,
                summary=summary,
            )
        drp = _optional(services, "drp", summary)
        if drp is not None:
            pulled = pull(hub, drp, PullSpec("drp", "sell_through", "sell_through"))
            summary.quarantined += pulled.quarantined
        if options.entity_ids is None:
            distributor_levels(hub, touched, summary)  # also reports another flow pulled
        else:  # read after its own cursor, all or none: left for a run of every record
            summary.notes.append("distributor stock left for a run without entity ids")
    if not chosen_targets(options, [SHOP]):
        summary.notes.append("web shop not among the targets: ATP left for a later run")
    elif options.dry_run:
        promise(hub, Sources(erp=erp), None, summary, dry_run=True)
    else:
        promise(hub, Sources(erp=erp), services.connector(SHOP), summary)
        summary.merge(deliver_own(hub, handlers(services), services.retry_policy, options))
    summary.flow = "inventory"
    return summary


def _shop_stock(hs: HubSession, record: Record, known: str | None) -> dict[str, object]:
    assert isinstance(record, InventoryLevel)
    return to_shop(record)


def handlers(services: Services) -> HandlerMap:
    build: Callable[[], ConnectorTarget] = lambda: ConnectorTarget(  # noqa: E731
        system=SHOP,
        entity=Entity.INVENTORY_LEVEL,
        model=InventoryLevel,
        connector=services.connector(SHOP),
        stream="stock",
        to_target=_shop_stock,
    )
    return {(SHOP, Entity.INVENTORY_LEVEL): lazy_target(services.hub, build)}


FLOW = FlowSpec(
    name="inventory",
    description="ERP and 3PL stock + open orders -> available to promise per SKU -> web shop "
    "stock levels (changed ones only); distributor stock kept in the hub",
    source="erp",
    targets=(SHOP,),
    run=run,
    handlers=handlers,
    schedule="*/15 * * * *",
    tags=("inventory",),
)
