"""Leads and campaign responses (flow 7): web shop sign-ups -> CRM leads; coupons -> CRM notes.

The flow works on what the hub already holds (the customer sync brings the shop's accounts,
the order flow its orders), in two steps:

1. notice: web shop views changed since the flow's cursor whose golden customer is a
   prospect (``flows/customers/prospects.py``: only the shop knows it, no order) become
   ``signup`` messages; orders changed since the other cursor become ``coupon`` messages (one
   per coupon code used) and, when their customer has an open lead, ``converted`` messages.
   Each is an inbox message of the system ``leads`` whose dedupe key is its content, so
   noticing twice changes nothing; the cursor moves in the same transaction;
2. process (``LeadProcessor``): a sign-up is a canonical Lead (``source``: ``newsletter`` with
   the marketing consent, else ``webshop-signup``) -> a CRM Leads record; a coupon is a
   CampaignResponse -> a Note on the customer's CRM contact or account (the sandbox CRM, like
   many SuiteCRM installations, has no campaign log to write to); an order of a lead's person
   (found by the shop account, else by e-mail) converts the lead: the golden customer goes to
   the CRM as its contact (written before the lead, found there by e-mail when a user entered
   it, so never doubled) and the CRM lead is marked converted and linked to that contact.

docs/flows/leads.md describes the choices.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from canonical.errors import PermanentError
from canonical.models import (
    CampaignResponse,
    Customer,
    CustomerKind,
    Entity,
    Lead,
    Record,
    SalesOrder,
)
from flows.customers.config import SyncConfig
from flows.customers.prospects import is_prospect
from flows.customers.targets import lazy_handler
from flows.delivery import Handler
from flows.processing import InboxProcessor, Processed
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary
from flows.targets import ConnectorTarget
from hub.schema import CanonicalRecord, InboxMessage, SourceView
from hub.store import Hub, HubSession, IncomingMessage
from hub.views import receive, views
from mappings import crm

NAME = "leads"
SYSTEM = "leads"  # the inbox system of the messages this flow notices in the hub
SHOP = "webshop"
EMAIL = "email"  # leads are also cross-referenced by e-mail address, to find them by it
_BATCH = 200


# -- 1. notice ---------------------------------------------------------------------------------


def _note(hs: HubSession, kind: str, body: dict[str, Any], correlation: str | None) -> bool:
    text = json.dumps(body, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    message = IncomingMessage(
        source_system=SYSTEM,
        kind=kind,
        dedupe_key=f"leads:{kind}:{digest}",
        body=text.encode(),
        correlation_id=correlation,
    )
    return not receive(hs, message).duplicate


def _since(hs: HubSession, name: str, full: bool) -> datetime | None:
    value = None if full else hs.get_cursor(name)
    return datetime.fromisoformat(value) if value else None


def notice_signups(hub: Hub, config: SyncConfig, *, full: bool = False) -> int:
    noticed = 0
    while True:
        with hub.begin() as hs:
            since = _since(hs, "leads.webshop_views", full)
            stmt = select(SourceView.canonical_id, SourceView.payload, SourceView.updated_at)
            stmt = stmt.where(SourceView.system == SHOP)
            if since is not None:
                stmt = stmt.where(SourceView.updated_at >= since)
            rows = hs.session.execute(stmt.order_by(SourceView.updated_at).limit(_BATCH)).all()
            for cid, payload, _at in rows:
                if is_prospect(hs, cid, config):
                    email = json.loads(payload).get("email")
                    noticed += _note(hs, "signup", {"customer_id": cid, "view": payload}, email)
            if rows:
                hs.set_cursor("leads.webshop_views", rows[-1][2].isoformat())
        full = False
        if len(rows) < _BATCH:
            return noticed


def notice_orders(hub: Hub, *, full: bool = False) -> int:
    noticed = 0
    while True:
        with hub.begin() as hs:
            since = _since(hs, "leads.sales_orders", full)
            stmt = select(CanonicalRecord).where(CanonicalRecord.entity == Entity.SALES_ORDER)
            if since is not None:
                stmt = stmt.where(CanonicalRecord.updated_at >= since)
            rows = list(hs.session.scalars(stmt.order_by(CanonicalRecord.updated_at).limit(_BATCH)))
            for row in rows:
                order = SalesOrder.model_validate_json(row.payload)
                body = {"order_id": row.id, "hash": row.content_hash}
                # the conversion first: it brings the customer into the CRM, where the
                # coupon's note goes
                if order.customer_id and _lead_of(hs, order.customer_id) is not None:
                    noticed += _note(hs, "converted", body, order.order_number)
                for code in order.coupon_codes:
                    noticed += _note(hs, "coupon", body | {"code": code}, order.order_number)
            if rows:
                hs.set_cursor("leads.sales_orders", rows[-1].updated_at.isoformat())
        full = False
        if len(rows) < _BATCH:
            return noticed


def _lead_of(hs: HubSession, customer_id: str) -> str | None:
    """The lead of a golden customer: by its shop account, else by its e-mail address."""
    shop_key = hs.external_id(Entity.CUSTOMER, customer_id, SHOP)
    lead = hs.resolve(Entity.LEAD, SHOP, shop_key) if shop_key else None
    if lead is None:
        row = hs.get(customer_id)
        email = json.loads(row.payload).get("email") if row is not None else None
        lead = hs.resolve(Entity.LEAD, EMAIL, email) if email else None
    return lead


# -- 2. process ---------------------------------------------------------------------------------


class LeadProcessor(InboxProcessor):
    flow, system, kinds = NAME, SYSTEM, ("signup", "coupon", "converted")

    def __init__(self, hub: Hub, config: SyncConfig) -> None:
        super().__init__(hub)
        self.config = config

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        if message.kind == "signup":
            return self._signup(hs, message, str(doc["customer_id"]), summary)
        order = hs.load(str(doc["order_id"]), SalesOrder)
        assert isinstance(order, SalesOrder)
        if order.customer_id is None:
            raise PermanentError(f"order {order.order_number} has no resolved customer")
        if message.kind == "coupon":
            return self._coupon(hs, message, order, str(doc["code"]), summary)
        return self._converted(hs, message, order, summary)

    def _signup(
        self, hs: HubSession, message: InboxMessage, cid: str, summary: FlowSummary
    ) -> Processed:
        customer = hs.load(cid, Customer)
        assert isinstance(customer, Customer)
        shop_key = hs.external_id(Entity.CUSTOMER, cid, SHOP)
        if customer.email is None or shop_key is None or not is_prospect(hs, cid, self.config):
            summary.unchanged += 1  # a customer by now, or nobody to write to
            return Processed(customer.email, Entity.CUSTOMER, cid)
        held = views(hs, cid)[SHOP]
        lead = Lead(
            email=customer.email,
            first_name=customer.first_name,
            last_name=customer.last_name,
            company=customer.name if customer.kind is CustomerKind.ORGANISATION else None,
            source="newsletter" if customer.marketing_consent else "webshop-signup",
            marketing_consent=customer.marketing_consent,
            customer_id=cid,
            updated_at=held[1],
        )
        known = hs.resolve(Entity.LEAD, SHOP, shop_key)
        outcome = hs.upsert(lead, canonical_id=known, source_system=SHOP)
        hs.link(Entity.LEAD, outcome.canonical_id, SHOP, shop_key)
        hs.link(Entity.LEAD, outcome.canonical_id, EMAIL, customer.email)
        self._deliver(
            hs,
            message,
            Entity.LEAD,
            outcome.canonical_id,
            outcome.version,
            customer.email,
            outcome.changed,
            summary,
        )
        return Processed(customer.email, Entity.LEAD, outcome.canonical_id, outcome)

    def _converted(
        self, hs: HubSession, message: InboxMessage, order: SalesOrder, summary: FlowSummary
    ) -> Processed:
        assert order.customer_id is not None
        lead_id = _lead_of(hs, order.customer_id)
        if lead_id is None:
            summary.unchanged += 1
            return Processed(order.order_number)
        lead = hs.load(lead_id, Lead)
        assert isinstance(lead, Lead)
        if lead.customer_id != order.customer_id:  # a guest order made a second customer
            hs.event(
                "identity",
                message_id=message.id,
                correlation_id=order.order_number,
                detail=f"lead {lead_id}: ordered as {order.customer_id}, signed up as "
                f"{lead.customer_id} (same e-mail address)",
            )
        person = lead.customer_id or order.customer_id
        row = hs.get(person)
        if row is not None and hs.external_id(Entity.CUSTOMER, person, "crm") is None:
            # now a customer: into the CRM as its contact, before the lead names it
            hs.enqueue(
                message_id=message.id,
                target_system="crm",
                entity=Entity.CUSTOMER,
                canonical_id=person,
                record_version=row.version,
                correlation_id=order.order_number,
            )
        stamps = [t for t in (lead.updated_at, order.updated_at) if t is not None]
        converted = lead.model_copy(
            update={"status": "converted", "updated_at": max(stamps, default=None)}
        )
        outcome = hs.upsert(converted, canonical_id=lead_id, source_system=SHOP)
        self._deliver(
            hs,
            message,
            Entity.LEAD,
            lead_id,
            outcome.version,
            order.order_number,
            outcome.changed,
            summary,
        )
        return Processed(order.order_number, Entity.LEAD, lead_id, outcome)

    def _coupon(
        self,
        hs: HubSession,
        message: InboxMessage,
        order: SalesOrder,
        code: str,
        summary: FlowSummary,
    ) -> Processed:
        assert order.customer_id is not None
        customer = hs.load(order.customer_id, Customer)
        assert isinstance(customer, Customer)
        response = CampaignResponse(
            campaign=code,
            customer_id=order.customer_id,
            lead_id=_lead_of(hs, order.customer_id),
            email=customer.email,
            order_number=order.order_number,
            responded_at=order.ordered_at,
            channel=SHOP,
            updated_at=order.ordered_at,
        )
        key = f"{order.order_number}:{code}"
        outcome = hs.upsert(
            response,
            canonical_id=hs.resolve(Entity.CAMPAIGN_RESPONSE, SHOP, key),
            source_system=SHOP,
        )
        hs.link(Entity.CAMPAIGN_RESPONSE, outcome.canonical_id, SHOP, key)
        self._deliver(
            hs,
            message,
            Entity.CAMPAIGN_RESPONSE,
            outcome.canonical_id,
            outcome.version,
            order.order_number,
            outcome.changed,
            summary,
        )
        return Processed(
            order.order_number, Entity.CAMPAIGN_RESPONSE, outcome.canonical_id, outcome
        )

    @staticmethod
    def _deliver(
        hs: HubSession,
        message: InboxMessage,
        entity: Entity,
        cid: str,
        version: int,
        correlation: str | None,
        changed: bool,
        summary: FlowSummary,
    ) -> None:
        if not changed:
            summary.unchanged += 1
            return
        summary.changed += 1
        hs.enqueue(
            message_id=message.id,
            target_system="crm",
            entity=entity,
            canonical_id=cid,
            record_version=version,
            correlation_id=correlation,
        )


# -- delivery to the CRM ------------------------------------------------------------------------


def _crm_parent(hs: HubSession, customer_id: str | None, lead_id: str | None) -> tuple[str, str]:
    """(key, module) of the CRM record a note belongs to: the customer's, else the lead."""
    if customer_id and hs.external_id(Entity.CUSTOMER, customer_id, "crm") is not None:
        customer = hs.load(customer_id, Customer)
        assert isinstance(customer, Customer)
        person = customer.kind is CustomerKind.PERSON
        return customer_id, "Contacts" if person else "Accounts"
    if lead_id:
        return lead_id, "Leads"
    raise PermanentError(f"customer {customer_id}: neither in the CRM nor a lead")


