"""Webhook signature schemes: how each sender signs a delivery and names what it is about.

A scheme is a small named piece with three things: the header that carries the signature,
``verify`` (constant-time check of an HMAC over the *raw* body) and ``describe`` (the topic,
resource, event and ids a sender puts in its headers). Both schemes here sign the same way —
base64 of HMAC-SHA256 over the exact request bytes — and differ in their header names:

- WooCommerce (``WC_Webhook::deliver``): ``X-WC-Webhook-Signature``, plus ``-Source`` (the
  shop's home URL), ``-Topic`` (``order.created``), ``-Resource`` (``order``), ``-Event``
  (``created``), ``-ID`` (the webhook's id) and ``-Delivery-ID``. WooCommerce derives the
  delivery id from the webhook id and the current *second*, so two deliveries of one webhook in
  the same second share it: it identifies a request for logs, not an event for deduplication.
- Shopify: ``X-Shopify-Hmac-Sha256``, plus ``X-Shopify-Topic`` (``orders/create``),
  ``X-Shopify-Webhook-Id`` (one delivery; kept across Shopify's retries),
  ``X-Shopify-Event-Id`` (one event; shared by several subscriptions) and
  ``X-Shopify-Shop-Domain``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DeliveryMeta:
    """What a delivery's headers say about it. Every field is optional: senders vary."""

    topic: str | None
    resource: str | None
    event: str | None
    webhook_id: str | None
    delivery_id: str | None


class SignatureScheme(Protocol):
    """One sender's signing convention."""

    @property
    def name(self) -> str:
        """Short name used in configuration, e.g. ``"woocommerce"``."""
        ...

    @property
    def signature_header(self) -> str:
        """The header carrying the signature (compare names case-insensitively)."""
        ...

    @property
    def header_prefix(self) -> str:
        """Lower-case prefix of this sender's own headers, e.g. ``"x-wc-webhook-"``."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        """True only if the signature header is present and matches ``body`` under ``secret``."""
        ...

    def describe(self, headers: Mapping[str, str]) -> DeliveryMeta:
        """Topic, resource, event and ids from the headers (never the signature)."""
        ...


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up by name, case-insensitively, whatever mapping ``headers`` is."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def hmac_sha256_base64(body: bytes, secret: str) -> str:
    """base64(HMAC-SHA256(secret, body)): the signature both WooCommerce and Shopify send."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify_base64_hmac(body: bytes, presented: str | None, secret: str) -> bool:
    if not presented or not secret:
        return False
    try:
        presented_digest = base64.b64decode(presented.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    # Both sides are raw 32-byte digests; compare_digest does not leak where they differ.
    return hmac.compare_digest(presented_digest, expected)


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True)
class WooCommerceScheme:
    """WooCommerce webhooks (``WC_Webhook``), REST API v1-v3 payloads."""

    name: str = "woocommerce"
    signature_header: str = "X-WC-Webhook-Signature"
    header_prefix: str = "x-wc-webhook-"

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        return _verify_base64_hmac(body, header(headers, self.signature_header), secret)

    def describe(self, headers: Mapping[str, str]) -> DeliveryMeta:
        topic = _blank_to_none(header(headers, "X-WC-Webhook-Topic"))
        resource = _blank_to_none(header(headers, "X-WC-Webhook-Resource"))
        event = _blank_to_none(header(headers, "X-WC-Webhook-Event"))
        if topic and "." in topic and (resource is None or event is None):
            # The topic is "<resource>.<event>"; fill in what a trimmed proxy may have dropped.
            head, _, tail = topic.partition(".")
            resource = resource or head or None
            event = event or tail or None
        return DeliveryMeta(
            topic=topic,
            resource=resource,
            event=event,
            webhook_id=_blank_to_none(header(headers, "X-WC-Webhook-ID")),
            delivery_id=_blank_to_none(header(headers, "X-WC-Webhook-Delivery-ID")),
        )


@dataclass(frozen=True)
class ShopifyScheme:
    """Shopify webhooks over HTTPS (``X-Shopify-Hmac-Sha256``)."""

    name: str = "shopify"
    signature_header: str = "X-Shopify-Hmac-Sha256"
    header_prefix: str = "x-shopify-"

    def verify(self, body: bytes, headers: Mapping[str, str], secret: str) -> bool:
        return _verify_base64_hmac(body, header(headers, self.signature_header), secret)

    def describe(self, headers: Mapping[str, str]) -> DeliveryMeta:
        topic = _blank_to_none(header(headers, "X-Shopify-Topic"))
        resource: str | None = None
        event: str | None = None
        if topic and "/" in topic:
            # "orders/create" -> resource "orders", event "create"; sub-topics keep their tail.
            head, _, tail = topic.partition("/")
            resource, event = head or None, tail or None
        return DeliveryMeta(
            topic=topic,
            resource=resource,
            event=event,
            # Shopify sends no subscription id; the shop domain says who sent it.
            webhook_id=None,
            delivery_id=_blank_to_none(header(headers, "X-Shopify-Webhook-Id")),
        )


SCHEMES: Mapping[str, SignatureScheme] = {
    scheme.name: scheme for scheme in (WooCommerceScheme(), ShopifyScheme())
}


def get_scheme(name: str) -> SignatureScheme:
    """The scheme called ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return SCHEMES[name]
    except KeyError:
        known = ", ".join(sorted(SCHEMES))
        raise KeyError(f"unknown webhook signature scheme {name!r} (known: {known})") from None
