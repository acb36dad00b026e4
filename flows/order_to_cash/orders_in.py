"""Step 1, orders in: the web shop's orders into the hub.

Webhooks bring orders into the inbox as they happen; this step also reads the shop's
``orders`` stream from its cursor (the fallback for a webhook that never came: a pulled order
is the same JSON as a webhook's body, kept as an ``order.updated`` message), then runs the
web order slice's ``OrderIntake`` on everything waiting: canonical customer and order in the
hub, a delivery to the ERP for each change the ERP needs. An order read both ways is stored
twice in the inbox and changes the hub once.

The shop stamps changes to the second, so two versions of an order within one second carry one
``date_modified``: the version a pulled order is kept under is that stamp plus a digest of its
content, or a cancellation right after the order was read would count as already held.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace

from connectors.base import Connector, Health, Page
from flows.order_to_cash.common import WEBSHOP, erp_target
from flows.pull import PullSpec, pull, record_body
from flows.spec import RunOptions, Services
from flows.summary import FlowSummary
from flows.webshop_orders import OrderIntake, OrderIntakeConfig

ORDERS = PullSpec(system=WEBSHOP, stream="orders", kind="order.updated")


class ContentVersioned(Connector):
    """A connector's reads with each record's version made ``<version>#<content digest>``."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.system = inner.system
        super().__init__(list(inner.streams.values()))

    def read(self, stream: str, cursor: str | None = None) -> Iterator[Page]:
        for page in self.inner.read(stream, cursor):
            records = [
                replace(r, version=f"{r.version}#{hashlib.sha256(record_body(r)).hexdigest()[:16]}")
                for r in page.records
            ]
            yield replace(page, records=records)

    def health(self) -> Health:
        return self.inner.health()


def run(services: Services, options: RunOptions, summary: FlowSummary) -> None:
    if not options.dry_run:
        shop = ContentVersioned(services.connector(WEBSHOP))
        summary.merge(pull(services.hub, shop, ORDERS, full=options.full))
    intake = OrderIntake(services.hub, OrderIntakeConfig(targets=(erp_target(services),)))
    done = intake.run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        dry_run=options.dry_run,
    )
    summary.merge(done)
