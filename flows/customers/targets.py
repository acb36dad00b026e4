"""Golden customers -> the CRM and the ERP.

- ERP: a ``ConnectorTarget`` on the ERP's customer stream, mapped by the ERP's mapping (NAV
  Customer page, Tryton party, staging row), with the ERP's number when known.
- CRM: an organisation is an Account and its contact persons Contacts linked to it; a person
  is one Contact (``mappings/crm``). ``CrmCustomerTarget`` writes them in that order as ONE
  delivery with one payload hash: unchanged content is not sent again. A record the CRM
  already has is written by its CRM id (the xref), so a customer whose e-mail changed is
  updated, not doubled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from canonical.errors import PermanentError
from canonical.models import Customer, Entity, Record
from connectors.base import Ack, Connector, Rejected
from flows.delivery import Delivered, Handler, Link
from flows.targets import ConnectorTarget, payload_hash
from hub.store import DeliveryTask, Hub, HubSession
from hub.views import sent_hash
from mappings import crm, erp_sql, nav, tryton

ErpMapper = Callable[[Customer, str | None], Mapping[str, Any]]

ERP_MAPPERS: dict[str, tuple[str, ErpMapper]] = {
    "erp_soap": ("customers", lambda c, no: nav.customer_to_nav(c, no=no)),
    "erp_tryton": ("parties", lambda c, code: tryton.party_to_tryton(c, code=code)),
    "erp_sql": ("customers", lambda c, no: erp_sql.customer_to_staging(c, customer_no=no)),
}


def erp_target(system: str, connector: Connector) -> ConnectorTarget:
    stream, mapper = ERP_MAPPERS[system]

    def to_target(hs: HubSession, record: Record, known: str | None) -> Mapping[str, Any]:
        assert isinstance(record, Customer)
        return mapper(record, known)

    return ConnectorTarget(system, Entity.CUSTOMER, Customer, connector, stream, to_target)


def lazy_handler(build: Callable[[], Handler]) -> Handler:
    """A handler built at its first delivery (so a connection that is not configured fails
    only the deliveries that need it, not every flow's delivery worker)."""
    made: list[Handler] = []

    def deliver(task: DeliveryTask) -> Delivered:
        if not made:
            made.append(build())
        return made[0](task)

    return deliver


def _one(system: str, stream: str, outcome: list[Any]) -> Ack:
    if len(outcome) != 1:
        raise PermanentError(f"{system} {stream}: {len(outcome)} answers for 1 record")
    answer = outcome[0]
    if isinstance(answer, Rejected):
        raise answer.error
    assert isinstance(answer, Ack)
    return answer


@dataclass
class CrmCustomerTarget:
    connector: Connector
    system: str = crm.SYSTEM

    def handler(self, hub: Hub) -> Handler:
        def deliver(task: DeliveryTask) -> Delivered:
            return self.deliver(hub, task)

        return deliver

    def payload(self, hs: HubSession, cid: str) -> tuple[dict[str, Any], str | None]:
        customer = hs.load(cid, Customer)
        assert isinstance(customer, Customer)
        known = hs.external_id(Entity.CUSTOMER, cid, self.system)
        mapped = crm.customer_to_crm(customer, key=cid)
        account = dict(mapped.account) if mapped.account is not None else None
        contacts = [dict(c) for c in mapped.contacts]
        if known is not None:  # write the record the CRM already has, found by its id
            (account if account is not None else contacts[0])["id"] = known
        return {"account": account, "contacts": contacts}, known

    def deliver(self, hub: Hub, task: DeliveryTask) -> Delivered:
        cid = task.canonical_id
        with hub.begin() as hs:
            payload, known = self.payload(hs, cid)
            digest = payload_hash(payload)
            if known is not None and sent_hash(hs, Entity.CUSTOMER, cid, self.system) == digest:
                return Delivered(known, detail="unchanged: not sent again", skipped=True)
        main: Ack | None = None
        if payload["account"] is not None:
            main = _one(
                self.system, "accounts", self.connector.write("accounts", [payload["account"]])
            )
        for contact in payload["contacts"]:
            ack = _one(self.system, "contacts", self.connector.write("contacts", [contact]))
            main = main or ack
        if main is None:
            raise PermanentError(f"customer {cid}: nothing to write to the CRM")
        link = Link(
            Entity.CUSTOMER, cid, self.system, main.external_id, main.version, sent_hash=digest
        )
        return Delivered(main.external_id, links=(link,), detail="created" if main.created else "")


def shapes(erp_system: str) -> dict[str, Callable[[Customer], Any]]:
    """Each target's shape of a customer (what its mapping writes), by system."""
    _, erp_mapper = ERP_MAPPERS[erp_system]
    return {
        crm.SYSTEM: lambda c: crm.customer_to_crm(c, key=""),
        erp_system: lambda c: erp_mapper(c, None),
    }
