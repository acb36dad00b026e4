"""The sandbox web shop's WooCommerce REST v3 API, webhooks and fault knobs, over loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.webshop.peer import WebshopHandle, make_webshop
from tests.sandbox.conftest_peers import (  # noqa: F401 (fixtures)
    HookReceiver,
    hook_receiver_fixture,
    webshop_fixture,
)
from tests.services import need_program

HOOK_SECRET = "hook-s3cret-ü"


def _client(shop: WebshopHandle) -> httpx.Client:
    return httpx.Client(
        base_url=shop.api_url, auth=(shop.consumer_key, shop.consumer_secret), timeout=10
    )


def _curl(*args: str) -> tuple[int, dict[str, str], Any]:
    need_program("curl", "apt-get install -y curl")
    out = subprocess.run(
        ["curl", "-sS", "-D", "-", *args], capture_output=True, check=True, timeout=20
    ).stdout.decode("utf-8")
    head, _, body = out.partition("\r\n\r\n")
    status = int(head.split()[1])
    headers = {
        k.strip().lower(): v.strip()
        for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:])
    }
    return status, headers, json.loads(body)


def _all_orders(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    url: str | None = "/orders"
    query: dict[str, Any] | None = {"per_page": 30, **params}
    while url:
        response = client.get(url, params=query)
        response.raise_for_status()
        orders += response.json()
        url = response.links.get("next", {}).get("url")
        query = None
    return orders


def test_curl_lists_orders_with_the_consumer_key_as_basic_auth_or_query(
    webshop: WebshopHandle,
) -> None:
    url = f"{webshop.api_url}/orders"
    key, secret = webshop.consumer_key, webshop.consumer_secret
    status, headers, orders = _curl("-u", f"{key}:{secret}", f"{url}?per_page=5")
    assert status == 200
    assert headers["x-wp-total"] == "200"
    assert headers["x-wp-totalpages"] == "40"
    assert [o["id"] for o in orders] == [1200, 1199, 1198, 1197, 1196]  # newest first
    status, headers, orders = _curl(f"{url}?consumer_key={key}&consumer_secret={secret}")
    assert (status, headers["x-wp-total"], len(orders)) == (200, "200", 10)


def test_wrong_credentials_get_woocommerce_401_errors(webshop: WebshopHandle) -> None:
    url = f"{webshop.api_url}/orders"
    status, _, body = _curl("-u", f"{webshop.consumer_key}:cs_wrong", url)
    assert status == 401
    assert body == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }
    for args in (("-u", f"ck_unknown:{webshop.consumer_secret}", url), (url,)):
        status, _, body = _curl(*args)
        assert (status, body["code"]) == (401, "woocommerce_rest_cannot_view")


def test_modified_after_returns_only_orders_changed_later(webshop: WebshopHandle) -> None:
    with _client(webshop) as client:
        newest = max(o["date_modified_gmt"] for o in _all_orders(client))
        assert _all_orders(client, modified_after=newest, dates_are_gmt="true") == []
        client.put("/orders/1042", json={"status": "completed"}).raise_for_status()
        changed = _all_orders(client, modified_after=newest, dates_are_gmt="true")
        assert [o["id"] for o in changed] == [1042]
        with_offset = _all_orders(client, modified_after=f"{newest}Z")
        assert [o["id"] for o in with_offset] == [1042]


def test_pages_follow_link_headers_and_cover_every_order_exactly_once(
    webshop: WebshopHandle,
) -> None:
    with _client(webshop) as client:
        first = client.get("/orders", params={"per_page": 30})
        assert first.headers["X-WP-TotalPages"] == "7"
        orders = _all_orders(client)
        too_many = client.get("/orders", params={"per_page": 101})
    ids = [o["id"] for o in orders]
    assert len(ids) == 200
    assert set(ids) == set(range(1001, 1201))
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "rest_invalid_param"


def _verified(receiver: HookReceiver) -> list[dict[str, Any]]:
    """Payloads whose signature checks out with an HMAC computed here, independently."""
    payloads = []
    for delivery in receiver.deliveries:
        expected = base64.b64encode(
            hmac.new(HOOK_SECRET.encode(), delivery.body, hashlib.sha256).digest()
        ).decode()
        assert delivery.headers["X-WC-Webhook-Signature"] == expected
        payloads.append(
            {"topic": delivery.headers["X-WC-Webhook-Topic"], **json.loads(delivery.body)}
        )
    return payloads


def test_status_update_bumps_date_modified_and_fires_a_signed_order_updated(
    webshop: WebshopHandle, hook_receiver: HookReceiver
) -> None:
    webshop.subscribe(hook_receiver.url, HOOK_SECRET)
    tracking = [{"tracking_provider": "DHL", "tracking_number": "00340434161094042557"}]
    with _client(webshop) as client:
        before = client.get("/orders/1199").json()
        assert before["status"] == "processing"
        updated = client.put(
            "/orders/1199",
            json={
                "status": "completed",
                "meta_data": [{"key": "_wc_shipment_tracking_items", "value": tracking}],
            },
        ).json()
        notes = client.get("/orders/1199/notes").json()
    assert updated["date_modified_gmt"] > before["date_modified_gmt"]
    assert updated["date_completed_gmt"] is not None
    assert notes[0]["note"] == "Order status changed from Processing to Completed."
    assert webshop.drain_webhooks()
    [payload] = _verified(hook_receiver)
    assert payload["topic"] == "order.updated"
    assert (payload["id"], payload["status"]) == (1199, "completed")
    assert {"key": "_wc_shipment_tracking_items", "value": tracking} in [
        {"key": m["key"], "value": m["value"]} for m in payload["meta_data"]
    ]


def test_duplicate_knob_delivers_each_customer_webhook_n_times(
    webshop: WebshopHandle, hook_receiver: HookReceiver
) -> None:
    webshop.subscribe(hook_receiver.url, HOOK_SECRET)
    httpx.post(f"{webshop.url}/_control", json={"duplicate_webhooks": 3}).raise_for_status()
    with _client(webshop) as client:
        created = client.post("/customers", json={"email": "ops@example.com", "first_name": "Ida"})
        assert created.status_code == 201
        client.put(f"/customers/{created.json()['id']}", json={"last_name": "Lind"})
    assert webshop.drain_webhooks()
    topics = [p["topic"] for p in _verified(hook_receiver)]
    assert topics == ["customer.created"] * 3 + ["customer.updated"] * 3
    delivery_ids = {d.headers["X-WC-Webhook-Delivery-ID"] for d in hook_receiver.deliveries[:3]}
    assert len(delivery_ids) == 1  # the same delivery, three times


def test_paid_order_reduces_stock_and_empty_stock_is_out_of_stock(webshop: WebshopHandle) -> None:
    with _client(webshop) as client:
        stock = client.get("/products/102").json()["stock_quantity"]
        order = client.post(
            "/orders",
            json={
                "set_paid": True,
                "billing": {"first_name": "Kai", "country": "DE", "state": "DE-BE"},
                "line_items": [{"product_id": 102, "quantity": 2}],
            },
        )
        assert order.status_code == 201
        assert order.json()["total"] == "213.96"  # 2 x 89.90 + 19 % VAT, free shipping
        assert client.get("/products/102").json()["stock_quantity"] == stock - 2
        emptied = client.put("/products/102", json={"stock_quantity": 0}).json()
    assert emptied["stock_status"] == "outofstock"


def test_error_drop_and_malformed_knobs(webshop: WebshopHandle) -> None:
    with _client(webshop) as client:
        webshop.control(error_rate=1.0)
        assert client.get("/orders").status_code == 503
        webshop.control(error_rate=0.0, drop_connection=True)
        with pytest.raises(httpx.TransportError):
            client.get("/orders")
        webshop.control(drop_connection=False, malformed_rate=1.0)
        with pytest.raises(json.JSONDecodeError):
            json.loads(client.get("/orders").content)
        webshop.control(malformed_rate=0.0)
        assert client.get("/orders").status_code == 200
    counters = httpx.get(f"{webshop.url}/_control").json()["counters"]
    assert counters["faults.error"] == counters["faults.drop"] == counters["faults.malformed"] == 1


def test_same_seed_gives_the_same_shop() -> None:
    one, two = make_webshop("http://shop.test", seed=7), make_webshop("http://shop.test", seed=7)
    other = make_webshop("http://shop.test", seed=8)
    try:
        assert one.store.data == two.store.data
        assert one.store.data.orders != other.store.data.orders
        assert len(one.store.data.customers) >= 300
    finally:
        for shop in (one, two, other):
            shop.dispatcher.close()


def test_command_prints_the_key_and_keeps_the_secret_in_a_private_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "webshop.secret"
    env = {**os.environ, "SANDBOX_WEBSHOP_CONSUMER_SECRET": ""}
    args = [
        sys.executable,
        "-m",
        "sandbox.webshop",
        "--port",
        "0",
        "--secret-file",
        str(secret_file),
    ]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(
            r"ready on (http://\S+)/wp-json/wc/v3/ \(consumer key (ck_[0-9a-f]{40})", line
        )
        assert match, line
        secret = secret_file.read_text().strip()
        assert secret.startswith("cs_") and secret not in line
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        response = httpx.get(f"{match[1]}/wp-json/wc/v3/customers", auth=(match[2], secret))
        assert response.headers["X-WP-Total"] == "399"
    finally:
        process.terminate()
        process.wait(timeout=10)
