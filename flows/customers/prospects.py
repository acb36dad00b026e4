"""Prospects: golden customers only the web shop knows, who have not ordered yet.

A web shop account without an order is a sign-up, not yet a customer: the CRM gets it as a
Lead (``flows/leads.py``), not as a Contact. It becomes a customer (and a CRM contact) once the
CRM or the ERP holds it, the shop says it paid for an order, or the hub holds an order of it.
"""

from __future__ import annotations

from sqlalchemy import select

from canonical.models import Entity
from flows.customers.config import SyncConfig
from hub.schema import CanonicalRecord, Xref
from hub.store import HubSession
from hub.views import views


def has_order(hs: HubSession, customer_id: str) -> bool:
    """The hub holds a sales order of this customer (any source)."""
    found = hs.session.scalar(
        select(CanonicalRecord.id)
        .where(
            CanonicalRecord.entity == Entity.SALES_ORDER,
            CanonicalRecord.payload.contains(f'"customer_id":"{customer_id}"'),
        )
        .limit(1)
    )
    return found is not None


def is_prospect(hs: HubSession, customer_id: str, config: SyncConfig) -> bool:
    systems = hs.session.scalars(
        select(Xref.system).where(Xref.canonical_id == customer_id, Xref.entity == Entity.CUSTOMER)
    )
    if any(config.role(s) in ("crm", "erp") for s in systems):
        return False
    shop = views(hs, customer_id).get("webshop")
    if shop is None or shop[0].get("_ordered"):
        return False
    return not has_order(hs, customer_id)
