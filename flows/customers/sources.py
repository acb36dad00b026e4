"""Each system's customer records -> canonical customers, through that system's mappings.

A ``SourceRecord`` is one system's customer: its id there, the canonical customer, when the
system changed it, and (CRM contacts of an account) the account it belongs to. Contacts of an
account are the account's contact persons, not customers of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from canonical.errors import InvalidRecord
from canonical.models import Contact, Customer
from flows.pull import PullSpec
from mappings import crm, erp_sql, nav, tryton, woocommerce


@dataclass(frozen=True)
class SourceRecord:
    key: str
    customer: Customer
    at: datetime | None
    account_key: str | None = None  # a CRM contact person: its account's CRM id
    ordered: bool = False  # the web shop says it has paid for an order

    def as_contact(self) -> Contact:
        c = self.customer
        return Contact(first_name=c.first_name, last_name=c.last_name, email=c.email, phone=c.phone)


def _doc(doc: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InvalidRecord.single("hub", what, "", "the record is not a JSON object")
    return doc


def from_webshop(doc: Any) -> SourceRecord:
    key, customer = woocommerce.map_customer(_doc(doc, "webshop customer"))
    return SourceRecord(
        key, customer, customer.updated_at, ordered=bool(doc.get("is_paying_customer"))
    )


def from_crm_account(doc: Any) -> SourceRecord:
    key, customer = crm.customer_from_account(_doc(doc, "crm account"))
    return SourceRecord(key, customer, customer.updated_at)


def from_crm_contact(doc: Any) -> SourceRecord:
    key, customer = crm.customer_from_contact(_doc(doc, "crm contact"))
    account = str(doc.get("account_id") or "") or None
    return SourceRecord(key, customer, customer.updated_at, account_key=account)


def from_nav(doc: Any) -> SourceRecord:
    customer = nav.customer_from_nav(_doc(doc, "erp customer"))
    return SourceRecord(str(doc.get("No")), customer, customer.updated_at)


def from_tryton(doc: Any) -> SourceRecord:
    customer = tryton.customer_from_tryton(_doc(doc, "tryton party"))
    key = tryton.key_of("party", doc) or str(doc.get("id"))
    return SourceRecord(key, customer, customer.updated_at)


def from_erp_sql(doc: Any) -> SourceRecord:
    customer = erp_sql.customer_from_staging(_doc(doc, "erp_sql customer"))
    return SourceRecord(str(doc.get("customer_no")), customer, customer.updated_at)


Mapper = Callable[[Any], SourceRecord]


@dataclass(frozen=True)
class Source:
    """One stream of one system: what to pull, how to map it, and (``version_field``) the
    field holding the version its connector reports (and acks a write with)."""

    pull: PullSpec
    mapper: Mapper
    kinds: tuple[str, ...]  # inbox kinds it maps (pulled, and pushed by webhooks)
    version_field: str | None = None

    def version(self, doc: Any) -> str | None:
        if self.version_field is None or not isinstance(doc, Mapping):
            return None
        value = doc.get(self.version_field)
        return None if value in (None, "") else str(value)


ERP_SOURCES: dict[str, Source] = {
    "erp_soap": Source(
        PullSpec("erp_soap", "customers", "customer"), from_nav, ("customer",), "Key"
    ),
    "erp_tryton": Source(PullSpec("erp_tryton", "parties", "party"), from_tryton, ("party",)),
    "erp_sql": Source(PullSpec("erp_sql", "customers", "customer"), from_erp_sql, ("customer",)),
}
WEBSHOP = Source(
    PullSpec("webshop", "customers", "customer"),
    from_webshop,
    ("customer", "customer.created", "customer.updated"),
    "date_modified_gmt",
)
CRM_ACCOUNTS = Source(
    PullSpec("crm", "accounts", "account"), from_crm_account, ("account",), "date_modified"
)
CRM_CONTACTS = Source(
    PullSpec("crm", "contacts", "contact"), from_crm_contact, ("contact",), "date_modified"
)


def sources(erp_system: str) -> list[Source]:
    """In processing order: the ERP, CRM accounts before their contacts, the web shop."""
    try:
        erp = ERP_SOURCES[erp_system]
    except KeyError:
        known = ", ".join(ERP_SOURCES)
        raise ValueError(f"no customer source for ERP {erp_system!r} (known: {known})") from None
    return [erp, CRM_ACCOUNTS, CRM_CONTACTS, WEBSHOP]
