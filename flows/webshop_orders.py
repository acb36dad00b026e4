"""Web shop orders: inbox -> canonical Customer and SalesOrder in the hub -> deliveries.

Reads top to bottom: claim the web shop's unprocessed inbox messages, map each order, store
the customer and the order with their xrefs, queue a delivery per target that needs the change,
and mark the message processed — all of one message in one transaction. A message that cannot
be parsed or mapped is quarantined with the reason; its raw body stays in the inbox.

A run for some orders only (``entity_ids``) takes the messages whose order has one of the ids
as its WooCommerce ``id`` or its ``number``; the others wait in the inbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from canonical.errors import InvalidRecord
from canonical.models import Entity, OrderStatus
from flows.faults import fault_point
from flows.processing import enqueue_change
from flows.selection import drain_selected, record_ids
from flows.summary import FlowSummary
from hub.schema import InboxMessage, InboxStatus
from hub.store import Hub, HubSession, UpsertOutcome
from mappings import woocommerce
from mappings.woocommerce import MappedOrder

log = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
ID_FIELDS = ("id", "number")  # a web order is asked for by its WooCommerce id or its number


def order_ids(message: InboxMessage) -> set[str]:
    return record_ids(message, ID_FIELDS)


@dataclass(frozen=True)
class OrderIntakeConfig:
    source_system: str = woocommerce.SYSTEM
    targets: tuple[str, ...] = ("erp",)  # systems that receive web orders and their customers
    deliverable_statuses: frozenset[str] = woocommerce.DELIVERABLE_STATUSES


class OrderIntake:
    def __init__(self, hub: Hub, config: OrderIntakeConfig | None = None) -> None:
        self.hub = hub
        self.config = config or OrderIntakeConfig()

    def run(
        self,
        *,
        since: datetime | None = None,
        message_ids: Sequence[str] | None = None,
        entity_ids: Collection[str] | None = None,
        dry_run: bool = False,
        batch: int = 100,
    ) -> FlowSummary:
        summary = FlowSummary("webshop-orders")
        if dry_run:
            return self._preview(since, message_ids, entity_ids, summary)
        if entity_ids is None:
            return self._drain(since, message_ids, batch, summary)
        drain_selected(
            self.hub, self.config.source_system, entity_ids,
            lambda part: self._drain(since, part, batch, summary),
            kinds=sorted(ORDER_TOPICS), since=since, message_ids=message_ids,
            ids_of=order_ids, notes=summary.notes,
        )  # fmt: skip
        return summary

    def _drain(
        self,
        since: datetime | None,
        message_ids: Sequence[str] | None,
        batch: int,
        summary: FlowSummary,
    ) -> FlowSummary:
        while True:
            # only order messages: the same inbox holds the shop's customer messages, which
            # the customer flow processes
            messages = self.hub.claim_inbox(
                self.config.source_system,
                limit=batch,
                since=since,
                message_ids=message_ids,
                kinds=sorted(ORDER_TOPICS),
            )
            if not messages:
                return summary
            for message in messages:
                summary.read += 1
                self._process_with_retry(message, summary)

    # --- one message --------------------------------------------------------------------

    def _process_with_retry(self, message: InboxMessage, summary: FlowSummary) -> None:
        # Two messages about one new customer may race to create it; the xref unique
        # constraint makes one of them fail, and the second try finds the first one's record.
        for attempt in (1, 2):
            try:
                with self.hub.begin() as hs:
                    self._process(hs, message, summary)
                    fault_point("mid_processing")
                fault_point("after_hub_write")
                return
            except IntegrityError:
                if attempt == 2:
                    self.hub.release_inbox(message.id)
                    raise

    def _process(self, hs: HubSession, message: InboxMessage, summary: FlowSummary) -> None:
        if message.kind not in ORDER_TOPICS:
            hs.finish_inbox(message.id, InboxStatus.IGNORED, error=f"topic {message.kind}")
            return
        doc: object = None
        try:
            doc = _parse_json(message)
            mapped = woocommerce.map_order(doc, source=self.config.source_system)
        except InvalidRecord as exc:
            summary.quarantined += 1
            log.warning("quarantined message %s: %s", message.id, exc)
            hs.finish_inbox(
                message.id,
                InboxStatus.QUARANTINED,
                error=str(exc),
                correlation_id=_order_number(doc),  # findable by its number all the same
            )
            return
        customer = self._store_customer(hs, mapped)
        order = self._store_order(hs, mapped, customer.canonical_id)
        correlation = mapped.order.order_number
        if order.stale:
            summary.stale += 1
            hs.event(
                "stale_ignored",
                message_id=message.id,
                correlation_id=correlation,
                detail="an older version of the order than the hub holds",
            )
        elif order.changed or customer.changed:
            summary.changed += 1
        else:
            summary.unchanged += 1
        deliverable = mapped.source_status in self.config.deliverable_statuses
        cancelled = mapped.order.status is OrderStatus.CANCELLED
        for target in self.config.targets:
            if target == self.config.source_system:
                continue  # never echo a change back to where it came from
            known = hs.external_id(Entity.SALES_ORDER, order.canonical_id, target) is not None
            customer_known = (
                hs.external_id(Entity.CUSTOMER, customer.canonical_id, target) is not None
            )
            # a customer goes to the ERP with its first order the ERP takes (an unpaid order
            # does not create one); later changes follow it there
            if customer.changed and (customer_known or (deliverable and not cancelled)):
                enqueue_change(hs, message, target, Entity.CUSTOMER, customer, correlation)
            # a cancellation matters only where the order went; other changes where it goes
            if order.changed and ((cancelled and known) or (deliverable and not cancelled)):
                enqueue_change(hs, message, target, Entity.SALES_ORDER, order, correlation)
        hs.finish_inbox(
            message.id,
            InboxStatus.PROCESSED,
            correlation_id=correlation,
            entity=Entity.SALES_ORDER,
            canonical_id=order.canonical_id,
        )

    def _store_customer(self, hs: HubSession, mapped: MappedOrder) -> UpsertOutcome:
        system = self.config.source_system
        cid = hs.resolve(Entity.CUSTOMER, system, mapped.customer_key)
        # the customer is as recent as the order that carried it
        customer = mapped.customer.model_copy(update={"updated_at": mapped.order.updated_at})
        outcome = hs.upsert(customer, canonical_id=cid, source_system=system)
        hs.link(Entity.CUSTOMER, outcome.canonical_id, system, mapped.customer_key)
        return outcome

    def _store_order(self, hs: HubSession, mapped: MappedOrder, customer_id: str) -> UpsertOutcome:
        system = self.config.source_system
        oid = hs.resolve(Entity.SALES_ORDER, system, mapped.order_key)
        order = mapped.order.model_copy(update={"customer_id": customer_id})
        outcome = hs.upsert(order, canonical_id=oid, source_system=system)
        hs.link(Entity.SALES_ORDER, outcome.canonical_id, system, mapped.order_key)
        return outcome

    # --- dry run ------------------------------------------------------------------------

    def _preview(
        self,
        since: datetime | None,
        message_ids: Sequence[str] | None,
        entity_ids: Collection[str] | None,
        summary: FlowSummary,
    ) -> FlowSummary:
        """Map what is waiting without writing anything; report what would happen."""
        with self.hub.begin() as hs:
            stmt = select(InboxMessage).where(
                InboxMessage.source_system == self.config.source_system,
                InboxMessage.status == InboxStatus.RECEIVED,
                InboxMessage.kind.in_(sorted(ORDER_TOPICS)),
            )
            if since is not None:
                stmt = stmt.where(InboxMessage.received_at >= since)
            if message_ids is not None:
                stmt = stmt.where(InboxMessage.id.in_(message_ids))
            messages = list(hs.session.scalars(stmt.order_by(InboxMessage.received_at)))
        if entity_ids is not None:
            wanted = set(entity_ids)
            messages = [m for m in messages if order_ids(m) & wanted]
        for message in messages:
            summary.read += 1
            try:
                mapped = woocommerce.map_order(_parse_json(message))
            except InvalidRecord as exc:
                summary.quarantined += 1
                summary.notes.append(f"would quarantine {message.id}: {exc}")
                continue
            summary.changed += 1
            summary.notes.append(
                f"would store order {mapped.order.order_number} for {mapped.customer.name}"
            )
        return summary


def _order_number(doc: object) -> str | None:
    if isinstance(doc, dict):
        number = doc.get("number") or doc.get("id")
        if isinstance(number, (str, int)) and not isinstance(number, bool):
            return str(number)[:255]
    return None


def _parse_json(message: InboxMessage) -> object:
    try:
        return json.loads(message.raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nesting
        raise InvalidRecord.single(
            message.source_system,
            f"message {message.id}",
            "",
            f"body is not valid JSON ({exc})",
            entity="order",
        ) from exc
