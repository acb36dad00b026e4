"""The flows Tandem can run, by name. The CLI, the tests and the Airflow DAGs all use this."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from flows.delivery import DeliveryWorker
from flows.erp_orders import ErpOrderDelivery, ErpWriter
from flows.policy import RetryPolicy
from flows.summary import FlowSummary
from flows.webshop_orders import OrderIntake
from hub.store import Hub


@dataclass(frozen=True)
class RunOptions:
    since: datetime | None = None
    dry_run: bool = False
    message_ids: Sequence[str] | None = None
    delivery_ids: Sequence[int] | None = None


class Services(Protocol):
    """What flows need from the application: the hub, connectors and policies."""

    @property
    def hub(self) -> Hub: ...
    @property
    def retry_policy(self) -> RetryPolicy: ...
    def erp(self) -> ErpWriter: ...


@dataclass(frozen=True)
class FlowSpec:
    name: str
    description: str
    source: str
    targets: tuple[str, ...]
    run: Callable[[Services, RunOptions], FlowSummary]


def delivery_worker(services: Services) -> DeliveryWorker:
    handlers = ErpOrderDelivery(services.hub, services.erp()).handlers()
    return DeliveryWorker(services.hub, handlers, services.retry_policy)


def run_deliveries(services: Services, options: RunOptions) -> FlowSummary:
    if options.dry_run:
        return FlowSummary("deliver", notes=["dry run: nothing delivered"])
    return delivery_worker(services).run(ids=options.delivery_ids)


def run_webshop_orders(services: Services, options: RunOptions) -> FlowSummary:
    summary = OrderIntake(services.hub).run(
        since=options.since, message_ids=options.message_ids, dry_run=options.dry_run
    )
    summary.merge(run_deliveries(services, options))
    summary.flow = "webshop-orders"
    return summary


FLOWS: dict[str, FlowSpec] = {
    spec.name: spec
    for spec in (
        FlowSpec(
            name="webshop-orders",
            description="Web shop orders (WooCommerce webhooks) -> hub -> ERP customers and "
            "sales orders",
            source="webshop",
            targets=("erp",),
            run=run_webshop_orders,
        ),
        FlowSpec(
            name="deliver",
            description="Deliver every due delivery (retries included) to its target system",
            source="hub",
            targets=("erp",),
            run=run_deliveries,
        ),
    )
}
