"""Fixtures for the web shop and CRM peers; test modules import them explicitly
(``from tests.sandbox.conftest_peers import webshop_fixture``) and ask for ``webshop``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.crm import CrmHandle
from sandbox.crm import start_in_thread as start_crm
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class HookReceiver:
    """A tiny webhook endpoint that answers 200 and keeps what it received."""

    url: str
    deliveries: list[Delivery] = field(default_factory=list)


@pytest.fixture(name="webshop")
def webshop_fixture() -> Iterator[WebshopHandle]:
    handle = start_webshop(seed=1)
    yield handle
    handle.stop()


@pytest.fixture(name="crm")
def crm_fixture() -> Iterator[CrmHandle]:
    handle = start_crm(seed=1)
    yield handle
    handle.stop()


@pytest.fixture(name="hook_receiver")
def hook_receiver_fixture() -> Iterator[HookReceiver]:
    lock = threading.Lock()
    receiver = HookReceiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                receiver.deliveries.append(Delivery(dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/webshop"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
