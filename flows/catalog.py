"""Product catalog: PDM (BMEcat full catalogues and deltas) -> hub products -> ERP items and
web shop products, idempotent by SKU.

One run, top to bottom (see docs/flows/catalog.md):

1. pull the PDM's ``products`` stream into the inbox from its cursor (each catalogue file
   once; a broken product or file is quarantined there with its bytes);
2. map and store each product (``product_master/intake.py``): new and updated products as
   the PDM sends them, deleted ones discontinued; a product whose content changed is queued
   for the ERP and the shop;
3. deliver: the ERP's ``items`` write (create or update by No = SKU; discontinued = Blocked)
   and the shop's ``products`` write (create or update by SKU; discontinued = draft and
   hidden). An unchanged payload is not sent again, and both connectors write only the
   fields that differ, so a second run changes nothing in any peer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canonical.models import Entity, Product, Record
from flows.availability.delivering import deliver_own, lazy_target
from flows.delivery import Handler
from flows.product_master.intake import CatalogIntake
from flows.pull import PullSpec, pull
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget, ToTarget
from hub.store import HubSession
from mappings import bmecat, nav, woocommerce

SHOP = "webshop"
SOURCE = PullSpec(bmecat.SYSTEM, "products", "product")


def _nav_item(hs: HubSession, record: Record, known: str | None) -> dict[str, Any]:
    assert isinstance(record, Product)
    return nav.item_to_nav(record)


def _shop_product(hs: HubSession, record: Record, known: str | None) -> dict[str, Any]:
    assert isinstance(record, Product)
    return woocommerce.product_to_woocommerce(record)


# ERP system -> (its stream that takes products, the mapping to its shape)
ERP_TARGETS: dict[str, tuple[str, ToTarget]] = {"erp_soap": ("items", _nav_item)}


def targets(services: Services) -> tuple[str, ...]:
    erp = services.system_name("erp")
    return (erp, SHOP) if erp in ERP_TARGETS else (SHOP,)


def _target(
    services: Services, system: str, role: str, stream: str, to_target: ToTarget
) -> Callable[[], ConnectorTarget]:
    return lambda: ConnectorTarget(
        system=system,
        entity=Entity.PRODUCT,
        model=Product,
        connector=services.connector(role),
        stream=stream,
        to_target=to_target,
    )


def handlers(services: Services) -> HandlerMap:
    hub = services.hub
    out: dict[tuple[str, str], Handler] = {
        (SHOP, Entity.PRODUCT): lazy_target(
            hub, _target(services, SHOP, SHOP, "products", _shop_product)
        )
    }
    erp = services.system_name("erp")
    if erp in ERP_TARGETS:
        stream, to_target = ERP_TARGETS[erp]
        out[(erp, Entity.PRODUCT)] = lazy_target(
            hub, _target(services, erp, "erp", stream, to_target)
        )
    return out


def run(services: Services, options: RunOptions) -> FlowSummary:
    hub = services.hub
    summary = FlowSummary("catalog")
    if options.dry_run:
        summary.notes.append("dry run: nothing pulled, stored or delivered")
        return summary
    pulled = pull(hub, services.connector(SOURCE.system), SOURCE, full=options.full)
    summary.quarantined += pulled.quarantined
    summary.notes.append(f"pulled {pulled.read} PDM product record(s)")
    # queued for every target; delivered to the chosen ones (the others' wait)
    CatalogIntake(hub, targets(services)).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        summary=summary,
    )
    summary.merge(deliver_own(hub, handlers(services), services.retry_policy, options))
    summary.flow = "catalog"
    return summary


FLOW = FlowSpec(
    name="catalog",
    description="PDM product catalogue (BMEcat full and delta) -> hub products -> ERP items "
    "and web shop products (create, update, discontinue), idempotent by SKU",
    source=bmecat.SYSTEM,
    targets=("erp", SHOP),
    run=run,
    handlers=handlers,
    schedule="@hourly",
    tags=("catalog",),
)
