"""The webhook receiver: a plain ASGI (Starlette) app that authenticates deliveries and hands
them, byte for byte, to an inbox before answering.

Routes are relative (``POST /webhooks/{source}``, ``GET /webhooks/_health``), so the app can
run on its own under uvicorn or be mounted into another Starlette/FastAPI app (e.g. an Airflow
API server plugin) with ``parent.mount("/integration", create_webhook_app(...))``.

Checks, in order, each with its own status:

1. unknown source -> 404
2. body larger than ``max_body_bytes`` -> 413 (Content-Length checked up front, and the bytes
   counted while streaming, so a missing or chunked length cannot get past it)
3. WooCommerce ping (``webhook_id=<digits>``, form-encoded, unsigned; sent when a webhook is
   created and must get exactly 200) -> 200 ``{"status": "pong"}``, the inbox is not called
4. media type other than ``application/json`` -> 415
5. missing or wrong signature -> 401 (constant-time comparison)
6. topic not in the source's ``allowed_topics`` -> 200 ``{"status": "ignored"}``, not stored
7. the inbox is awaited: STORED -> 200 ``accepted``, DUPLICATE -> 200 ``duplicate``; any
   exception -> 503 with ``Retry-After`` (nothing is acknowledged that was not stored)

The body is never parsed here: a signed body that is not valid JSON still goes to the inbox,
where the flow quarantines it and keeps the raw input.

One log line per request (source, topic, delivery id, status, size, duration; for a failed
inbox the exception types and where they were raised). Never the secret, the signature, the
body, or an inbox exception's message (database errors quote their parameters).
"""

from __future__ import annotations

import logging
import math
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canonical.errors import TransientError
from connectors.webhooks.models import IntakeResult, WebhookDelivery, WebhookSource
from connectors.webhooks.signatures import DeliveryMeta, SignatureScheme, get_scheme

logger = logging.getLogger(__name__)

_PING_BODY = re.compile(rb"\Awebhook_id=\d{1,20}\Z")
_PING_MAX_BYTES = 64
_LOG_VALUE_MAX = 120
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


class InboxSink(Protocol):
    """Where authenticated deliveries go. Must store durably before returning.

    Return ``STORED`` for a new delivery and ``DUPLICATE`` for one already held; raise
    (``TransientError`` or anything else) when it could not store, so the sender retries.
    """

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult: ...


class _BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Outcome:
    response: Response
    outcome: str
    size: int
    level: int = logging.WARNING
    error: BaseException | None = None


def _log_value(value: str | None) -> str:
    """Render an untrusted header/path value for a log line: printable, short, never empty."""
    if value is None or value == "":
        return "-"
    cleaned = _UNPRINTABLE.sub("?", value)
    if len(cleaned) > _LOG_VALUE_MAX:
        cleaned = cleaned[:_LOG_VALUE_MAX] + "..."
    return cleaned


def _describe_error(error: BaseException | None) -> str:
    """Exception types (with causes) and where it was raised, but no message.

    Messages are left out on purpose: database errors quote their parameters, which here
    would be the body. The inbox logs its own failures with its own care.
    """
    if error is None:
        return ""
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        chain.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    text = " error=" + "<-".join(chain)
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        text += f" at={Path(last.filename).name}:{last.lineno}"
    return text


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


