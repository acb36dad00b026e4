"""A running sandbox shop: store, webhooks, fault knobs and REST API served on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.webshop.api import Credentials, WebshopApi
from sandbox.webshop.faults import FaultKnobs, Faults
from sandbox.webshop.hooks import DEFAULT_TOPICS, WEBHOOK_KNOB_NAMES, WebhookDispatcher
from sandbox.webshop.serving import ServerThread, bind
from sandbox.webshop.store import ShopStore


def new_credentials() -> Credentials:
    """A key pair in WooCommerce's format: ``ck_`` / ``cs_`` and 40 hex digits."""
    return Credentials(f"ck_{secrets.token_hex(20)}", f"cs_{secrets.token_hex(20)}")


def make_webshop(
    site_url: str,
    *,
    seed: int = 1,
    credentials: Credentials | None = None,
    knobs: Mapping[str, Any] | None = None,
    webhooks: tuple[tuple[str, str], ...] = (),
    topics: tuple[str, ...] = DEFAULT_TOPICS,
) -> WebshopApi:
    """The shop's application; ``webhooks`` are ``(delivery_url, secret)`` subscriptions and
    ``knobs`` any fault or webhook knobs of ``/_control``."""
    faults = Faults(FaultKnobs(seed=seed))
    dispatcher = WebhookDispatcher(site_url, seed=seed)
    api = WebshopApi(
        ShopStore(seed, site_url), credentials or new_credentials(), faults, dispatcher
    )
    for url, secret in webhooks:
        dispatcher.subscribe(url, secret, topics)
    if knobs:
        dispatcher.update({k: v for k, v in knobs.items() if k in WEBHOOK_KNOB_NAMES})
        faults.update({k: v for k, v in knobs.items() if k not in WEBHOOK_KNOB_NAMES})
    return api


@dataclass
class WebshopHandle:
    """A shop served in a background thread; ``stop()`` ends it (and its webhook worker)."""

    api: WebshopApi
    server: ServerThread
    url: str

    @property
    def consumer_key(self) -> str:
        return self.api.credentials.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self.api.credentials.consumer_secret

    @property
    def api_url(self) -> str:
        return f"{self.url}/wp-json/wc/v3"

    def control(self, **changes: Any) -> None:
        """Sets knobs at run time, like ``POST /_control``."""
        self.api.dispatcher.update({k: v for k, v in changes.items() if k in WEBHOOK_KNOB_NAMES})
        self.api.faults.update({k: v for k, v in changes.items() if k not in WEBHOOK_KNOB_NAMES})

    def subscribe(self, url: str, secret: str, topics: tuple[str, ...] = DEFAULT_TOPICS) -> int:
        return self.api.dispatcher.subscribe(url, secret, topics)

    def submit_service_request(self, **fields: Any) -> dict[str, Any]:
        """Fills in the shop's service request form (``service.py``); the entry it stored."""
        return self.api.service.submit(fields)

    def drain_webhooks(self, timeout: float = 10.0) -> bool:
        """Waits until every webhook queued so far has been delivered (or given up)."""
        return self.api.dispatcher.drain(timeout)

    def stop(self) -> None:
        self.server.stop()
        self.api.dispatcher.close()


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    seed: int = 1,
    credentials: Credentials | None = None,
    knobs: Mapping[str, Any] | None = None,
    webhooks: tuple[tuple[str, str], ...] = (),
) -> WebshopHandle:
    """Starts a sandbox shop on ``host:port`` (0 = a free port) in a daemon thread."""
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}"
    api = make_webshop(url, seed=seed, credentials=credentials, knobs=knobs, webhooks=webhooks)
    server = ServerThread(api.asgi, sock, name="sandbox-webshop")
    server.start()
    return WebshopHandle(api, server, url)
