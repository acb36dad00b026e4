"""850 -> SalesOrder queued for the ERP; the ERP's answer -> the 855.

The 855 says what the ERP made of the order: accepted as ordered (AD, lines IA); accepted
with changed lines (AC: a line the ERP holds with another quantity IQ, price IP, both IC, a
line it dropped IR) when the ERP's order differs from the PO; or rejected (RJ, lines IR) with
the ERP's message when it refused the order for good (a credit check, a blocked customer, an
unknown item: a permanent Fault).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from canonical.errors import PermanentError, TransientError
from canonical.models import (
    Address,
    AddressKind,
    Customer,
    CustomerKind,
    Entity,
    OrderStatus,
    Record,
    SalesOrder,
)
from flows.distributor_orders.accounts import DRP, ERP, DistributorAccounts, golden_customer
from flows.processing import InboxProcessor, Processed, enqueue_change
from flows.pull import PullSpec
from flows.summary import FlowSummary
from hub.deliveries import DeliveryLedger
from hub.schema import Delivery, DeliveryStatus, InboxMessage, Xref
from hub.store import Hub, HubSession
from hub.views import save_view, views
from mappings import drp

FLOW_NAME = "distributor-orders"
ORDERS = PullSpec(system=DRP, stream="purchase_orders", kind="850")
ErpOrderReader = Callable[[str], Mapping[str, Any] | None]  # PO number -> the ERP's order
_X12_UNSAFE = str.maketrans({c: " " for c in "*~:>^|\\\r\n\t"})


def view_of(hs: HubSession, canonical_id: str, system: str) -> dict[str, Any]:
    return views(hs, canonical_id).get(system, ({}, None))[0]


def drp_key(hs: HubSession, order_id: str) -> tuple[str, str]:
    """(distributor, PO number) of an order that came in as an 850."""
    key = hs.external_id(Entity.SALES_ORDER, order_id, DRP)
    if key is None or "|" not in key:
        raise PermanentError(f"order {order_id} did not come from a distributor")
    distributor, _, po_number = key.partition("|")
    return distributor, po_number


def _buyer(doc: Mapping[str, Any], order: SalesOrder, name: str) -> Customer:
    given = doc.get("buyer")
    buyer: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    address: tuple[Address, ...] = ()
    if order.shipping_address is not None:
        address = (order.shipping_address.model_copy(update={"kind": AddressKind.BOTH}),)
    return Customer(
        kind=CustomerKind.ORGANISATION,
        name=name or str(buyer.get("name") or "") or order.customer_ref or "distributor",
        addresses=address,
        currency=order.currency,
    )


class OrderIntake(InboxProcessor):
    """An 850 -> the distributor's SalesOrder (customer: its golden customer) -> the ERP."""

    flow, system, kinds = FLOW_NAME, DRP, (ORDERS.kind,)
    id_fields = ("po_number",)  # besides its key <distributor>|<PO number>

    def __init__(self, hub: Hub, accounts: DistributorAccounts) -> None:
        super().__init__(hub)
        self.accounts = accounts

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        key, order = drp.sales_order_from_850(doc)
        distributor = key.partition("|")[0]
        account = self.accounts.of(distributor)
        customer = golden_customer(hs, distributor, account, _buyer(doc, order, account.name or ""))
        oid = hs.resolve(Entity.SALES_ORDER, DRP, key)
        known = oid is not None and hs.external_id(Entity.SALES_ORDER, oid, ERP) is not None
        outcome = hs.upsert(
            order.model_copy(update={"customer_id": customer}), canonical_id=oid, source_system=DRP
        )
        hs.link(Entity.SALES_ORDER, outcome.canonical_id, DRP, key)
        save_view(hs, outcome.canonical_id, DRP, {"po_date": doc.get("po_date")}, None)
        self.count(outcome, summary)
        cancelled = order.status is OrderStatus.CANCELLED
        if outcome.changed and (known or not cancelled):
            enqueue_change(hs, message, ERP, Entity.SALES_ORDER, outcome, order.order_number)
        return Processed(order.order_number, Entity.SALES_ORDER, outcome.canonical_id, outcome)


# -- the ERP's answer ---------------------------------------------------------------------------


def _type_names(base: type[Exception]) -> set[str]:
    names = {base.__name__}
    sub: type[Exception]
    for sub in base.__subclasses__():
        names |= _type_names(sub)
    return names


def refusal(error: str | None) -> str | None:
    """The ERP's reason when a dead letter's error is a permanent refusal, else None (the
    ERP unreachable until the retries ran out, a crash: not the distributor's business)."""
    kind, _, text = (error or "").partition(": ")
    if kind not in _type_names(PermanentError) or kind in _type_names(TransientError):
        return None
    reason = text.rpartition("SOAP Fault ")[2] if "SOAP Fault " in text else text
    reason = reason.partition(": ")[2] if reason.startswith(("a:", "s:")) else reason
    reason = reason.split(" (caused by ")[0]
    return " ".join(reason.translate(_X12_UNSAFE).split())[:600] or "refused by the ERP"


