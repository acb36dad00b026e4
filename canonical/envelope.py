"""The message envelope: what travels through the hub around every canonical payload."""

from __future__ import annotations

import hashlib
import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from canonical.models import Entity
from canonical.types import CanonicalModel, NonEmptyStr, UtcDatetime


class Operation(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


def dedupe_key(origin: str, *parts: str) -> str:
    """A deterministic key for one inbound message: same input, same key, on any worker.

    Parts are joined unambiguously (length-prefixed) and hashed, so keys have a fixed size
    whatever the source's ids look like.
    """
    material = "\x1f".join(f"{len(p)}:{p}" for p in (origin, *parts))
    return f"{origin}:{hashlib.sha256(material.encode()).hexdigest()[:40]}"


class Envelope(CanonicalModel):
    """One business message.

    ``correlation_id`` names the business chain (the order number, the case number) so one
    order can be followed across every system; ``dedupe_key`` makes redelivery harmless.
    """

    message_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    dedupe_key: NonEmptyStr
    correlation_id: NonEmptyStr
    origin_system: NonEmptyStr
    entity: Entity
    operation: Operation = Operation.UPSERT
    occurred_at: UtcDatetime
    payload: dict[str, Any]
