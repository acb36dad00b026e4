"""Fault knobs for a sandbox HTTP peer, as an ASGI layer in front of the application.

Knobs (settable at start and at run time through the peer's ``/_control``):

- ``latency_ms``: every request waits this long before it is handled;
- ``error_rate`` (0..1): that share of requests is answered ``error_status`` (503, 500, 502
  or 429) without reaching the application; ``fail_next`` answers the next N requests so;
  ``retry_after`` (seconds) adds a ``Retry-After`` header to those answers;
- ``timeout`` (0..1): that share of requests waits ``timeout_seconds`` (longer than a client
  should wait) and is then dropped without an answer;
- ``drop_connection`` (0..1): that share of requests has its TCP connection aborted with no
  answer at all (the client sees a reset / "server disconnected");
- ``malformed_rate`` (0..1): that share of answers has its body cut in half (a broken file).

How a connection is dropped: ASGI has no "close without answering". Under uvicorn, the
``receive`` callable is a method of the connection's request cycle, which holds the asyncio
transport; the layer calls ``transport.abort()`` on it and returns once uvicorn has noticed
the disconnect, so uvicorn sends nothing. Under another server (no transport to reach) the
layer raises ``ConnectionDropped`` instead, which servers turn into a bare 500.

Requests to ``/_control`` and ``/_health`` never meet a fault.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EXEMPT_PATHS = frozenset({"/_control", "/_health"})
_RATES = ("error_rate", "timeout", "drop_connection", "malformed_rate")
_REASONS = {
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
}


class ConnectionDropped(RuntimeError):
    """Raised where the server offers no transport to abort."""


@dataclass
class FaultKnobs:
    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    timeout: float = 0.0
    timeout_seconds: float = 30.0
    drop_connection: float = 0.0
    malformed_rate: float = 0.0
    seed: int | None = None
    retry_after: int | None = None


FAULT_KNOB_NAMES = frozenset(f.name for f in fields(FaultKnobs))


def _coerce(name: str, value: Any) -> Any:
    if name in _RATES:
        rate = 1.0 if value is True else 0.0 if value is False else float(value)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within 0..1 (or true/false), got {value!r}")
        return rate
    if name == "error_status":
        if int(value) not in _REASONS:
            raise ValueError(f"error_status must be one of {sorted(_REASONS)}, got {value!r}")
        return int(value)
    if name in ("latency_ms", "fail_next"):
        if int(value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        return int(value)
    if name == "timeout_seconds":
        return float(value)
    return None if value is None else int(value)  # seed, retry_after


class Faults:
    """The knobs of one peer, their random source and what they did (thread-safe)."""

    def __init__(self, knobs: FaultKnobs | None = None) -> None:
        self.knobs = knobs or FaultKnobs()
        self._rng = random.Random(self.knobs.seed)
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()

    def update(self, changes: Mapping[str, Any]) -> None:
        """Applies fault knob changes all at once; ValueError (nothing changed) if one is bad."""
        unknown = set(changes) - FAULT_KNOB_NAMES
        if unknown:
            raise ValueError(f"unknown fault knobs {sorted(unknown)}")
        coerced = {name: _coerce(name, value) for name, value in changes.items()}
        with self._lock:
            self.knobs = replace(self.knobs, **coerced)
            if "seed" in changes:
                self._rng = random.Random(self.knobs.seed)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self.knobs), "counters": dict(self.counters)}

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def chance(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def decide(self) -> str | None:
        """Counts one request and picks the fault it meets, if any."""
        with self._lock:
            self.counters["requests"] += 1
            knobs = self.knobs
            if knobs.fail_next > 0:
                knobs.fail_next -= 1
                fault: str | None = "error"
            else:
                fault = None
                for name, rate in (
                    ("drop", knobs.drop_connection),
                    ("timeout", knobs.timeout),
                    ("error", knobs.error_rate),
                    ("malformed", knobs.malformed_rate),
                ):
                    if rate > 0 and self._rng.random() < rate:
                        fault = name
                        break
            if fault is not None:
                self.counters[f"faults.{fault}"] += 1
            return fault


async def drop_connection(receive: Receive) -> None:
    """Aborts the client's TCP connection so that no answer is ever sent (see module doc)."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("no transport to abort; the server answers 500 instead")
    transport.abort()
    for _ in range(5):  # let the loop run connection_lost so the server knows it is gone
        await asyncio.sleep(0.002)


class FaultLayer:
    """ASGI middleware applying ``faults`` to every request outside ``EXEMPT_PATHS``."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        knobs = self.faults.knobs
        if knobs.latency_ms:
            await asyncio.sleep(knobs.latency_ms / 1000)
        fault = self.faults.decide()
        if fault == "drop":
            await drop_connection(receive)
        elif fault == "timeout":
            await asyncio.sleep(knobs.timeout_seconds)
            await drop_connection(receive)
        elif fault == "error":
            await _error(send, knobs.error_status, knobs.retry_after)
        elif fault == "malformed":
            await self.app(scope, receive, _truncating(send))
        else:
            await self.app(scope, receive, send)


async def _error(send: Send, status: int, retry_after: int | None = None) -> None:
    body = _REASONS[status]
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode("ascii")))
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _truncating(send: Send) -> Send:
    """A ``send`` that buffers the answer and sends only the first half of its body."""
    start: Message = {}
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        body = body[: len(body) // 2]
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped
