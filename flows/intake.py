"""Inbound messages into the hub's durable inbox: the sinks behind the webhook receiver.

Both sinks answer only after the delivery is committed. ``HubInboxSink`` commits each request
on its own; ``GroupCommitSink`` has one writer thread that commits whatever requests are
waiting in one transaction (a group commit), so one fsync serves many senders.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from starlette.concurrency import run_in_threadpool

from canonical.envelope import dedupe_key
from canonical.errors import TransientError
from connectors.webhooks.models import IntakeResult, WebhookDelivery
from hub.inbox import receive_many
from hub.store import Hub, IncomingMessage, ReceiveResult

log = logging.getLogger(__name__)


def to_incoming(delivery: WebhookDelivery) -> IncomingMessage:
    """A webhook delivery as an inbox message. The dedupe key covers the identical body."""
    kind = delivery.topic or "unknown"
    body_hash = hashlib.sha256(delivery.body).hexdigest()
    return IncomingMessage(
        source_system=delivery.source,
        kind=kind,
        dedupe_key=dedupe_key(delivery.source, kind, body_hash),
        body=delivery.body,
        content_type=delivery.content_type,
        delivery_id=delivery.delivery_id,
        headers=delivery.headers,
        # the order number is set when the flow reads the message (seconds later): parsing
        # JSON here would cost every webhook ~30 us on the event loop
        correlation_id=None,
        received_at=delivery.received_at,
    )


class HubInboxSink:
    """Writes each verified webhook to the inbox and commits before the sender gets its 2xx."""

    def __init__(self, hub: Hub, on_stored: Callable[[str], None] | None = None) -> None:
        self.hub = hub
        self.on_stored = on_stored  # e.g. wake a worker; called after the commit

    def store(self, delivery: WebhookDelivery) -> IntakeResult:
        result = self.hub.receive(to_incoming(delivery))
        if result.duplicate:
            return IntakeResult.DUPLICATE
        if self.on_stored is not None:
            self.on_stored(result.message_id)
        return IntakeResult.STORED

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult:
        return await run_in_threadpool(self.store, delivery)


class _Waiting(NamedTuple):  # a tuple: one is made per request, on the event loop
    message: IncomingMessage
    future: asyncio.Future[IntakeResult]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class GroupCommitSink:
    """Stores verified webhooks through one writer thread that commits them in batches.

    Each request queues its message and awaits a future. The writer takes *whatever is
    queued* (up to ``max_batch``), stores it with one ``receive_many`` transaction and only
    then resolves the futures: a 2xx still means "committed". While a commit runs, new
    requests gather for the next one, so the batch grows with the load and an idle receiver
    answers at once. A failed batch fails every request in it with ``TransientError`` (the
    receiver answers 503; the senders retry, and dedupe makes that safe); the batch's
    transaction stores nothing of it.

    The writer starts with the first delivery and ends after ``idle_seconds`` without one (it
    starts again with the next), so a forgotten sink leaves no thread behind for long.
    ``close()`` stops it after the queue drains. ``batch_writer`` (default ``receive_many`` on
    ``hub``) is where a batch goes.
    """

    def __init__(
        self,
        hub: Hub,
        on_stored: Callable[[str], None] | None = None,
        *,
        max_batch: int = 500,
        idle_seconds: float = 60.0,
        batch_writer: Callable[[Sequence[IncomingMessage]], list[ReceiveResult]] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be positive")
        self.hub = hub
        self.on_stored = on_stored  # called after the commit, from the writer thread
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._write = batch_writer or (lambda batch: receive_many(hub, batch))
        self._queue: queue.SimpleQueue[_Waiting | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def writing(self) -> bool:
        """Whether the writer thread is alive (it starts on demand and retires when idle)."""
        with self._lock:
            return self._thread is not None

    @property
    def pending(self) -> int:
        """Requests queued and not yet taken by the writer."""
        return self._queue.qsize()

    async def __call__(self, delivery: WebhookDelivery) -> IntakeResult:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IntakeResult] = loop.create_future()
        self._submit(_Waiting(to_incoming(delivery), future, loop))
        return await future

    def _submit(self, item: _Waiting) -> None:
        with self._lock:
            if self._closed:
                raise TransientError("the inbox writer is stopped")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="inbox-group-commit", daemon=True
                )
                self._thread.start()
            self._queue.put(item)

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking deliveries; store what is queued, then stop the writer."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._next_or_retire()
            if first is None:
                return
            batch, stopping = self._take(first)
            if batch:
                self._commit(batch)

    def _next_or_retire(self) -> object | None:
        """The next queued item; None when idle too long (this thread then ends)."""
        while True:
            try:
                return self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:  # _submit puts under this lock: nothing can slip past
                    if self._queue.empty():
                        self._thread = None
                        return None

    def _take(self, item: object) -> tuple[list[_Waiting], bool]:
        """``item`` and whatever else is already queued (up to ``max_batch``)."""
        batch: list[_Waiting] = []
        while True:
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Waiting)
            batch.append(item)
            if len(batch) >= self.max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False

    def _commit(self, batch: list[_Waiting]) -> None:
        try:
            results = self._write([waiting.message for waiting in batch])
        except Exception as exc:
            failure: Exception = exc
        else:
            self._stored(batch, results)
            return
        # Types only: a database error's message quotes its parameters (the bodies).
        log.error("inbox batch of %d not stored: %s", len(batch), _error_types(failure))
        _settle(batch, [_batch_failed(len(batch), failure) for _ in batch])

    def _stored(self, batch: list[_Waiting], results: list[ReceiveResult]) -> None:
        outcomes: list[IntakeResult | BaseException] = [
            IntakeResult.DUPLICATE if result.duplicate else IntakeResult.STORED
            for result in results
        ]
        _settle(batch, outcomes)
        if self.on_stored is not None:
            for result in results:
                if not result.duplicate:
                    self._notify(result.message_id)

    def _notify(self, message_id: str) -> None:
        assert self.on_stored is not None
        try:
            self.on_stored(message_id)
        except Exception:  # stored is stored: a failing wake-up must not fail the senders
            log.exception("on_stored callback failed for message %s", message_id)


def _error_types(error: BaseException) -> str:
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 5:
        chain.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return "<-".join(chain)


def _batch_failed(size: int, cause: BaseException) -> TransientError:
    error = TransientError(f"inbox batch of {size} not stored")
    error.__cause__ = cause
    return error


def _settle(batch: list[_Waiting], outcomes: Sequence[IntakeResult | BaseException]) -> None:
    """Resolve each request's future on its own event loop, one wake-up per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[IntakeResult], Any]]] = {}
    for waiting, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            continue


def _resolve(pairs: list[tuple[asyncio.Future[IntakeResult], Any]]) -> None:
    for future, outcome in pairs:
        if future.done():  # the request was cancelled (the sender went away)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
