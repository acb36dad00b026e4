"""Shared pieces of the web shop connector tests: a connector for a sandbox shop."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.transports.retry import RetryPolicy
from connectors.webshop import WebshopConnector, WebshopSettings
from sandbox.webshop.peer import WebshopHandle

FAST_RETRY = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0.0)


def connect(
    shop: WebshopHandle, *, url: str | None = None, secret: str | None = None, **options: Any
) -> WebshopConnector:
    """A connector for ``shop`` (or ``url`` with its key pair), retrying quickly."""
    settings = WebshopSettings(
        base_url=url or shop.api_url,
        consumer_key=SecretStr(shop.consumer_key),
        consumer_secret=SecretStr(secret or shop.consumer_secret),
        **({"retry": FAST_RETRY, "connect_timeout": 2.0, "read_timeout": 10.0} | options),
    )
    return WebshopConnector(settings)
