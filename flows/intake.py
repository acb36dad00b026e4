"""Inbound messages into the hub's durable inbox: the sink behind the webhook receiver."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from canonical.envelope import dedupe_key
from connectors.webhooks.models import IntakeResult, WebhookDelivery
from hub.store import Hub, IncomingMessage


def _correlation_hint(body: bytes) -> str | None:
    """The order number if the body is a JSON order; tracking works before mapping ran."""
    try:
        doc: Any = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, dict):
        number = doc.get("number") or doc.get("order_number") or doc.get("id")
        if isinstance(number, (str, int)) and not isinstance(number, bool):
            return str(number)[:255]
    return None


def to_incoming(delivery: WebhookDelivery) -> IncomingMessage:
    """A webhook delivery as an inbox message. The dedupe key covers the identical body."""
    kind = delivery.topic or "unknown"
    body_hash = hashlib.sha256(delivery.body).hexdigest()
    return IncomingMessage(
        source_system=delivery.source,
        kind=kind,
        dedupe_key=dedupe_key(delivery.source, kind, body_hash),
        body=delivery.body,
        content_type=delivery.content_type,
        delivery_id=delivery.delivery_id,
        headers=delivery.headers,
        correlation_id=_correlation_hint(delivery.body),
        received_at=delivery.received_at,
    )


class HubInboxSink:
    """Writes each verified webhook to the inbox and commits before the sender gets its 2xx."""

    def __init__(self, hub: Hub, on_stored: Callable[[str], None] | None = None) -> None:
        self.hub = hub
        self.on_stored = on_stored  # e.g. wake a worker; called after the commit

    def store(self, delivery: WebhookDelivery) -> IntakeResult:
        result = self.hub.receive(to_incoming(delivery))
        if result.duplicate:
            return IntakeResult.DUPLICATE
        if self.on_stored is not None:
            self.on_stored(result.message_id)
        return IntakeResult.STORED

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult:
        return await run_in_threadpool(self.store, delivery)