async def _read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or ``_BodyTooLarge`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class _Receiver:
    def __init__(
        self,
        sources: Mapping[str, WebhookSource],
        sink: InboxSink,
        max_body_bytes: int,
        retry_after_seconds: int,
    ) -> None:
        self._sources = dict(sources)
        self._schemes: dict[str, SignatureScheme] = {
            key: get_scheme(source.scheme) for key, source in self._sources.items()
        }
        self._sink = sink
        self._max_body_bytes = max_body_bytes
        self._retry_after_seconds = retry_after_seconds

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def receive(self, request: Request) -> Response:
        started = time.perf_counter()
        source_name = request.path_params["source"]
        source = self._sources.get(source_name)
        scheme = self._schemes.get(source_name)
        meta = DeliveryMeta(None, None, None, None, None)
        if source is None or scheme is None:
            result = _Outcome(_error(404, "unknown webhook source"), "unknown-source", 0)
        else:
            meta = scheme.describe(request.headers)
            result = await self._handle(request, source, scheme, meta)
        logger.log(
            result.level,
            "webhook source=%s topic=%s delivery=%s status=%d outcome=%s bytes=%d ms=%.1f%s",
            _log_value(source_name),
            _log_value(meta.topic),
            _log_value(meta.delivery_id),
            result.response.status_code,
            result.outcome,
            result.size,
            (time.perf_counter() - started) * 1000.0,
            _describe_error(result.error),
        )
        return result.response

    async def _handle(
        self, request: Request, source: WebhookSource, scheme: SignatureScheme, meta: DeliveryMeta
    ) -> _Outcome:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return _Outcome(_error(400, "invalid Content-Length"), "bad-length", 0)
            if int(declared) > self._max_body_bytes:
                return _Outcome(_too_large(self._max_body_bytes), "too-large", int(declared))
        try:
            body = await _read_limited(request, self._max_body_bytes)
        except _BodyTooLarge:
            return _Outcome(_too_large(self._max_body_bytes), "too-large", self._max_body_bytes + 1)
        size = len(body)
        content_type = request.headers.get("content-type", "")
        media_type = _media_type(content_type)

        if scheme.name == "woocommerce" and _is_ping(body, media_type):
            return _Outcome(JSONResponse({"status": "pong"}), "ping", size, logging.INFO)
        if media_type != "application/json":
            response = _error(415, "Content-Type must be application/json")
            return _Outcome(response, "bad-media-type", size)
        if not scheme.verify(body, request.headers, source.secret.get_secret_value()):
            if scheme.signature_header in request.headers:
                return _Outcome(_error(401, "invalid signature"), "bad-signature", size)
            missing = _error(401, f"missing {scheme.signature_header} header")
            return _Outcome(missing, "unsigned", size)
        if source.allowed_topics is not None and meta.topic not in source.allowed_topics:
            return _Outcome(JSONResponse({"status": "ignored"}), "ignored-topic", size)

        delivery = WebhookDelivery(
            source=source.name,
            scheme=scheme.name,
            topic=meta.topic,
            resource=meta.resource,
            event=meta.event,
            webhook_id=meta.webhook_id,
            delivery_id=meta.delivery_id,
            content_type=content_type,
            body=body,
            headers=_sender_headers(request, scheme),
            received_at=datetime.now(UTC),
        )
        try:
            stored = await self._sink(delivery)
        except TransientError as exc:
            response = _unavailable(self._retry_after(exc.retry_after))
            return _Outcome(response, "sink-failed", size, logging.ERROR, exc)
        except Exception as exc:
            response = _unavailable(self._retry_after_seconds)
            return _Outcome(response, "sink-failed", size, logging.ERROR, exc)
        if stored is IntakeResult.STORED:
            return _Outcome(JSONResponse({"status": "accepted"}), "stored", size, logging.INFO)
        if stored is IntakeResult.DUPLICATE:
            return _Outcome(JSONResponse({"status": "duplicate"}), "duplicate", size, logging.INFO)
        # A sink answering anything else has not said the delivery is safe: let it come again.
        response = _unavailable(self._retry_after_seconds)
        return _Outcome(response, "sink-answer-unknown", size, logging.ERROR)

    def _retry_after(self, hint: float | None) -> int:
        if hint is None or not math.isfinite(hint) or hint < 0:
            return self._retry_after_seconds
        return max(1, math.ceil(hint))


def _is_ping(body: bytes, media_type: str) -> bool:
    if len(body) > _PING_MAX_BYTES or not _PING_BODY.match(body):
        return False
    # WordPress posts the ping as a form (cURL and the socket transport both label it so).
    return media_type in ("", "application/x-www-form-urlencoded")


def _sender_headers(request: Request, scheme: SignatureScheme) -> dict[str, str]:
    signature = scheme.signature_header.lower()
    kept: dict[str, str] = {}
    for name, value in request.headers.items():
        lowered = name.lower()
        if lowered.startswith(scheme.header_prefix) and lowered != signature:
            kept[lowered] = value
    return kept


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {"error": f"body larger than {limit} bytes"},
        status_code=413,
        headers={"Connection": "close"},
    )


def _unavailable(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"error": "delivery could not be stored; retry later"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


def create_webhook_app(
    sources: Mapping[str, WebhookSource],
    sink: InboxSink,
    *,
    max_body_bytes: int = 1_048_576,
    retry_after_seconds: int = 30,
) -> Starlette:
    """A mountable ASGI app receiving ``POST /webhooks/{source}`` for the given sources.

    ``sources`` maps the path segment to its configuration (the key must equal
    ``source.name``). ``sink`` is awaited for every authenticated delivery before the answer is
    sent. ``retry_after_seconds`` is the ``Retry-After`` sent with a 503 when the sink gave no
    hint of its own (``TransientError.retry_after``).
    """
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    if retry_after_seconds < 1:
        raise ValueError("retry_after_seconds must be positive")
    for key, source in sources.items():
        if key != source.name:
            raise ValueError(f"source key {key!r} differs from its name {source.name!r}")
    receiver = _Receiver(sources, sink, max_body_bytes, retry_after_seconds)
    return Starlette(
        routes=[
            Route("/webhooks/_health", receiver.health, methods=["GET"]),
            Route("/webhooks/{source}", receiver.receive, methods=["POST"]),
        ]
    )