def lead_to_crm(hs: HubSession, record: Record, known: str | None) -> dict[str, Any]:
    assert isinstance(record, Lead) and record.id is not None
    contact = None  # the contact's key in the CRM is the golden customer's id
    person = record.customer_id
    if record.status == "converted" and person and hs.external_id(Entity.CUSTOMER, person, "crm"):
        contact = person
    return crm.lead_to_crm(record, key=record.id, contact_key=contact)


def response_to_crm(hs: HubSession, record: Record, known: str | None) -> dict[str, Any]:
    assert isinstance(record, CampaignResponse)
    key, module = _crm_parent(hs, record.customer_id, record.lead_id)
    return crm.campaign_note(record, parent_key=key, parent_module=module)


def handlers(services: Services) -> HandlerMap:
    def target(entity: Entity, model: type[Record], stream: str, to: Any) -> Handler:
        return lazy_handler(
            lambda: ConnectorTarget(
                "crm", entity, model, services.connector("crm"), stream, to
            ).handler(services.hub)
        )

    return {
        ("crm", Entity.LEAD): target(Entity.LEAD, Lead, "leads", lead_to_crm),
        ("crm", Entity.CAMPAIGN_RESPONSE): target(
            Entity.CAMPAIGN_RESPONSE, CampaignResponse, "notes", response_to_crm
        ),
    }


