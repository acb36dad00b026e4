"""Webhook receiver transport: authenticate signed deliveries and hand them to an inbox.

``create_webhook_app`` builds a mountable ASGI app; ``WebhookSource`` configures a sender;
the inbox (``InboxSink``) stores each ``WebhookDelivery`` before the sender gets its answer.
"""

from connectors.webhooks.app import InboxSink, create_webhook_app
from connectors.webhooks.models import IntakeResult, WebhookDelivery, WebhookSource
from connectors.webhooks.signatures import (
    SCHEMES,
    DeliveryMeta,
    ShopifyScheme,
    SignatureScheme,
    WooCommerceScheme,
    get_scheme,
    hmac_sha256_base64,
)

__all__ = [
    "SCHEMES",
    "DeliveryMeta",
    "InboxSink",
    "IntakeResult",
    "ShopifyScheme",
    "SignatureScheme",
    "WebhookDelivery",
    "WebhookSource",
    "WooCommerceScheme",
    "create_webhook_app",
    "get_scheme",
    "hmac_sha256_base64",
]
