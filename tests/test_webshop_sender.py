"""The sandbox web shop: deterministic WooCommerce orders and webhooks signed like WooCommerce.

The sender is checked against a tiny standard-library HTTP server and an independent HMAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sandbox.webshop import (
    SITE_TIMEZONE,
    WebhookDisabledError,
    WebhookSender,
    complete_order,
    make_order,
    wp_json_encode,
)
from sandbox.webshop.sender import main

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
SECRET = "s3cr3t-w1th-ünïcode"
MONEY = re.compile(r"^-?\d+\.\d{2}$")
WC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # no offset, like WooCommerce


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200


@pytest.fixture
def shop_peer() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorder.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = recorder.statuses.pop(0) if recorder.statuses else 200
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", recorder
    finally:
        server.shutdown()
        server.server_close()


def independent_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _sum(items: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(item[key]) for item in items), Decimal(0))


def assert_totals_add_up(order: dict[str, Any]) -> None:
    lines, fees = order["line_items"], order["fee_lines"]
    total_tax = Decimal(order["cart_tax"]) + Decimal(order["shipping_tax"])
    assert Decimal(order["total_tax"]) == total_tax
    assert Decimal(order["total"]) == (
        _sum(lines, "total") + _sum(fees, "total") + Decimal(order["shipping_total"]) + total_tax
    )
    assert Decimal(order["cart_tax"]) == _sum(lines, "total_tax") + _sum(fees, "total_tax")
    assert Decimal(order["discount_total"]) == _sum(lines, "subtotal") - _sum(lines, "total")
    assert Decimal(order["shipping_total"]) == _sum(order["shipping_lines"], "total")
    assert Decimal(order["tax_lines"][0]["tax_total"]) == Decimal(order["cart_tax"])
    for key in ("total", "total_tax", "cart_tax", "shipping_total", "discount_total"):
        assert MONEY.match(order[key]), (key, order[key])
    for line in lines:
        assert Decimal(str(line["price"])) * line["quantity"] == pytest.approx(
            Decimal(line["total"])
        )


def test_generator_is_deterministic_and_seed_dependent() -> None:
    assert make_order(7, 1001) == make_order(7, 1001)
    assert make_order(7, 1001) != make_order(8, 1001)
    assert make_order(7, 1001)["id"] == 1001


def test_totals_add_up_like_woocommerce() -> None:
    for order_id in range(1000, 1300):
        assert_totals_add_up(make_order(3, order_id))


def test_orders_have_the_real_rest_v3_shape() -> None:
    orders = [make_order(11, order_id) for order_id in range(5000, 5200)]
    required = {
        "id", "parent_id", "status", "currency", "version", "prices_include_tax",
        "date_created", "date_created_gmt", "date_modified", "date_modified_gmt",
        "discount_total", "shipping_total", "total", "total_tax", "customer_id", "order_key",
        "billing", "shipping", "payment_method", "payment_method_title", "transaction_id",
        "customer_note", "date_paid", "date_paid_gmt", "number", "meta_data", "line_items",
        "tax_lines", "shipping_lines", "fee_lines", "coupon_lines", "refunds",
    }  # fmt: skip
    billing_keys = {
        "first_name", "last_name", "company", "address_1", "address_2", "city", "state",
        "postcode", "country", "email", "phone",
    }  # fmt: skip
    item_keys = {
        "id", "name", "product_id", "variation_id", "quantity", "tax_class", "subtotal",
        "subtotal_tax", "total", "total_tax", "taxes", "meta_data", "sku", "price",
    }  # fmt: skip
    for order in orders:
        assert required <= order.keys()
        assert set(order["billing"]) == billing_keys
        assert "email" not in order["shipping"]
        assert re.fullmatch(r"[A-Z]{2}", order["billing"]["country"])
        assert order["order_key"].startswith("wc_order_")
        assert 1 <= len(order["line_items"]) <= 5
        for item in order["line_items"]:
            assert item_keys <= item.keys()
            assert item["sku"] and isinstance(item["quantity"], int)
        created_gmt = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
        local = created_gmt.astimezone(SITE_TIMEZONE).replace(tzinfo=None)
        assert WC_DATE.match(order["date_created"]) and WC_DATE.match(order["date_created_gmt"])
        assert order["date_created"] == local.isoformat()
    assert {o["customer_id"] == 0 for o in orders} == {True, False}  # guests and registered
    assert {o["currency"] for o in orders} == {"EUR", "USD"}
    assert {o["billing"]["country"] for o in orders} >= {"DE", "US", "FR", "NL", "IT"}
    assert {o["billing"]["state"] for o in orders if o["billing"]["country"] == "US"} <= {
        "CA", "NY", "TX", "WA",
    }  # fmt: skip
    by_customer: dict[int, dict[str, Any]] = {}
    for order in orders:
        if order["customer_id"]:
            billing = by_customer.setdefault(order["customer_id"], order["billing"])
            assert billing == order["billing"]  # a registered customer stays the same person


def test_complete_order_moves_status_and_dates() -> None:
    order = make_order(1, 1003)
    done = complete_order(order)
    assert done["status"] == "completed"
    assert done["date_completed_gmt"] > order["date_created_gmt"]
    assert done["date_modified_gmt"] == done["date_completed_gmt"]
    assert order["status"] != "completed"  # the original is untouched
    assert_totals_add_up(done)


def test_fixture_files_are_what_they_claim() -> None:
    guest = json.loads((FIXTURES / "order_guest.json").read_bytes())
    registered = json.loads((FIXTURES / "order_registered.json").read_bytes())
    multi = json.loads((FIXTURES / "order_multi_line_eu.json").read_bytes())
    for order in (guest, registered, multi):
        assert_totals_add_up(order)
    assert guest["customer_id"] == 0
    assert registered["customer_id"] > 0
    assert len(multi["line_items"]) >= 4 and multi["currency"] == "EUR"
    with pytest.raises(json.JSONDecodeError):
        json.loads((FIXTURES / "order_malformed.json").read_bytes())
    bad = json.loads((FIXTURES / "order_bad_fields.json").read_bytes())
    assert bad["line_items"][1]["quantity"] == "abc"
    assert "email" not in bad["billing"]


def test_wp_json_encode_matches_php_escaping() -> None:
    body = wp_json_encode({"url": "http://shop.example/a", "city": "München", "n": 1.5})
    assert body == b'{"url":"http:\\/\\/shop.example\\/a","city":"M\\u00fcnchen","n":1.5}'
    assert json.loads(body) == {"url": "http://shop.example/a", "city": "München", "n": 1.5}


def test_sender_signs_and_labels_like_woocommerce(shop_peer: tuple[str, Recorder]) -> None:
    url, recorder = shop_peer
    order = make_order(2, 1042)
    with WebhookSender(url, SECRET, "http://shop.example", webhook_id=9) as sender:
        assert sender.send("order.created", order) == [200]

    [request] = recorder.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert request.body == wp_json_encode(order)
    assert json.loads(request.body) == order
    assert headers["x-wc-webhook-signature"] == independent_signature(request.body, SECRET)
    assert headers["x-wc-webhook-source"] == "http://shop.example/"
    assert headers["x-wc-webhook-topic"] == "order.created"
    assert headers["x-wc-webhook-resource"] == "order"
    assert headers["x-wc-webhook-event"] == "created"
    assert headers["x-wc-webhook-id"] == "9"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["x-wc-webhook-delivery-id"])
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"WooCommerce/9\.\d+\.\d+ Hookshot \(WordPress/6\.\d+(\.\d+)?\)",
                        headers["user-agent"])  # fmt: skip


def test_bytes_are_sent_verbatim_and_duplicates_share_a_delivery_id(
    shop_peer: tuple[str, Recorder],
) -> None:
    url, recorder = shop_peer
    broken = (FIXTURES / "order_malformed.json").read_bytes()
    with WebhookSender(url, SECRET) as sender:
        assert sender.send("order.updated", broken, duplicate=3) == [200, 200, 200]

    assert [r.body for r in recorder.requests] == [broken] * 3
    ids = {r.headers["X-WC-Webhook-Delivery-ID"] for r in recorder.requests}
    assert len(ids) == 1
    for request in recorder.requests:
        assert request.headers["X-WC-Webhook-Signature"] == independent_signature(broken, SECRET)


def test_delivery_ids_repeat_within_one_second_like_woocommerce() -> None:
    now = [1_700_000_000.2]
    sender = WebhookSender("http://127.0.0.1:9/", SECRET, clock=lambda: now[0])
    first = sender.new_delivery_id()
    now[0] += 0.5
    assert sender.new_delivery_id() == first
    now[0] += 1
    assert sender.new_delivery_id() != first
    sender.close()


def test_retries_failed_answers_then_succeeds(shop_peer: tuple[str, Recorder]) -> None:
    url, recorder = shop_peer
    recorder.statuses = [500, 503]
    with WebhookSender(url, SECRET, retries=3, backoff_seconds=0) as sender:
        assert sender.send("order.created", {"id": 1}) == [200]
    assert len(recorder.requests) == 3
    assert len({r.headers["X-WC-Webhook-Delivery-ID"] for r in recorder.requests}) == 1


def test_without_retries_one_failure_is_final_and_redirects_count_as_success(
    shop_peer: tuple[str, Recorder],
) -> None:
    url, recorder = shop_peer
    recorder.statuses = [500, 302]
    with WebhookSender(url, SECRET, retries=0) as sender:
        assert sender.send("order.created", {"id": 1}) == [500]
        assert sender.failure_count == 1
        assert sender.send("order.created", {"id": 1}) == [302]  # not followed, but a success
        assert sender.failure_count == 0
    assert [r.path for r in recorder.requests] == ["/hook", "/hook"]


def test_webhook_is_disabled_after_more_than_five_failures(
    shop_peer: tuple[str, Recorder],
) -> None:
    url, recorder = shop_peer
    recorder.statuses = [500] * 6
    with WebhookSender(url, SECRET, retries=0) as sender:
        for _ in range(6):
            sender.send("order.created", {"id": 1})
        assert sender.disabled
        with pytest.raises(WebhookDisabledError):
            sender.send("order.created", {"id": 1})


def test_connection_refused_is_retried_then_reported_as_no_response() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{port}/hook"
    with WebhookSender(url, SECRET, retries=2, backoff_seconds=0.5, sleep=sleeps.append) as sender:
        assert sender.send("order.created", {"id": 1}) == [0]
    assert sleeps == [0.5, 1.0]


def test_ping_is_an_unsigned_form_post(shop_peer: tuple[str, Recorder]) -> None:
    url, recorder = shop_peer
    with WebhookSender(url, SECRET, webhook_id=12) as sender:
        assert sender.ping() == 200

    [request] = recorder.requests
    assert request.body == b"webhook_id=12"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not [name for name in request.headers if name.lower().startswith("x-wc-")]


def test_cli_sends_generated_orders_with_duplicates(
    shop_peer: tuple[str, Recorder], capsys: pytest.CaptureFixture[str]
) -> None:
    url, recorder = shop_peer
    argv = ["--url", url, "--secret", SECRET, "--orders", "3", "--seed", "4", "--duplicates", "2"]

    assert main([*argv, "--first-id", "300", "--ping"]) == 0

    assert recorder.requests[0].body == b"webhook_id=1"
    bodies = [json.loads(r.body) for r in recorder.requests[1:]]
    assert [b["id"] for b in bodies] == [300, 300, 301, 301, 302, 302]
    assert bodies[0] == make_order(4, 300)
    assert "200: 6" in capsys.readouterr().out
