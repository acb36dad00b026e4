"""What the webhook receiver hands on, how a source is configured, and what the inbox answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from connectors.webhooks.signatures import SCHEMES

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class WebhookDelivery:
    """One authenticated delivery, exactly as received.

    ``body`` is the raw request body, byte for byte (the signature covers these bytes; it may
    not even be valid JSON — the flow decides and quarantines). ``headers`` holds only the
    sender's own non-secret headers (``x-wc-webhook-*`` / ``x-shopify-*``, lower-case names)
    without the signature. ``received_at`` is timezone-aware UTC.
    """

    source: str
    scheme: str
    topic: str | None
    resource: str | None
    event: str | None
    webhook_id: str | None
    delivery_id: str | None
    content_type: str
    body: bytes = field(repr=False)
    headers: dict[str, str]
    received_at: datetime

    def __post_init__(self) -> None:
        offset = self.received_at.utcoffset()
        if offset is None or offset.total_seconds() != 0:
            raise ValueError("WebhookDelivery.received_at must be timezone-aware UTC")


class WebhookSource(BaseModel):
    """One sender allowed to post to ``/webhooks/{name}``.

    ``secret`` is the shared webhook secret (WooCommerce: the webhook's "Secret" field;
    Shopify: the app's client secret). It is a ``SecretStr`` so it never shows in reprs or logs.
    ``allowed_topics``: when set, signed deliveries of other topics are acknowledged but not
    stored (answering an error would make WooCommerce disable the webhook after 5 failures).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    scheme: str
    secret: SecretStr
    allowed_topics: frozenset[str] | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _SOURCE_NAME.match(value):
            raise ValueError(
                "source name must be 1-64 characters of a-z, 0-9, '-' or '_', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("scheme")
    @classmethod
    def _check_scheme(cls, value: str) -> str:
        if value not in SCHEMES:
            raise ValueError(f"unknown scheme {value!r}; known: {', '.join(sorted(SCHEMES))}")
        return value

    @field_validator("secret")
    @classmethod
    def _check_secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("secret must not be empty")
        return value


class IntakeResult(Enum):
    """What the inbox did with a delivery."""

    STORED = "stored"
    DUPLICATE = "duplicate"
