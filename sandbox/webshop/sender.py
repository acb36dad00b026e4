"""Send webhooks exactly the way WooCommerce does, for tests and the demo.

What ``WC_Webhook::deliver`` sends, reproduced here:

- ``POST`` with ``Content-Type: application/json`` and ``User-Agent: WooCommerce/<v> Hookshot
  (WordPress/<v>)``; the body is ``wp_json_encode`` output: compact, ``/`` escaped as ``\\/``
  and non-ASCII as ``\\uXXXX``;
- headers ``X-WC-Webhook-Source`` (the shop's home URL with a trailing ``/``), ``-Topic``
  (``order.created``), ``-Resource`` (``order``), ``-Event`` (``created``), ``-Signature``
  (base64 HMAC-SHA256 of the body bytes with the secret), ``-ID`` (the webhook's id) and
  ``-Delivery-ID``;
- the delivery id is a hash of the webhook id and the current *second* (``wp_hash``), so two
  deliveries of one webhook within a second carry the same id;
- a delivery succeeded when the answer is 2xx, 301 or 302 (redirects are not followed);
  after more than 5 consecutive failures WooCommerce disables the webhook;
- the ping sent when a webhook is created: ``webhook_id=<id>`` as a form, no signature, and
  only an answer of exactly 200 counts.

One difference, on purpose: WooCommerce itself never retries a failed delivery (it logs it and
counts the failure). ``retries`` (default 3) makes this sender retry on connection errors and
failed answers with the same body and delivery id; ``retries=0`` behaves like WooCommerce.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import httpx

from sandbox.webshop.orders import make_order

WC_VERSION = "9.8.5"
WP_VERSION = "6.8.1"
MAX_CONSECUTIVE_FAILURES = 5  # WooCommerce's woocommerce_max_webhook_delivery_failures
NO_RESPONSE = 0  # status reported for a delivery that never got an HTTP answer


class WebhookDisabledError(RuntimeError):
    """The webhook failed too often in a row and was disabled, as WooCommerce would."""


def wp_json_encode(payload: Any) -> bytes:
    """The bytes PHP's ``json_encode`` (WordPress ``wp_json_encode``) makes of ``payload``."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    # "/" occurs only inside strings in JSON text, so this is exactly PHP's "\/" escaping.
    return text.replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature``: base64 of HMAC-SHA256 over the body bytes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class WebhookSender:
    """One WooCommerce webhook subscription: a delivery URL, a secret and a webhook id."""

    def __init__(
        self,
        url: str,
        secret: str,
        source_url: str = "http://shop.example",
        *,
        webhook_id: int = 1,
        retries: int = 3,
        backoff_seconds: float = 0.2,
        timeout_seconds: float = 60.0,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.url = url
        self.webhook_id = webhook_id
        self.source_url = source_url.rstrip("/") + "/"
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.user_agent = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
        self.failure_count = 0
        self.disabled = False
        self._secret = secret
        self._clock = clock
        self._sleep = sleep
        self._salt = hashlib.sha256(self.source_url.encode("utf-8")).digest()
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def new_delivery_id(self) -> str:
        """Like ``WC_Webhook::get_new_delivery_id``: hash of webhook id and current second."""
        message = f"{self.webhook_id}{int(self._clock())}".encode("ascii")
        return hmac.new(self._salt, message, "md5").hexdigest()

    def headers_for(self, topic: str, body: bytes, delivery_id: str) -> dict[str, str]:
        resource, _, event = topic.partition(".")
        return {
            "User-Agent": self.user_agent,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": self.source_url,
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(body, self._secret),
            "X-WC-Webhook-ID": str(self.webhook_id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }

    def send(
        self,
        topic: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery_id: str | None = None,
        duplicate: int = 1,
    ) -> list[int]:
        """Deliver ``payload`` ``duplicate`` times (same body, same delivery id).

        A dict is encoded like ``wp_json_encode``; bytes are sent as they are (to send broken
        JSON, still correctly signed). Returns the final HTTP status of each copy, or
        ``NO_RESPONSE`` (0) where no answer came after all retries.
        """
        if duplicate < 1:
            raise ValueError("duplicate must be >= 1")
        body = payload if isinstance(payload, bytes) else wp_json_encode(payload)
        headers = self.headers_for(topic, body, delivery_id or self.new_delivery_id())
        return [self._deliver(body, headers) for _ in range(duplicate)]

    def ping(self, webhook_id: int | None = None) -> int:
        """The creation ping: ``webhook_id=<id>`` as a form; WooCommerce wants exactly 200."""
        body = f"webhook_id={self.webhook_id if webhook_id is None else webhook_id}"
        headers = {
            "User-Agent": self.user_agent,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        try:
            return self._client.post(
                self.url, content=body.encode("ascii"), headers=headers
            ).status_code
        except httpx.TransportError:
            return NO_RESPONSE

    def _deliver(self, body: bytes, headers: dict[str, str]) -> int:
        if self.disabled:
            raise WebhookDisabledError(
                f"webhook {self.webhook_id} disabled after {self.failure_count} failures"
            )
        status = NO_RESPONSE
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                status = self._client.post(self.url, content=body, headers=headers).status_code
            except httpx.TransportError:
                status = NO_RESPONSE
            if 200 <= status < 303:
                self.failure_count = 0
                return status
        self.failure_count += 1
        if self.failure_count > MAX_CONSECUTIVE_FAILURES:
            self.disabled = True
        return status


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.webshop.sender",
        description="Send generated WooCommerce order webhooks to a receiver.",
    )
    parser.add_argument("--url", required=True, help="delivery URL, e.g. .../webhooks/webshop")
    parser.add_argument(
        "--secret",
        default=os.environ.get("WEBSHOP_WEBHOOK_SECRET"),
        help="webhook secret (default: $WEBSHOP_WEBHOOK_SECRET)",
    )
    parser.add_argument("--orders", type=int, default=10, help="how many orders to send")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--first-id", type=int, default=1001, help="id of the first order")
    parser.add_argument("--duplicates", type=int, default=1, help="copies of each delivery")
    parser.add_argument("--topic", default="order.created")
    parser.add_argument("--webhook-id", type=int, default=1)
    parser.add_argument("--source-url", default="http://shop.example")
    parser.add_argument("--retries", type=int, default=3, help="0 behaves like WooCommerce")
    parser.add_argument("--ping", action="store_true", help="send the creation ping first")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("--secret or $WEBSHOP_WEBHOOK_SECRET is required")
    if args.orders < 0 or args.duplicates < 1:
        parser.error("--orders must be >= 0 and --duplicates >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns 0 when every delivery succeeded."""
    args = _parse_args(argv)
    statuses: Counter[int] = Counter()
    failed = 0
    with WebhookSender(
        args.url,
        args.secret,
        args.source_url,
        webhook_id=args.webhook_id,
        retries=args.retries,
    ) as sender:
        if args.ping:
            pong = sender.ping()
            print(f"ping -> {pong}")
            if pong != 200:
                return 1
        for order_id in range(args.first_id, args.first_id + args.orders):
            order = make_order(args.seed, order_id, site_url=args.source_url.rstrip("/"))
            try:
                results = sender.send(args.topic, order, duplicate=args.duplicates)
            except WebhookDisabledError as exc:
                print(f"stopped at order {order_id}: {exc}", file=sys.stderr)
                return 1
            statuses.update(results)
            failed += sum(1 for status in results if not 200 <= status < 303)
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
    print(f"sent {args.orders} orders x {args.duplicates} to {args.url} -> {summary or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
