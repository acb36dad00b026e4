"""The CRM's modules as SuiteCRM's V8 API shows them: bean names, attributes and links.

Attribute values are strings, as SuiteCRM returns them (``"deleted": "0"``, ``"amount":
"12500"``); datetimes are ISO 8601 with an offset (``2025-03-01T09:30:00+00:00``), dates
``YYYY-MM-DD``. ``id`` is not an attribute; it is the resource's ``id``.
"""

from __future__ import annotations

from dataclasses import dataclass

_COMMON = (
    "name",
    "date_entered",
    "date_modified",
    "modified_user_id",
    "modified_by_name",
    "created_by",
    "created_by_name",
    "description",
    "deleted",
    "assigned_user_id",
    "assigned_user_name",
)


def _address(prefix: str) -> tuple[str, ...]:
    return tuple(
        f"{prefix}_address_{part}" for part in ("street", "city", "state", "postalcode", "country")
    )


@dataclass(frozen=True)
class Module:
    name: str  # the module, as in URLs and request types: "Accounts"
    bean: str  # the bean's object name, the ``type`` of responses: "Account"
    fields: tuple[str, ...]
    links: dict[str, str]  # link field name -> related module


_ACTIVITY_LINKS = {"notes": "Notes", "calls": "Calls"}

MODULES: dict[str, Module] = {
    m.name: m
    for m in (
        Module(
            "Accounts",
            "Account",
            (
                *_COMMON,
                "account_type",
                "industry",
                "annual_revenue",
                "employees",
                "ownership",
                "rating",
                "sic_code",
                "ticker_symbol",
                "phone_office",
                "phone_fax",
                "phone_alternate",
                "website",
                "email1",
                "parent_id",
                *_address("billing"),
                *_address("shipping"),
            ),
            {"contacts": "Contacts", "cases": "Cases", "opportunities": "Opportunities"}
            | _ACTIVITY_LINKS,
        ),
        Module(
            "Contacts",
            "Contact",
            (
                *_COMMON,
                "salutation",
                "first_name",
                "last_name",
                "title",
                "department",
                "do_not_call",
                "phone_home",
                "phone_mobile",
                "phone_work",
                "phone_other",
                "phone_fax",
                "email1",
                "lead_source",
                "birthdate",
                "account_id",
                "account_name",
                *_address("primary"),
                *_address("alt"),
            ),
            {"accounts": "Accounts", "cases": "Cases", "opportunities": "Opportunities"}
            | _ACTIVITY_LINKS,
        ),
        Module(
            "Leads",
            "Lead",
            (
                *_COMMON,
                "salutation",
                "first_name",
                "last_name",
                "title",
                "department",
                "account_name",
                "account_description",
                "do_not_call",
                "phone_home",
                "phone_mobile",
                "phone_work",
                "phone_other",
                "phone_fax",
                "email1",
                "website",
                "lead_source",
                "lead_source_description",
                "status",
                "status_description",
                "converted",
                "refered_by",
                "birthdate",
                "account_id",
                "contact_id",
                "opportunity_id",
                "campaign_id",
                *_address("primary"),
                *_address("alt"),
            ),
            {"accounts": "Accounts", "contacts": "Contacts"} | _ACTIVITY_LINKS,
        ),
        Module(
            "Cases",
            "Case",
            (
                *_COMMON,
                "case_number",
                "type",
                "status",
                "priority",
                "state",
                "resolution",
                "work_log",
                "account_id",
                "account_name",
            ),
            {"accounts": "Accounts", "contacts": "Contacts"} | _ACTIVITY_LINKS,
        ),
        Module(
            "Opportunities",
            "Opportunity",
            (
                *_COMMON,
                "opportunity_type",
                "lead_source",
                "amount",
                "amount_usdollar",
                "currency_id",
                "date_closed",
                "next_step",
                "sales_stage",
                "probability",
                "account_id",
                "account_name",
            ),
            {"accounts": "Accounts", "contacts": "Contacts"} | _ACTIVITY_LINKS,
        ),
        Module(
            "Notes",
            "Note",
            (
                *_COMMON,
                "file_mime_type",
                "filename",
                "parent_type",
                "parent_id",
                "contact_id",
                "portal_flag",
                "embed_flag",
            ),
            {"accounts": "Accounts", "contacts": "Contacts", "cases": "Cases", "leads": "Leads"},
        ),
        Module(
            "Calls",
            "Call",
            (
                *_COMMON,
                "duration_hours",
                "duration_minutes",
                "date_start",
                "date_end",
                "parent_type",
                "parent_id",
                "status",
                "direction",
            ),
            {"accounts": "Accounts", "contacts": "Contacts", "cases": "Cases"},
        ),
    )
}

# Custom fields, as SuiteCRM's Studio adds them (with the ``_c`` suffix) to every module: the
# key an integration writes with a record and finds it by again (Tandem's hub key, the web
# shop's number...).
CUSTOM_FIELDS = ("tandem_key_c",)
# Custom fields of one module: the credit limit many CRMs show on an account (read-only for
# sales; the ERP owns it).
MODULE_CUSTOM_FIELDS = {"Accounts": ("credit_limit_c",)}
MODULES = {
    name: Module(
        spec.name,
        spec.bean,
        spec.fields + CUSTOM_FIELDS + MODULE_CUSTOM_FIELDS.get(name, ()),
        spec.links,
    )
    for name, spec in MODULES.items()
}
# Modules whose account_name is a text field of their own (a lead's company), not the name
# of a related account.
OWN_ACCOUNT_NAME = frozenset({"Leads"})

DATETIME_FIELDS = frozenset({"date_entered", "date_modified", "date_start", "date_end"})
DATE_FIELDS = frozenset({"date_closed", "birthdate"})
# Set by the CRM itself; a request that sends them is ignored for these, as SuiteCRM does.
SYSTEM_FIELDS = frozenset({"date_entered", "deleted", "case_number", "account_name"})


def link_between(module: str, related: str) -> str | None:
    """The link field of ``module`` that leads to ``related`` (SuiteCRM's getLinkedFieldName)."""
    for link, target in MODULES[module].links.items():
        if target == related:
            return link
    return None
