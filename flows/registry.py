"""The flows Tandem can run, by name. The CLI, the tests and the Airflow DAGs all use this."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import flows
from flows.delivery import DeliveryWorker, Handler
from flows.erp_orders import Ack, ErpOrderDelivery
from flows.spec import FlowSpec, RunOptions, Services
from flows.summary import FlowSummary
from flows.webshop_orders import OrderIntake

__all__ = ["FLOWS", "FlowSpec", "RunOptions", "Services", "deliver_due", "delivery_worker"]


def delivery_worker(services: Services) -> DeliveryWorker:
    """One worker for every target: the web order slice's ERP handlers and whatever
    handlers the other flows bring."""
    handlers: dict[tuple[str, str], Handler] = {}
    for spec in FLOWS.values():
        if spec.handlers is not None:
            handlers.update(spec.handlers(services))
    handlers.update(ErpOrderDelivery(services.hub, _LazyErp(services)).handlers())
    return DeliveryWorker(services.hub, handlers, services.retry_policy)


class _LazyErp:
    """The ERP writer, built when the first ERP delivery needs it (so delivering to other
    systems does not need the ERP configured)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def write_customer(self, record: dict[str, Any]) -> Ack:
        return self._services.erp().write_customer(record)

    def write_sales_order(self, record: dict[str, Any]) -> Ack:
        return self._services.erp().write_sales_order(record)

    def cancel_sales_order(self, external_document_no: str) -> Ack | None:
        return self._services.erp().cancel_sales_order(external_document_no)


def deliver_due(services: Services, options: RunOptions) -> FlowSummary:
    """A flow's delivery step: every due delivery to the run's chosen ``targets`` (all when
    none were chosen); what is due to the others stays queued. A run for some records
    (``entity_ids``) limits what it processes, not what it delivers: what is due goes out."""
    if options.dry_run:
        return FlowSummary("deliver", notes=["dry run: nothing delivered"])
    return delivery_worker(services).run(ids=options.delivery_ids, targets=options.targets)


def run_deliveries(services: Services, options: RunOptions) -> FlowSummary:
    """The ``deliver`` flow: every due delivery; to the chosen ``targets`` only, and only
    those about the records ``entity_ids`` (``flows.selection.open_deliveries``)."""
    if options.dry_run:
        return FlowSummary("deliver", notes=["dry run: nothing delivered"])
    return delivery_worker(services).run(
        ids=options.delivery_ids, targets=options.targets, entity_ids=options.entity_ids
    )


def run_webshop_orders(services: Services, options: RunOptions) -> FlowSummary:
    summary = OrderIntake(services.hub).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        dry_run=options.dry_run,
    )
    summary.merge(deliver_due(services, options))
    summary.flow = "webshop-orders"
    return summary


def discovered() -> list[FlowSpec]:
    """``FLOW`` of every module of the ``flows`` package, by module name."""
    found: list[FlowSpec] = []
    for info in sorted(pkgutil.iter_modules(flows.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"flows.{info.name}")
        spec = getattr(module, "FLOW", None)
        if isinstance(spec, FlowSpec):
            found.append(spec)
    return found


_DISCOVERED = discovered()

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
            # webhooks trigger runs at once; this sweep takes up whatever a lost trigger left
            # in the inbox, so a lost trigger only delays an order
            schedule="*/5 * * * *",
        ),
        FlowSpec(
            name="deliver",
            description="Deliver every due delivery (retries included) to its target system",
            source="hub",
            # every system a flow delivers to
            targets=tuple(dict.fromkeys(t for f in _DISCOVERED for t in ("erp", *f.targets))),
            run=run_deliveries,
            schedule="*/5 * * * *",  # retries falling due between the flows' own runs
        ),
        *_DISCOVERED,
    )
}
