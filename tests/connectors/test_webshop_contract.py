"""The connector contract for the web shop, against a real sandbox WooCommerce API.

Run twice: with HTTP Basic authentication and with the key pair in the query string (whose
secret httpx would print in its request log lines unless the transport redacts it).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from connectors.base import Connector
from connectors.webshop import WebshopConnector
from sandbox.webshop.peer import WebshopHandle, start_in_thread
from tests.connectors.contract import ConnectorContract, ConnectorPeer, closed_port
from tests.connectors.webshop_support import connect


@pytest.fixture(scope="module")
def shop() -> Iterator[WebshopHandle]:
    handle = start_in_thread(seed=3)
    yield handle
    handle.stop()


class ShopPeer:
    """Changes orders in the sandbox shop's own store (not through the connector)."""

    def __init__(self, shop: WebshopHandle) -> None:
        self.shop = shop
        self.store = shop.api.store
        seeded = sorted(self.store.data.orders)
        self._touch = itertools.cycle(seeded)
        open_orders = [o for o in seeded if self.store.data.orders[o]["status"] == "processing"]
        self._open = iter(open_orders)

    def add_records(self, n: int) -> set[str]:
        changed = set()
        for _ in range(n):
            order_id = next(self._touch)
            self.store.update_order(order_id, {"customer_note": f"change {uuid.uuid4().hex[:8]}"})
            changed.add(str(order_id))
        return changed

    def sample(self) -> Mapping[str, Any]:
        order_id = next(self._open)
        number = f"00340434{uuid.uuid4().int % 10**12:012d}"
        return {
            "id": order_id,
            "status": "completed",
            "tracking": {"carrier": "DHL", "number": number},
        }

    def bad(self) -> Mapping[str, Any]:
        return {"id": next(self._open), "status": "shipped-to-the-moon"}

    def count(self, record: Mapping[str, Any]) -> int:
        """Customer notes of the order naming the tracking number (one per shipment)."""
        number = record["tracking"]["number"]
        notes = self.store.list_notes(int(record["id"]), "customer")
        return sum(number in note["note"] for note in notes)

    def corrupt(self) -> str:
        order_id = self.store.store_raw_order({"line_items": "garbled by a plugin"})
        return f"orders/{order_id}"


class WebshopContract(ConnectorContract):
    auth = "basic"

    @pytest.fixture
    def peer(self, shop: WebshopHandle) -> Iterator[ConnectorPeer]:
        connector = connect(shop, auth=self.auth, per_page=40)
        peer = ShopPeer(shop)
        yield ConnectorPeer(
            connector=connector,
            stream="orders",
            add_records=peer.add_records,
            write_stream="orders",
            sample=peer.sample,
            count=peer.count,
            bad=peer.bad,
            corrupt=peer.corrupt,
            secret=shop.consumer_secret,
        )
        connector.close()

    @pytest.fixture
    def dead(self, shop: WebshopHandle) -> Iterator[Connector]:
        url = f"http://127.0.0.1:{closed_port()}/wp-json/wc/v3"
        connector: WebshopConnector = connect(shop, url=url, auth=self.auth)
        yield connector
        connector.close()


class TestWebshopContractBasicAuth(WebshopContract):
    auth = "basic"


class TestWebshopContractQueryAuth(WebshopContract):
    auth = "query"
