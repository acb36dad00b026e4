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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

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


class _Headers(dict[str, str]):
    """A request's headers by lower-case name (the first of repeated ones), looked up in any case.

    Built once per request from the ASGI scope: every check below reads several headers, and a
    dict lookup is cheaper than scanning the raw list each time.
    """

    @classmethod
    def from_scope(cls, scope: Scope) -> _Headers:
        headers = cls()
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        return headers

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, name.lower(), default)


@dataclass(frozen=True)
class _Outcome:
    response: Response
    outcome: str
    size: int
    level: int = logging.WARNING
    error: BaseException | None = None


# Answers that never vary: the bytes are built once, the response object per request.
def _status(text: str) -> Callable[[], Response]:
    """A new small JSON response per request: a middleware (say gzip in front of us inside
    Airflow's API server) may change a response's headers in place, so none is shared."""
    body = b'{"status":"' + text.encode() + b'"}'

    def make() -> Response:
        return Response(body, media_type="application/json")

    return make


_ACCEPTED = _status("accepted")
_DUPLICATE = _status("duplicate")
_PONG = _status("pong")
_IGNORED = _status("ignored")


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


async def _read_limited(receive: Receive, limit: int) -> bytes:
    """The whole body, or ``_BodyTooLarge`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        if not message.get("more_body", False):
            if not chunks:
                return chunk
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


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
        self._secrets = {key: s.secret.get_secret_value() for key, s in self._sources.items()}
        self._sink = sink
        self._max_body_bytes = max_body_bytes
        self._retry_after_seconds = retry_after_seconds

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /webhooks/{source}`` as a plain ASGI endpoint (no per-request Request)."""
        await self.receive(scope, receive, send, scope["path_params"]["source"])

    async def receive(self, scope: Scope, receive: Receive, send: Send, source_name: str) -> None:
        started = time.perf_counter()
        source = self._sources.get(source_name)
        scheme = self._schemes.get(source_name)
        meta = _NO_META
        if source is None or scheme is None:
            result = _Outcome(_error(404, "unknown webhook source"), "unknown-source", 0)
        else:
            headers = _Headers.from_scope(scope)
            meta = scheme.describe(headers)
            result = await self._handle(receive, headers, source, scheme, meta)
        if logger.isEnabledFor(result.level):
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
        await result.response(scope, receive, send)

    async def _handle(
        self,
        receive: Receive,
        headers: _Headers,
        source: WebhookSource,
        scheme: SignatureScheme,
        meta: DeliveryMeta,
    ) -> _Outcome:
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return _Outcome(_error(400, "invalid Content-Length"), "bad-length", 0)
            if int(declared) > self._max_body_bytes:
                return _Outcome(_too_large(self._max_body_bytes), "too-large", int(declared))
        try:
            body = await _read_limited(receive, self._max_body_bytes)
        except _BodyTooLarge:
            return _Outcome(_too_large(self._max_body_bytes), "too-large", self._max_body_bytes + 1)
        size = len(body)
        content_type = headers.get("content-type", "")
        media_type = _media_type(content_type)

        if scheme.name == "woocommerce" and _is_ping(body, media_type):
            return _Outcome(_PONG(), "ping", size, logging.INFO)
        if media_type != "application/json":
            response = _error(415, "Content-Type must be application/json")
            return _Outcome(response, "bad-media-type", size)
        if not scheme.verify(body, headers, self._secrets[source.name]):
            if scheme.signature_header in headers:
                return _Outcome(_error(401, "invalid signature"), "bad-signature", size)
            missing = _error(401, f"missing {scheme.signature_header} header")
            return _Outcome(missing, "unsigned", size)
        if source.allowed_topics is not None and meta.topic not in source.allowed_topics:
            return _Outcome(_IGNORED(), "ignored-topic", size)

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
            headers=_sender_headers(headers, scheme),
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
            return _Outcome(_ACCEPTED(), "stored", size, logging.INFO)
        if stored is IntakeResult.DUPLICATE:
            return _Outcome(_DUPLICATE(), "duplicate", size, logging.INFO)
        # A sink answering anything else has not said the delivery is safe: let it come again.
        response = _unavailable(self._retry_after_seconds)
        return _Outcome(response, "sink-answer-unknown", size, logging.ERROR)

    def _retry_after(self, hint: float | None) -> int:
        if hint is None or not math.isfinite(hint) or hint < 0:
            return self._retry_after_seconds
        return max(1, math.ceil(hint))


_NO_META = DeliveryMeta(None, None, None, None, None)


def _is_ping(body: bytes, media_type: str) -> bool:
    if len(body) > _PING_MAX_BYTES or not _PING_BODY.match(body):
        return False
    # WordPress posts the ping as a form (cURL and the socket transport both label it so).
    return media_type in ("", "application/x-www-form-urlencoded")


def _sender_headers(headers: _Headers, scheme: SignatureScheme) -> dict[str, str]:
    signature = scheme.signature_header.lower()
    prefix = scheme.header_prefix
    return {
        name: value
        for name, value in headers.items()
        if name.startswith(prefix) and name != signature
    }


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
    return _WebhookApp(
        receiver,
        routes=[
            Route("/webhooks/_health", receiver.health, methods=["GET"]),
            Route("/webhooks/{source}", receiver, methods=["POST"]),
        ],
    )


_RECEIVE_PREFIX = "/webhooks/"


class _WebhookApp(Starlette):
    """Starlette, with ``POST /webhooks/{source}`` sent straight to the receiver.

    The receiver answers every request itself (it catches what the inbox raises), so Starlette's
    error middleware and router add nothing to a delivery but time. Everything else — and every
    request once middleware has been added to the app — takes Starlette's usual path.
    """

    def __init__(self, receiver: _Receiver, routes: list[BaseRoute]) -> None:
        super().__init__(routes=routes)
        self._receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not self.user_middleware:
            path = _route_path(scope)
            if path.startswith(_RECEIVE_PREFIX):
                source = path[len(_RECEIVE_PREFIX) :]
                if source and "/" not in source:  # what the route's {source} would match
                    scope["app"] = self
                    await self._receiver.receive(scope, receive, send, source)
                    return
        await super().__call__(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point (what Starlette's router matches routes on)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    return path[len(root_path) :] if path[len(root_path)] == "/" else path
