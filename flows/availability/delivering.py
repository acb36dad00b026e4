"""Delivering a flow's own deliveries with its own handlers, and handlers built on first use.

A flow run delivers what it queued (and its earlier retries that are due) without touching
other flows' deliveries to the same system: the worker is given only the ids of deliveries
whose (target system, entity) this flow's handlers serve. The ``deliver`` flow delivers
everything with every flow's handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import and_, or_, select

from flows.delivery import Delivered, DeliveryWorker, Handler
from flows.policy import RetryPolicy
from flows.spec import RunOptions, chosen_targets
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget
from hub.schema import Delivery, DeliveryStatus
from hub.store import DeliveryTask, Hub

_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.IN_FLIGHT)


def lazy_target(hub: Hub, build: Callable[[], ConnectorTarget]) -> Handler:
    """A handler whose target (and so its connector) is built when the first delivery
    needs it: listing a flow's handlers never needs the target system configured."""
    built: list[ConnectorTarget] = []

    def deliver(task: DeliveryTask) -> Delivered:
        if not built:
            built.append(build())
        return built[0].deliver(hub, task)

    return deliver


def deliver_own(
    hub: Hub,
    handlers: Mapping[tuple[str, str], Handler],
    policy: RetryPolicy,
    options: RunOptions | None = None,
) -> FlowSummary:
    """Deliver the due deliveries the given handlers serve, and only those: to the run's
    chosen targets only (``options.targets``); what is due to the others stays queued."""
    if options is not None:
        chosen = set(chosen_targets(options, {target for target, _ in handlers}))
        handlers = {key: h for key, h in handlers.items() if key[0] in chosen}
    if not handlers:
        return FlowSummary("deliver")
    served = or_(
        *(
            and_(Delivery.target_system == target, Delivery.entity == entity)
            for target, entity in handlers
        )
    )
    with hub.begin() as hs:
        ids = list(
            hs.session.scalars(select(Delivery.id).where(served, Delivery.status.in_(_OPEN)))
        )
    if not ids:
        return FlowSummary("deliver")
    return DeliveryWorker(hub, handlers, policy).run(ids=ids)
