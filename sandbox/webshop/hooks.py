"""The shop's webhooks: subscriptions, and deliveries in the background like WooCommerce.

WooCommerce queues a webhook delivery (Action Scheduler) and sends it after the request that
caused it has been answered; here one worker thread sends them in order, through
``WebhookSender`` (signed like WooCommerce). Knobs: ``duplicate_webhooks`` (copies of every
delivery, same body and delivery id), ``malformed_webhook_rate`` (share of deliveries whose
body is cut short, still correctly signed) and ``webhook_retries`` (0 = WooCommerce, which
never retries). After more than five failures in a row a webhook is disabled, as in WooCommerce.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandbox.webshop.sender import WebhookDisabledError, WebhookSender, wp_json_encode

DEFAULT_TOPICS = ("order.created", "order.updated", "customer.created", "customer.updated")


@dataclass
class WebhookKnobs:
    duplicate_webhooks: int = 1
    malformed_webhook_rate: float = 0.0
    webhook_retries: int = 0
    webhook_backoff_seconds: float = 0.2


WEBHOOK_KNOB_NAMES = frozenset(WebhookKnobs.__dataclass_fields__)


@dataclass
class Subscription:
    webhook_id: int
    url: str
    topics: tuple[str, ...]
    sender: WebhookSender

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.webhook_id,
            "delivery_url": self.url,
            "topics": list(self.topics),
            "status": "disabled" if self.sender.disabled else "active",
            "failure_count": self.sender.failure_count,
        }


class WebhookDispatcher:
    """Queues ``emit(topic, payload)`` for every subscription of that topic and sends them."""

    def __init__(self, source_url: str, seed: int | None = None) -> None:
        self.source_url = source_url
        self.knobs = WebhookKnobs()
        self.subscriptions: dict[int, Subscription] = {}
        self.counters: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Subscription, str, Any] | threading.Event | None] = (
            queue.Queue()
        )
        self._next_id = 1
        self._worker = threading.Thread(target=self._run, name="webshop-webhooks", daemon=True)
        self._worker.start()

    def update(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - WEBHOOK_KNOB_NAMES
        if unknown:
            raise ValueError(f"unknown webhook knobs {sorted(unknown)}")
        duplicate = int(changes.get("duplicate_webhooks", self.knobs.duplicate_webhooks))
        rate = float(changes.get("malformed_webhook_rate", self.knobs.malformed_webhook_rate))
        retries = int(changes.get("webhook_retries", self.knobs.webhook_retries))
        backoff = float(changes.get("webhook_backoff_seconds", self.knobs.webhook_backoff_seconds))
        if duplicate < 1 or retries < 0 or backoff < 0 or not 0.0 <= rate <= 1.0:
            raise ValueError(
                "duplicate_webhooks must be >= 1, webhook_retries >= 0 and "
                "malformed_webhook_rate within 0..1"
            )
        with self._lock:
            self.knobs = WebhookKnobs(duplicate, rate, retries, backoff)

    def subscribe(self, url: str, secret: str, topics: tuple[str, ...] = DEFAULT_TOPICS) -> int:
        with self._lock:
            webhook_id = self._next_id
            self._next_id += 1
            sender = WebhookSender(
                url, secret, self.source_url, webhook_id=webhook_id, retries=0, timeout_seconds=10
            )
            self.subscriptions[webhook_id] = Subscription(webhook_id, url, tuple(topics), sender)
            return webhook_id

    def unsubscribe(self, webhook_id: int) -> bool:
        with self._lock:
            subscription = self.subscriptions.pop(webhook_id, None)
        if subscription is None:
            return False
        subscription.sender.close()
        return True

    def emit(self, topic: str, payload: Any) -> None:
        with self._lock:
            targets = [s for s in self.subscriptions.values() if topic in s.topics]
        for subscription in targets:
            self.counters["queued"] += 1
            self._queue.put((subscription, topic, payload))

    def drain(self, timeout: float = 10.0) -> bool:
        """Waits until every delivery queued so far has been sent; False on timeout."""
        done = threading.Event()
        self._queue.put(done)  # the worker sets it once everything queued before it is sent
        return done.wait(timeout)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self.knobs.__dict__,
                "webhooks": [s.describe() for s in self.subscriptions.values()],
                "webhook_counters": dict(self.counters),
            }

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=5)
        for subscription in list(self.subscriptions.values()):
            subscription.sender.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            self._deliver(*item)

    def _deliver(self, subscription: Subscription, topic: str, payload: Any) -> None:
        with self._lock:
            knobs = self.knobs
            malformed = knobs.malformed_webhook_rate > 0 and (
                self._rng.random() < knobs.malformed_webhook_rate
            )
        body = wp_json_encode(payload)
        if malformed:
            body = body[: len(body) // 2]
            self.counters["malformed"] += 1
        sender = subscription.sender
        sender.retries, sender.backoff_seconds = (
            knobs.webhook_retries,
            knobs.webhook_backoff_seconds,
        )
        try:
            statuses = sender.send(topic, body, duplicate=knobs.duplicate_webhooks)
        except WebhookDisabledError:
            self.counters["skipped_disabled"] += 1
            return
        for status in statuses:
            self.counters[f"status.{status}"] += 1
            self.counters["delivered" if 200 <= status < 303 else "failed"] += 1
