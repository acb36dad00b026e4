"""The webhook receiver over real HTTP: uvicorn on a loopback port, httpx as the sender."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr, ValidationError
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

from canonical.errors import TransientError
from connectors.webhooks import (
    IntakeResult,
    ShopifyScheme,
    WebhookDelivery,
    WebhookSource,
    WooCommerceScheme,
    create_webhook_app,
)
from sandbox.webshop import WebhookSender, make_order

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
WC_SECRET = "wc-secret-7Hq!x9"
SHOPIFY_SECRET = "shpss_0123456789abcdef"
MAX_BODY = 8192


class RecordingSink:
    """An in-memory inbox that can be told to fail.

    It dedupes on (source, topic, body hash), not on the delivery id: WooCommerce's delivery id
    is a hash of the webhook id and the current second, so distinct events share it.
    """

    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.calls = 0
        self.failures: list[BaseException] = []
        self._seen: set[tuple[str, str | None, str]] = set()

    def reset(self) -> None:
        self.deliveries.clear()
        self.calls = 0
        self.failures.clear()
        self._seen.clear()

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        key = (delivery.source, delivery.topic, hashlib.sha256(delivery.body).hexdigest())
        if key in self._seen:
            return IntakeResult.DUPLICATE
        self._seen.add(key)
        self.deliveries.append(delivery)
        return IntakeResult.STORED


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on 127.0.0.1:<free port>; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _sources() -> dict[str, WebhookSource]:
    sources = [
        WebhookSource(name="webshop", scheme="woocommerce", secret=SecretStr(WC_SECRET)),
        WebhookSource(name="shopify", scheme="shopify", secret=SecretStr(SHOPIFY_SECRET)),
        WebhookSource(
            name="orders-only",
            scheme="woocommerce",
            secret=SecretStr(WC_SECRET),
            allowed_topics=frozenset({"order.created"}),
        ),
    ]
    return {source.name: source for source in sources}


_SINK = RecordingSink()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_webhook_app(_sources(), _SINK, max_body_bytes=MAX_BODY, retry_after_seconds=11)
    with serve(app) as url:
        yield url


@pytest.fixture
def sink() -> RecordingSink:
    _SINK.reset()
    return _SINK


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        yield http


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wc_headers(body: bytes, *, secret: str = WC_SECRET, delivery: str = "d-1") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)",
        "X-WC-Webhook-Source": "http://shop.example/",
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-Signature": signature(body, secret),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery,
    }


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_signed_woocommerce_delivery_is_stored_byte_for_byte(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = fixture_bytes("order_guest.json")
    assert len(body) < MAX_BODY

    response = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    [delivery] = sink.deliveries
    assert delivery.body == body
    assert (delivery.source, delivery.scheme) == ("webshop", "woocommerce")
    assert (delivery.topic, delivery.resource, delivery.event) == (
        "order.created",
        "order",
        "created",
    )
    assert (delivery.webhook_id, delivery.delivery_id) == ("7", "d-1")
    assert delivery.content_type == "application/json"
    assert delivery.received_at.tzinfo is not None
    assert delivery.received_at.utcoffset() == UTC.utcoffset(None)
    assert delivery.headers["x-wc-webhook-source"] == "http://shop.example/"
    assert "x-wc-webhook-signature" not in delivery.headers
    assert all(name.startswith("x-wc-webhook-") for name in delivery.headers)


@pytest.mark.parametrize(
    ("make_headers", "expected_error"),
    [
        (lambda body: wc_headers(body + b" "), "invalid signature"),
        (lambda body: wc_headers(body, secret="another-secret"), "invalid signature"),
        (
            lambda body: {**wc_headers(body), "X-WC-Webhook-Signature": "not base64 at all!"},
            "invalid signature",
        ),
        (
            lambda body: {k: v for k, v in wc_headers(body).items() if "Signature" not in k},
            "missing X-WC-Webhook-Signature header",
        ),
    ],
    ids=["tampered-body", "other-secret", "garbage", "missing"],
)
def test_bad_or_missing_signature_is_401_and_nothing_stored(
    client: httpx.Client,
    sink: RecordingSink,
    make_headers: Callable[[bytes], dict[str, str]],
    expected_error: str,
) -> None:
    body = b'{"id": 1}'
    headers = make_headers(body)

    response = client.post("/webhooks/webshop", content=body, headers=headers)

    assert response.status_code == 401
    assert response.json() == {"error": expected_error}
    assert sink.calls == 0


def test_content_type_must_be_json_charset_allowed(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = b'{"id": 2}'
    text_plain = {**wc_headers(body), "Content-Type": "text/plain"}
    with_charset = {**wc_headers(body), "Content-Type": "application/json; charset=UTF-8"}

    assert client.post("/webhooks/webshop", content=body, headers=text_plain).status_code == 415
    assert sink.calls == 0
    assert client.post("/webhooks/webshop", content=body, headers=with_charset).status_code == 200
    assert sink.deliveries[0].content_type == "application/json; charset=UTF-8"


def test_oversize_body_is_413_with_honest_content_length(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = b'{"pad": "' + b"x" * MAX_BODY + b'"}'

    response = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))

    assert response.status_code == 413
    assert sink.calls == 0


def test_oversize_body_is_413_without_content_length(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = b'{"pad": "' + b"x" * MAX_BODY + b'"}'

    def chunks() -> Iterator[bytes]:  # a generator makes httpx send Transfer-Encoding: chunked
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    request = client.build_request(
        "POST", "/webhooks/webshop", content=chunks(), headers=wc_headers(body)
    )
    assert "content-length" not in request.headers
    response = client.send(request)

    assert response.status_code == 413
    assert sink.calls == 0


def test_body_of_exactly_the_limit_is_accepted(client: httpx.Client, sink: RecordingSink) -> None:
    body = b'{"pad": "' + b"x" * (MAX_BODY - 11) + b'"}'
    assert len(body) == MAX_BODY

    response = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))

    assert response.status_code == 200
    assert sink.deliveries[0].body == body


def test_woocommerce_creation_ping_gets_200_and_is_not_stored(
    client: httpx.Client, sink: RecordingSink
) -> None:
    response = client.post(
        "/webhooks/webshop",
        content=b"webhook_id=42",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200
    assert response.json() == {"status": "pong"}
    assert sink.calls == 0


def test_form_body_that_is_not_a_ping_is_415(client: httpx.Client, sink: RecordingSink) -> None:
    response = client.post(
        "/webhooks/webshop",
        content=b"webhook_id=42&extra=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert sink.calls == 0


def test_shopify_signature_is_accepted(client: httpx.Client, sink: RecordingSink) -> None:
    body = b'{"id":820982911946154508,"email":"jon@example.com","total_price":"403.00"}'
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": signature(body, SHOPIFY_SECRET),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Shop-Domain": "tandem-demo.myshopify.com",
    }

    response = client.post("/webhooks/shopify", content=body, headers=headers)

    assert response.status_code == 200
    [delivery] = sink.deliveries
    assert (delivery.scheme, delivery.topic) == ("shopify", "orders/create")
    assert (delivery.resource, delivery.event) == ("orders", "create")
    assert delivery.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert delivery.headers["x-shopify-shop-domain"] == "tandem-demo.myshopify.com"
    assert "x-shopify-hmac-sha256" not in delivery.headers


def test_woocommerce_signature_does_not_open_a_shopify_source(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = b'{"id": 3}'
    response = client.post("/webhooks/shopify", content=body, headers=wc_headers(body))

    assert response.status_code == 401
    assert sink.calls == 0


def test_sink_failure_is_503_with_retry_after(client: httpx.Client, sink: RecordingSink) -> None:
    body = b'{"id": 4}'
    sink.failures = [TransientError("database is locked", retry_after=2.5), RuntimeError("boom")]

    transient = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))
    unexpected = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))
    retried = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))

    assert (transient.status_code, transient.headers["retry-after"]) == (503, "3")
    assert (unexpected.status_code, unexpected.headers["retry-after"]) == (503, "11")
    assert retried.json() == {"status": "accepted"}
    assert len(sink.deliveries) == 1


def test_duplicates_are_reported_as_such(client: httpx.Client, sink: RecordingSink) -> None:
    body = b'{"id": 5}'
    first = client.post("/webhooks/webshop", content=body, headers=wc_headers(body, delivery="x"))
    again = client.post("/webhooks/webshop", content=body, headers=wc_headers(body, delivery="x"))

    assert (first.status_code, first.json()) == (200, {"status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert len(sink.deliveries) == 1


def test_signed_malformed_json_still_reaches_the_inbox(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = fixture_bytes("order_malformed.json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)

    response = client.post("/webhooks/webshop", content=body, headers=wc_headers(body))

    assert response.status_code == 200
    assert sink.deliveries[0].body == body


def test_topics_outside_the_allowed_set_are_acknowledged_not_stored(
    client: httpx.Client, sink: RecordingSink
) -> None:
    body = b'{"id": 6}'
    headers = {**wc_headers(body), "X-WC-Webhook-Topic": "product.updated"}

    ignored = client.post("/webhooks/orders-only", content=body, headers=headers)
    stored = client.post("/webhooks/orders-only", content=body, headers=wc_headers(body))

    assert (ignored.status_code, ignored.json()) == (200, {"status": "ignored"})
    assert stored.json() == {"status": "accepted"}
    assert [d.topic for d in sink.deliveries] == ["order.created"]


def test_unknown_source_health_and_wrong_method(client: httpx.Client, sink: RecordingSink) -> None:
    body = b"{}"
    assert client.post("/webhooks/nope", content=body, headers=wc_headers(body)).status_code == 404
    assert client.get("/webhooks/_health").status_code == 200
    assert client.get("/webhooks/webshop").status_code == 405
    assert sink.calls == 0


def test_log_lines_name_the_request_but_never_secret_signature_or_body(
    client: httpx.Client, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b'{"billing": {"email": "very.private@example.com"}}'
    good = wc_headers(body, delivery="log-1")
    sink.failures = [RuntimeError(f"store failed for {body!r}")]

    client.post("/webhooks/webshop", content=body, headers=good)  # sink fails: 503
    client.post("/webhooks/webshop", content=body, headers=good)  # stored
    client.post("/webhooks/webshop", content=body, headers=wc_headers(body, secret="wrong"))
    client.post("/webhooks/shopify", content=body, headers=good)

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("connectors.webhooks")]
    assert len(lines) == 4
    assert "source=webshop topic=order.created delivery=log-1 status=503" in lines[0]
    assert "error=RuntimeError at=test_webhook_receiver.py:" in lines[0]
    assert "status=200 outcome=stored" in lines[1]
    assert "status=401 outcome=bad-signature" in lines[2]
    assert "source=shopify" in lines[3]
    everything = caplog.text + "\n".join(lines)
    for secret in (WC_SECRET, SHOPIFY_SECRET, good["X-WC-Webhook-Signature"], "very.private"):
        assert secret not in everything


def test_app_works_mounted_under_a_prefix(sink: RecordingSink) -> None:
    inner = create_webhook_app(_sources(), sink)
    parent = Starlette(routes=[Mount("/integration", app=inner)])
    body = b'{"id": 8}'
    with serve(parent) as url, httpx.Client(base_url=url, timeout=10) as http:
        response = http.post(
            "/integration/webhooks/webshop", content=body, headers=wc_headers(body)
        )
        health = http.get("/integration/webhooks/_health")

    assert response.json() == {"status": "accepted"}
    assert health.status_code == 200
    assert sink.deliveries[0].body == body


def test_sandbox_webshop_end_to_end_with_retry_and_duplicates(
    base_url: str, sink: RecordingSink
) -> None:
    order = make_order(seed=5, order_id=2001)
    sink.failures = [TransientError("inbox busy")]
    url = f"{base_url}/webhooks/webshop"
    with WebhookSender(url, WC_SECRET, webhook_id=3, retries=2, backoff_seconds=0) as sender:
        assert sender.ping() == 200
        statuses = sender.send("order.created", order, duplicate=2)

    assert statuses == [200, 200]
    [delivery] = sink.deliveries
    assert json.loads(delivery.body) == order
    assert (delivery.topic, delivery.webhook_id) == ("order.created", "3")
    assert sink.calls == 3  # one failure, one stored, one duplicate


def test_woocommerce_delivery_ids_repeat_within_a_second_for_different_orders(
    base_url: str, sink: RecordingSink
) -> None:
    """Two different orders from one webhook in the same second carry one delivery id.

    The receiver passes both on; an inbox keyed on (source, delivery id) would drop the second.
    """
    url = f"{base_url}/webhooks/webshop"
    with WebhookSender(url, WC_SECRET, clock=lambda: 1_750_000_000.0) as sender:
        first = sender.send("order.created", make_order(seed=5, order_id=3001))
        second = sender.send("order.created", make_order(seed=5, order_id=3002))

    assert first == second == [200]
    assert [json.loads(d.body)["id"] for d in sink.deliveries] == [3001, 3002]
    assert sink.deliveries[0].delivery_id == sink.deliveries[1].delivery_id


def test_scheme_and_source_configuration_checks() -> None:
    body = b"{}"
    assert WooCommerceScheme().verify(body, {"x-wc-webhook-signature": signature(body, "s")}, "s")
    assert not WooCommerceScheme().verify(body, {"X-WC-Webhook-Signature": ""}, "s")
    assert not ShopifyScheme().verify(body, {"X-Shopify-Hmac-Sha256": signature(body, "s")}, "")
    meta = WooCommerceScheme().describe({"X-WC-Webhook-Topic": "order.updated"})
    assert (meta.resource, meta.event, meta.delivery_id) == ("order", "updated", None)
    with pytest.raises(ValidationError):
        WebhookSource(name="x", scheme="magento", secret=SecretStr("s"))
    with pytest.raises(ValidationError):
        WebhookSource(name="x", scheme="woocommerce", secret=SecretStr(""))
    with pytest.raises(ValidationError):
        WebhookSource(name="_health", scheme="woocommerce", secret=SecretStr("s"))
    assert WC_SECRET not in repr(_sources())
