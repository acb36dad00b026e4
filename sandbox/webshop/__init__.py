"""A stand-in WooCommerce shop: realistic order payloads and webhooks signed like WooCommerce.

Test and demo peer only; it uses none of Tandem's packages.
"""

from sandbox.webshop.orders import SITE_TIMEZONE, SITE_URL, complete_order, make_order
from sandbox.webshop.sender import WebhookDisabledError, WebhookSender, sign, wp_json_encode

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
