"""Web shop reads beyond the contract: ties in one second, records moving while paging,
customers and stock, and the shop's faults (against a real sandbox shop)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from canonical.errors import PermanentError, TransientError
from connectors.transports.http import HttpStatusError
from connectors.transports.retry import RetryPolicy
from connectors.webshop import WebshopConnector
from sandbox.webshop.peer import WebshopHandle, start_in_thread
from tests.connectors.contract import chain, drain
from tests.connectors.webshop_support import connect


@pytest.fixture
def shop() -> Iterator[WebshopHandle]:
    handle = start_in_thread(seed=5)
    yield handle
    handle.stop()


@pytest.fixture
def connector(shop: WebshopHandle) -> Iterator[WebshopConnector]:
    c = connect(shop, per_page=5)
    yield c
    c.close()


def stamp_with(shop: WebshopHandle, moment: datetime) -> None:
    shop.api.store.set_clock(lambda: moment)


def test_more_changes_in_one_second_than_a_page_holds_come_once(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    _, cursor = drain(connector, "orders", None)
    stamp_with(shop, datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5))
    changed = {str(i) for i in range(1010, 1022)}  # 12 orders, per_page 5, one second
    for order_id in sorted(changed):
        shop.api.store.update_order(int(order_id), {"customer_note": "same second"})
    keys, cursor = drain(connector, "orders", cursor)
    assert sorted(keys) == sorted(changed)
    assert drain(connector, "orders", cursor)[0] == []
    # changed again within that same second: its content differs, so it comes again
    shop.api.store.update_order(1015, {"customer_note": "same second, second change"})
    again, cursor = drain(connector, "orders", cursor)
    assert again == ["1015"]
    assert drain(connector, "orders", cursor)[0] == []


def test_a_record_that_changes_while_paging_does_not_push_another_out(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    _, cursor = drain(connector, "orders", None)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    changed = [str(i) for i in range(1001, 1016)]  # 15 orders, one second apart, 3 pages
    for n, order_id in enumerate(changed):
        stamp_with(shop, base + timedelta(seconds=n))
        shop.api.store.update_order(int(order_id), {"customer_note": f"step {n}"})
    pages = connector.read("orders", cursor)
    first = [r.key for r in next(pages).records]
    assert first == changed[: len(first)] and "1003" in first
    # an order of the first page changes: it moves to the end of "oldest change first", and
    # everything behind it moves up one place, so "page 2" now starts one order later
    stamp_with(shop, base + timedelta(minutes=1))
    shop.api.store.update_order(1003, {"customer_note": "changed while paging"})
    rest = [r.key for page in pages for r in page.records]
    assert rest == [*changed[len(first) :], "1003"], rest


def test_customers_changed_after_the_cursor_and_only_they(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    first, cursor = drain(connector, "customers", None)
    assert len(first) == len(set(first)) == 399
    assert drain(connector, "customers", cursor)[0] == []
    shop.api.store.update_customer(17, {"first_name": "Renamed"})
    created = shop.api.store.create_customer({"email": "new.buyer@example.org"})
    keys, cursor = drain(connector, "customers", cursor)
    assert sorted(keys) == sorted(["17", str(created["id"])])
    assert drain(connector, "customers", cursor)[0] == []


def test_stock_reads_products_and_variations_by_sku(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    pages = list(connector.read("stock", None))
    records = {r.key: r for p in pages for r in p.records}
    variations = {k: r for k, r in records.items() if r.data["type"] == "variation"}
    assert variations, "the variable product's variations were not read"
    cursor = pages[-1].cursor
    sku, variation = next(iter(variations.items()))
    shop.api.store.update_product(
        variation.data["id"], {"stock_quantity": 3}, variation.data["parent_id"]
    )
    keys, cursor = drain(connector, "stock", cursor)
    assert keys == [sku]
    assert drain(connector, "stock", cursor)[0] == []


def test_a_busy_shop_is_retried_after_its_retry_after(shop: WebshopHandle) -> None:
    policy = RetryPolicy(attempts=2, initial_wait=0.0, max_wait=0.0, jitter=0.0)
    connector = connect(shop, retry=policy)
    shop.control(fail_next=1, error_status=429, retry_after=1)
    started = time.monotonic()
    keys, _ = drain(connector, "orders", None)
    assert len(keys) == 200
    assert time.monotonic() - started >= 0.95, "Retry-After was not honoured"
    connector.close()


def test_a_shop_that_keeps_failing_is_a_transient_error_naming_the_request(
    shop: WebshopHandle, connector: WebshopConnector
) -> None:
    shop.control(error_rate=1.0, error_status=503)
    with pytest.raises(TransientError) as caught:
        list(connector.read("orders", None))
    assert "GET /orders" in str(caught.value) and "HTTP 503" in str(caught.value)
    shop.control(error_rate=0.0, malformed_rate=1.0)
    with pytest.raises(TransientError, match="not valid JSON") as broken:
        list(connector.read("customers", None))
    assert isinstance(broken.value.__cause__, ValueError)


def test_a_wrong_secret_is_permanent_and_never_shown(shop: WebshopHandle) -> None:
    wrong = "cs_" + "0" * 40
    connector = connect(shop, secret=wrong)
    with pytest.raises(HttpStatusError) as caught:
        list(connector.read("orders", None))
    assert caught.value.status == 401
    assert "woocommerce_rest_authentication_error" in str(caught.value)
    assert all(wrong not in str(e) for e in chain(caught.value))
    health = connector.health()
    assert not health.ok and not health.transient
    connector.close()


def test_a_cursor_from_elsewhere_is_refused_before_any_request(
    connector: WebshopConnector,
) -> None:
    for stream in ("orders", "customers", "stock"):
        with pytest.raises(PermanentError, match="cursor"):
            list(connector.read(stream, "2025-03-10T00:00:00"))


@pytest.mark.parametrize(
    ("knobs", "error"),
    [
        ({"timeout": 1.0, "timeout_seconds": 2.0}, httpx.ReadTimeout),
        ({"drop_connection": 1.0}, httpx.RemoteProtocolError),
    ],
)
def test_a_hanging_or_dropped_answer_is_transient_with_the_library_error_chained(
    shop: WebshopHandle, knobs: dict[str, float], error: type[Exception]
) -> None:
    connector = connect(shop, read_timeout=0.3)
    shop.control(**knobs)
    with pytest.raises(TransientError) as caught:
        list(connector.read("orders", None))
    assert isinstance(caught.value.__cause__, error), repr(caught.value.__cause__)
    connector.close()
