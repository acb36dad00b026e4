"""Push and pull give the same records: the sandbox shop's signed webhooks, through the real
receiver (connectors.webhooks), become the records the connector's read gives; a Shopify
delivery becomes a record the Shopify mapping takes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import Quarantined, RawRecord
from connectors.webhooks.app import create_webhook_app
from connectors.webhooks.models import IntakeResult, WebhookDelivery, WebhookSource
from connectors.webshop.webhooks import record_from_delivery
from mappings import shopify
from sandbox.webshop.peer import WebshopHandle, start_in_thread
from sandbox.webshop.serving import ServerThread, bind
from tests.connectors.contract import drain
from tests.connectors.webshop_support import connect

WC_SECRET = "wc-hook-secret-for-tests"
SHOPIFY_SECRET = "shpss_test_client_secret"
FIXTURES = Path(__file__).parents[1] / "fixtures" / "shopify"


class Inbox:
    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult:
        self.deliveries.append(delivery)
        return IntakeResult.STORED


@pytest.fixture
def receiver() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    sources = {
        "shop": WebhookSource(name="shop", scheme="woocommerce", secret=SecretStr(WC_SECRET)),
        "shopify": WebhookSource(
            name="shopify", scheme="shopify", secret=SecretStr(SHOPIFY_SECRET)
        ),
    }
    sock = bind("127.0.0.1", 0)
    server = ServerThread(create_webhook_app(sources, inbox), sock, name="receiver")
    server.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/webhooks", inbox
    server.stop()


@pytest.fixture
def shop() -> Iterator[WebshopHandle]:
    handle = start_in_thread(seed=4)
    yield handle
    handle.stop()


def records(inbox: Inbox) -> list[RawRecord | Quarantined]:
    return [
        record_from_delivery(d.scheme, d.topic, d.body, delivery_id=d.delivery_id)
        for d in inbox.deliveries
    ]


def test_a_webhook_gives_the_record_the_next_read_gives(
    shop: WebshopHandle, receiver: tuple[str, Inbox]
) -> None:
    url, inbox = receiver
    connector = connect(shop)
    _, cursor = drain(connector, "orders", None)
    shop.subscribe(f"{url}/shop", WC_SECRET)
    shop.api.store.update_order(1100, {"customer_note": "leave at the door"})
    assert shop.drain_webhooks()
    pushed = [r for r in records(inbox) if isinstance(r, RawRecord)]
    assert [(r.stream, r.key) for r in pushed] == [("orders", "1100")]
    pulled = [r for page in connector.read("orders", cursor) for r in page.records]
    assert [(r.key, r.version) for r in pulled] == [(pushed[0].key, pushed[0].version)]
    assert pulled[0].data["customer_note"] == pushed[0].data["customer_note"]
    connector.close()


def test_a_cut_short_webhook_body_is_quarantined_with_its_delivery(
    shop: WebshopHandle, receiver: tuple[str, Inbox]
) -> None:
    url, inbox = receiver
    shop.subscribe(f"{url}/shop", WC_SECRET)
    shop.control(malformed_webhook_rate=1.0)
    shop.api.store.update_customer(12, {"first_name": "Cut"})
    assert shop.drain_webhooks()
    (outcome,) = records(inbox)
    assert isinstance(outcome, Quarantined)
    assert outcome.stream == "customers"
    assert "customer.updated" in outcome.source and "not JSON" in outcome.reason
    assert outcome.raw == inbox.deliveries[0].body


def test_a_shopify_order_webhook_becomes_a_mappable_record(
    receiver: tuple[str, Inbox],
) -> None:
    url, inbox = receiver
    body = (FIXTURES / "order_eu_taxes_included.json").read_bytes()
    digest = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "tandem-demo.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }
    answer = httpx.post(f"{url}/shopify", content=body, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    (record,) = records(inbox)
    assert isinstance(record, RawRecord)
    assert (record.stream, record.key) == ("orders", "5830376734890")
    assert record.version == "2025-03-12T14:07:02+01:00"
    assert shopify.map_order(record.data).order.order_number == "1042"
