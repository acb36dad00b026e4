"""The web order slice with real peers, and the books every reliability test closes.

A signed webhook -> Tandem's receiver (uvicorn on loopback) -> hub inbox -> OrderIntake ->
deliveries -> the sandbox SOAP ERP. ``account`` reads the ERP (its own store, the peer's
truth) and the hub, and says of every order sent in whether it was delivered (exactly one ERP
order), dead-lettered with a reason, quarantined with a reason, lost, or duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.schema import Delivery, DeliveryStatus, InboxMessage, InboxStatus
from hub.types import utcnow
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.reliability.figures import Figures
from tests.support import serve_asgi

SECRET = "wc-reliability-secret-7f3a9c"
ERP_PASSWORD = "erp-reliability-password-51d0"


def paid_order(order_id: int, seed: int = 7) -> dict[str, Any]:
    order = make_order(seed=seed, order_id=order_id)
    order["status"] = "processing"
    return order


def settings(hub_url: str, erp: ErpHandle, **overrides: Any) -> TandemSettings:
    values: dict[str, Any] = {
        "database_url": hub_url,
        "erp_soap_url": erp.base_url,
        "webshop_webhook_secret": SECRET,
        "retry_max_attempts": 3,
        "retry_base_delay": 0.0,
        "erp_operation_timeout": 5.0,
        "erp_connect_timeout": 1.0,
    }
    values.update(overrides)
    return TandemSettings(**values)


def cli_env(hub_url: str, erp: ErpHandle, **extra: str) -> dict[str, str]:
    """The environment of a ``tandem`` subprocess running the slice."""
    env = {
        "TANDEM_DATABASE_URL": hub_url,
        "TANDEM_ERP_SOAP_URL": erp.base_url,
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": SECRET,
        "TANDEM_RETRY_MAX_ATTEMPTS": "5",
        "TANDEM_RETRY_BASE_DELAY": "0",
        "TANDEM_ERP_OPERATION_TIMEOUT": "5",
        "COLUMNS": "200",
    }
    env.update(extra)
    return env


@dataclass
class Slice:
    runtime: Runtime
    erp: ErpHandle
    sender: WebhookSender
    url: str
    state_path: Path | None

    def restart_erp(self) -> None:
        """Start the ERP again on the same port from its state file (after ``erp.stop()``)."""
        self.erp = start_in_thread(port=self.erp.port, state_path=self.state_path)


@contextmanager
def running_slice(
    hub_url: str, state_path: Path | None = None, **overrides: Any
) -> Iterator[Slice]:
    with ExitStack() as stack:
        erp = start_in_thread(state_path=state_path)
        runtime = Runtime(settings(hub_url, erp, **overrides))
        runtime.upgrade_db()
        base = stack.enter_context(serve_asgi(runtime.webhook_app()))
        url = f"{base}/webhooks/webshop"
        sender = stack.enter_context(WebhookSender(url, SECRET, retries=0))
        world = Slice(runtime, erp, sender, url, state_path)
        try:
            yield world
        finally:
            runtime.close()
            world.erp.stop()


def erp_orders(erp: ErpHandle) -> Counter[str]:
    """How many ERP sales orders carry each External_Document_No (the shop's number)."""
    with erp.app.store.lock:
        records = list(erp.app.store.records.get("Sales_Order", {}).values())
    return Counter(str(r.get("External_Document_No") or "") for r in records)


@dataclass
class Books:
    """What became of each input, by order number."""

    delivered: set[str] = field(default_factory=set)
    dead: dict[str, str] = field(default_factory=dict)  # number -> reason
    quarantined: dict[str, str] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)
    duplicated: dict[str, int] = field(default_factory=dict)  # number -> ERP orders beyond 1

    def figures(self, suite: str, trials: int) -> Figures:
        return Figures(
            suite,
            trials,
            delivered=len(self.delivered),
            dead_lettered=len(self.dead),
            quarantined=len(self.quarantined),
            lost=len(self.lost),
            duplicated=sum(self.duplicated.values()),
        )


def account(runtime: Runtime, erp: ErpHandle, numbers: Iterable[str]) -> Books:
    """Close the books over ``numbers``: every one delivered, parked with a reason, or lost."""
    in_erp = erp_orders(erp)
    books = Books()
    with runtime.hub.begin() as hs:
        dead = {
            (d.correlation_id or ""): (d.last_error or "")
            for d in hs.session.scalars(
                sa.select(Delivery).where(Delivery.status == DeliveryStatus.DEAD)
            )
        }
        parked = {
            (m.correlation_id or ""): (m.error or "")
            for m in hs.session.scalars(
                sa.select(InboxMessage).where(InboxMessage.status == InboxStatus.QUARANTINED)
            )
        }
    for number in numbers:
        count = in_erp.get(number, 0)
        if count > 1:
            books.duplicated[number] = count - 1
        if count >= 1:
            books.delivered.add(number)
        elif dead.get(number):
            books.dead[number] = dead[number]
        elif parked.get(number):
            books.quarantined[number] = parked[number]
        else:
            books.lost.add(number)
    return books


def expire_leases(runtime: Runtime) -> None:
    """Let the leases of a killed worker run out (they last minutes; a test cannot wait)."""
    past = utcnow() - timedelta(hours=1)
    with runtime.hub.begin() as hs:
        hs.session.execute(
            sa.update(InboxMessage)
            .where(InboxMessage.status == InboxStatus.PROCESSING)
            .values(lease_until=past)
        )
        hs.session.execute(
            sa.update(Delivery)
            .where(Delivery.status == DeliveryStatus.IN_FLIGHT)
            .values(lease_until=past)
        )
