"""Recompute ATP for every SKU and queue the web shop's stock levels that must change.

Run after the stock levels are in: it reads the hub's levels and open orders (``atp.py``),
and for each SKU whose ATP figures changed it queues one delivery to the shop's ``stock``
stream — only for SKUs the shop sells and only when the shop does not already show that
quantity (its current value is read once, before anything is stored: a shop that cannot be
read leaves the ATP unstored, so the next run tries again and nothing is lost). Each change
is one processed inbox message of source ``atp`` (its body: the ATP record), correlated by
SKU, that the delivery hangs on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from canonical.models import Entity, InventoryLevel
from connectors.base import Connector
from flows.availability.atp import (
    ATP_SYSTEM,
    Sources,
    same_figures,
    stock_by_sku,
    store_atp,
    stored_atp,
)
from flows.summary import FlowSummary
from hub.schema import InboxStatus
from hub.store import Hub, IncomingMessage
from hub.views import receive

SHOP = "webshop"


def shop_quantity(level: InventoryLevel) -> int:
    """What the shop is told: whole units, never below zero."""
    return max(0, int(level.available))


def shop_levels(shop: Connector) -> dict[str, int | None]:
    """The shop's current stock quantity per SKU (None: stock not managed)."""
    current: dict[str, int | None] = {}
    for page in shop.read("stock", None):
        for record in page.records:
            quantity = record.data.get("stock_quantity")
            managed = record.data.get("manage_stock") is True
            current[record.key] = int(quantity) if managed and quantity is not None else None
    return current


@dataclass(frozen=True)
class Change:
    level: InventoryLevel


def changes(hub: Hub, sources: Sources) -> list[Change]:
    """SKUs whose ATP figures differ from the stored ones (nothing is written)."""
    out: list[Change] = []
    with hub.begin() as hs:
        stored = stored_atp(hs)
        for sku, stock in sorted(stock_by_sku(hs, sources).items()):
            level = stock.atp(sku)
            if sku in stored and same_figures(stored[sku][1], level):
                continue
            out.append(Change(level))
    return out


def promise(
    hub: Hub,
    sources: Sources,
    shop: Connector | None,
    summary: FlowSummary,
    *,
    dry_run: bool = False,
) -> None:
    found = changes(hub, sources)
    summary.notes.append(f"ATP changed for {len(found)} SKU(s)")
    if dry_run:
        summary.notes.extend(
            f"would set ATP of {c.level.sku} to {c.level.available}" for c in found[:50]
        )
        return
    if not found:
        return
    if shop is None:
        raise ValueError("promise: the web shop's connector is needed to store ATP")
    current: Mapping[str, int | None] = shop_levels(shop)
    queued = 0
    with hub.begin() as hs:
        stored = stored_atp(hs)
        for change in found:
            level = change.level
            outcome = store_atp(hs, level, stored.get(level.sku))
            if outcome is None:
                continue
            summary.changed += 1
            if level.sku not in current or current[level.sku] == shop_quantity(level):
                continue  # the shop does not sell it, or already shows this quantity
            body = level.model_dump_json().encode()
            message = receive(
                hs,
                IncomingMessage(
                    source_system=ATP_SYSTEM,
                    kind="atp",
                    dedupe_key=f"atp:{level.sku}:{outcome.version}:{outcome.canonical_id}",
                    body=body,
                    headers={"key": level.sku},
                    correlation_id=level.sku,
                ),
                status=InboxStatus.PROCESSED,
            )
            hs.enqueue(
                message_id=message.message_id,
                target_system=SHOP,
                entity=Entity.INVENTORY_LEVEL,
                canonical_id=outcome.canonical_id,
                record_version=outcome.version,
                correlation_id=level.sku,
            )
            queued += 1
    summary.notes.append(f"{queued} stock level(s) queued for the web shop")


def to_shop(level: InventoryLevel) -> dict[str, object]:
    return {"sku": level.sku, "quantity": shop_quantity(level)}
