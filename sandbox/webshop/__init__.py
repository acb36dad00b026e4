"""A stand-in WooCommerce shop: realistic order payloads and webhooks signed like WooCommerce.

Test and demo peer only; it uses none of Tandem's packages. The sender is imported lazily so
that ``python -m sandbox.webshop.sender`` runs it as a fresh module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sandbox.webshop.orders import SITE_TIMEZONE, SITE_URL, complete_order, make_order

if TYPE_CHECKING:
    from sandbox.webshop.sender import WebhookDisabledError, WebhookSender, sign, wp_json_encode

_SENDER_NAMES = frozenset({"WebhookDisabledError", "WebhookSender", "sign", "wp_json_encode"})

__all__ = [
    "SITE_TIMEZONE",
    "SITE_URL",
    "WebhookDisabledError",
    "WebhookSender",
    "complete_order",
    "make_order",
    "sign",
    "wp_json_encode",
]


def __getattr__(name: str) -> Any:
    if name in _SENDER_NAMES:
        return getattr(importlib.import_module("sandbox.webshop.sender"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
