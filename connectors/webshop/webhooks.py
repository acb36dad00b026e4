"""Webhook deliveries as the streams' records: the receiver stores, this reads.

The receiver (``connectors.webhooks``: signatures checked, bodies stored byte for byte) is the
push path; the streams' incremental reads are the pull path that also catches what a missed
webhook lost. ``record_from_delivery`` turns a stored delivery body into the same
``RawRecord`` a read would give (stream, key, version, data), or a ``Quarantined`` naming the
delivery and what is wrong, so one flow step serves both paths.

WooCommerce topics (``order.updated``...) carry REST API v3 records and get the readers'
checks; Shopify topics (``orders/create``...) carry Admin REST API records (map them with
``mappings.shopify``), keyed by ``id`` and versioned by ``updated_at``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Quarantined, RawRecord
from connectors.webshop import checks
from connectors.webshop.streams import stock_key

WOOCOMMERCE_TOPICS: Mapping[str, tuple[str, checks.Check]] = {
    "order.created": ("orders", checks.order),
    "order.updated": ("orders", checks.order),
    "order.restored": ("orders", checks.order),
    "customer.created": ("customers", checks.customer),
    "customer.updated": ("customers", checks.customer),
    "product.created": ("stock", checks.product),
    "product.updated": ("stock", checks.product),
}
SHOPIFY_RESOURCES = {"orders": "orders", "customers": "customers", "products": "stock"}


def _shopify_problems(record: Mapping[str, Any], stream: str) -> list[str]:
    problems = [] if checks.record_id(record) else ["id: is not a record id"]
    try:
        stamp = record.get("updated_at")
        if not isinstance(stamp, str) or datetime.fromisoformat(stamp).tzinfo is None:
            problems.append(f"updated_at: {stamp!r} is not a timestamp with an offset")
    except ValueError:
        problems.append(f"updated_at: {record.get('updated_at')!r} is not a timestamp")
    if stream == "orders" and not isinstance(record.get("line_items"), list):
        problems.append("line_items: is not a list")
    return problems


def record_from_delivery(
    scheme: str, topic: str | None, body: bytes, *, delivery_id: str | None = None
) -> RawRecord | Quarantined:
    """The record a delivery carries (``scheme``: ``woocommerce`` or ``shopify``)."""
    topic = topic or ""
    source = f"{scheme} webhook {topic or '?'} delivery {delivery_id or '?'}"
    check: checks.Check | None = None
    if scheme == "woocommerce" and topic in WOOCOMMERCE_TOPICS:
        stream, check = WOOCOMMERCE_TOPICS[topic]
    elif scheme == "shopify" and topic.partition("/")[0] in SHOPIFY_RESOURCES:
        stream = SHOPIFY_RESOURCES[topic.partition("/")[0]]
    else:
        return Quarantined("webhooks", source, f"{source}: no stream takes this topic", body)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return Quarantined(stream, source, f"{source}: the body is not JSON: {exc}", body)
    if check is None:
        problems = (
            _shopify_problems(data, stream) if isinstance(data, Mapping) else ["not an object"]
        )
    else:
        problems = checks.problems_of(check, data)
    if problems:
        return Quarantined(stream, source, f"{source}: " + "; ".join(problems), body)
    key = stock_key(data) if stream == "stock" else str(data["id"])
    version = data.get("updated_at") if check is None else data.get("date_modified_gmt")
    return RawRecord(stream, key, data, str(version), source, body)