def _erp_lines(erp_order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lines: Any = erp_order.get("SalesLines") or []
    if isinstance(lines, Mapping):
        lines = lines.get("Sales_Order_Line") or []
    lines = lines if isinstance(lines, list) else [lines]
    return [x for x in lines if isinstance(x, Mapping) and x.get("Type") in (None, "Item")]


def line_changes(order: SalesOrder, erp_order: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The 855 lines that differ from the PO: the ERP's quantity and price of each."""
    if erp_order is None:  # already shipped, invoiced and so deleted: taken as ordered
        return []
    held = _erp_lines(erp_order)
    changes: list[dict[str, str]] = []
    for position, line in enumerate(order.lines):
        same_place = held[position] if position < len(held) else None
        erp = same_place if same_place is not None and same_place.get("No") == line.sku else None
        erp = erp or next((x for x in held if x.get("No") == line.sku), None)
        number = str(line.line_number)
        if erp is None:
            changes.append({"line_number": number, "status": "IR", "ack_quantity": "0"})
            continue
        quantity = Decimal(str(erp.get("Quantity") or 0))
        price = Decimal(str(erp.get("Unit_Price") or 0))
        other_quantity, other_price = quantity != line.quantity, price != line.unit_price.amount
        if other_quantity or other_price:
            status = "IC" if other_quantity and other_price else "IQ" if other_quantity else "IP"
            changes.append({"line_number": number, "status": status,
                            "ack_quantity": str(quantity), "unit_price": str(price)})  # fmt: skip
    return changes


@dataclass(frozen=True)
class _Answer:
    delivery_id: int
    message_id: str
    order_id: str
    taken: bool  # the ERP holds the order (else: a dead letter)
    error: str | None
    order: SalesOrder


def _answered(hs: HubSession) -> list[_Answer]:
    """ERP deliveries of distributor orders that are done (taken or dead) and unacknowledged."""
    erp, ack = aliased(Delivery), aliased(Delivery)
    stmt = (
        select(erp)
        .join(
            Xref,
            and_(
                Xref.canonical_id == erp.canonical_id,
                Xref.system == DRP,
                Xref.entity == Entity.SALES_ORDER,
            ),
        )
        .where(
            erp.target_system == ERP,
            erp.entity == Entity.SALES_ORDER,
            erp.status.in_((DeliveryStatus.DELIVERED, DeliveryStatus.DEAD)),
            ~exists().where(
                ack.message_id == erp.message_id,
                ack.target_system == DRP,
                ack.entity == Entity.SALES_ORDER,
            ),
        )
        .order_by(erp.id)
        .distinct()
    )
    answers = []
    for d in hs.session.scalars(stmt):
        order = hs.load(d.canonical_id, SalesOrder)
        assert isinstance(order, SalesOrder)
        taken = d.status == DeliveryStatus.DELIVERED
        answers.append(_Answer(d.id, d.message_id, d.canonical_id, taken, d.last_error, order))
    return answers


def acknowledge(hub: Hub, summary: FlowSummary, read_erp_order: ErpOrderReader | None) -> None:
    """Queue an 855 for every distributor order the ERP has answered; ``read_erp_order``
    (the ERP connector's look-up by PO number, when it has one) shows changed lines."""
    with hub.begin() as hs:
        answers = _answered(hs)
    erp_orders = {  # read outside any hub transaction
        a.delivery_id: read_erp_order(a.order.order_number)
        for a in answers
        if a.taken and read_erp_order is not None and a.order.status is not OrderStatus.CANCELLED
    }
    discard: list[tuple[int, str]] = []
    with hub.begin() as hs:
        for a in answers:
            if a.taken and a.order.status is OrderStatus.CANCELLED:
                continue  # the distributor cancelled it: nothing to acknowledge
            view: dict[str, Any] = {}
            if a.taken:
                status = OrderStatus.ACCEPTED
                view["changed_lines"] = line_changes(a.order, erp_orders.get(a.delivery_id))
            else:
                reason = refusal(a.error)
                if reason is None:
                    summary.notes.append(f"order {a.order.order_number}: ERP dead letter, no 855")
                    continue
                status, view["rejected"] = OrderStatus.CANCELLED, reason
                discard.append((a.delivery_id, reason))
            save_view(hs, a.order_id, ERP, view, None)
            outcome = hs.upsert(
                a.order.model_copy(update={"status": status}),
                canonical_id=a.order_id,
                source_system=ERP,
            )
            hs.enqueue(
                message_id=a.message_id, target_system=DRP, entity=Entity.SALES_ORDER,
                canonical_id=a.order_id, record_version=outcome.version,
                correlation_id=a.order.order_number,
            )  # fmt: skip
            summary.changed += 1
    ledger = DeliveryLedger(hub)
    for delivery_id, reason in discard:  # answered to the distributor: no longer a dead letter
        ledger.discard(delivery_id, actor=FLOW_NAME, reason=f"rejected in an 855: {reason}")


def po_ack(hs: HubSession, record: Record, known: str | None) -> Mapping[str, Any]:
    """The 855 of a distributor order: accepted (with changed lines), or rejected with the
    ERP's reason."""
    assert isinstance(record, SalesOrder) and record.id is not None
    distributor, _ = drp_key(hs, record.id)
    erp = view_of(hs, record.id, ERP)
    rejected = record.status is OrderStatus.CANCELLED
    changes = {c["line_number"]: c for c in erp.get("changed_lines") or []}
    ack = drp.po_ack_from_order(
        record,
        distributor=distributor,
        po_date=view_of(hs, record.id, DRP).get("po_date"),
        ack_type="AC" if changes and not rejected else None,
        reason=erp.get("rejected") if rejected else None,
    )
    if changes and not rejected:
        ack["lines"] = [line | changes.get(str(line["line_number"]), {}) for line in ack["lines"]]
    return ack