# -- the run --------------------------------------------------------------------------------


def process(services: Services, options: RunOptions) -> FlowSummary:
    """Notice what the hub holds that is new, and turn it into leads and responses."""
    config = SyncConfig.load()
    summary = FlowSummary(NAME)
    if not options.message_ids:
        noticed = notice_signups(services.hub, config, full=options.full)
        noticed += notice_orders(services.hub, full=options.full)
        summary.notes.append(f"noticed {noticed} new sign-up(s), coupon(s) and conversion(s)")
    LeadProcessor(services.hub, config).run(
        message_ids=options.message_ids, entity_ids=options.entity_ids, summary=summary
    )
    return summary


def run(services: Services, options: RunOptions) -> FlowSummary:
    if options.dry_run:
        return FlowSummary(NAME, notes=["dry run: nothing noticed, stored or delivered"])
    summary = process(services, options)
    from flows.registry import deliver_due  # the registry imports every flow module

    summary.merge(deliver_due(services, options))  # to the chosen targets only
    summary.flow = NAME
    return summary


FLOW = FlowSpec(
    name=NAME,
    description="Web shop sign-ups and newsletter consents without an order -> CRM leads "
    "(converted when they order); coupons used at checkout -> campaign responses in the CRM",
    source="hub",
    targets=("crm",),
    run=run,
    handlers=handlers,
    schedule="*/15 * * * *",
    tags=("customers", "marketing"),
)
