"""Suite 5 — SQL metacharacters and Unicode edge cases in names and addresses round-trip
unchanged through the staging-table ERP (``erp_sql`` on SQLite, PostgreSQL and MariaDB) and
the CRM (the SuiteCRM-shaped sandbox, which HTML-encodes the texts its API returns as SuiteCRM
does): a canonical customer whose name, street, second street line and city (and, for a
person, first and last name) are one edge text goes through the mapping and the connector's
write into the peer, which must hold the text as it is; the connector's read and the mapping
back give a canonical customer with exactly the same texts, and writing it again changes
nothing in the peer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from canonical.models import Address, AddressKind, Customer, CustomerKind
from connectors.base import Ack, Connector
from connectors.crm import CrmConnector, CrmSettings
from connectors.transports.retry import RetryPolicy
from mappings.crm import customer_from_account, customer_from_contact, customer_to_crm
from mappings.erp_sql import customer_from_staging, customer_to_staging
from sandbox.crm import CrmHandle
from sandbox.crm import start_in_thread as start_crm
from tests.connectors.test_erp_sql_support import BACKENDS, open_staging
from tests.reliability.figures import Figures, record
from tests.reliability.hostile_cases import EDGE_TEXT

FAST = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05, jitter=0.0)
PERSON_OFFSET = 100  # persons are edge<100 + n>@example.com


def edge_customer(n: int, text: str, kind: CustomerKind) -> Customer:
    person = kind == CustomerKind.PERSON
    return Customer(
        kind=kind,
        name=f"{text} {text}" if person else text,
        first_name=text if person else None,
        last_name=text if person else None,
        email=f"edge{n}@example.com",
        addresses=(
            Address(kind=AddressKind.BILLING, street=text, street2=text, city=text, country="DE"),
        ),
    )


def differences(sent: Customer, back: Customer) -> list[str]:
    """The texts that did not come back as they were sent."""
    fields = ("name", "first_name", "last_name")
    wrong = [f"{f}: {getattr(back, f)!r}" for f in fields if getattr(back, f) != getattr(sent, f)]
    if len(back.addresses) != 1:
        return [*wrong, f"addresses: {back.addresses!r}"]
    here, there = sent.addresses[0], back.addresses[0]
    parts = ("street", "street2", "city")
    return wrong + [
        f"{p}: {getattr(there, p)!r}" for p in parts if getattr(there, p) != getattr(here, p)
    ]


def _read(connector: Connector, stream: str, cursor: str | None = None) -> list[dict[str, object]]:
    return [dict(r.data) for page in connector.read(stream, cursor) for r in page.records]


def books(suite: str, sent: dict[str, Customer], back: dict[str, Customer]) -> dict[str, object]:
    """Records the suite's figures and returns each customer that did not come back
    unchanged, with what came back instead."""
    wrong: dict[str, object] = {e: "not read back" for e in sent if e not in back}
    for email, customer in sent.items():
        if email in back and (problems := differences(customer, back[email])):
            wrong[email] = problems
    record(Figures(suite, len(sent), delivered=len(sent) - len(wrong), lost=len(wrong)))
    return wrong


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_edge_text_round_trips_through_the_staging_erp(backend: str, tmp_path: Path) -> None:
    with open_staging(backend, tmp_path) as staging:
        connector = staging.connector(retry=FAST)
        try:
            cursor = None
            for page in connector.read("customers", None):  # the 5 customers already there
                cursor = page.cursor if page.cursor is not None else cursor
            sent = {
                f"edge{n}@example.com": edge_customer(n, text, CustomerKind.ORGANISATION)
                for n, text in enumerate(EDGE_TEXT)
            }
            rows = [
                customer_to_staging(c, ext_customer_id=f"edge-{n}")
                for n, c in enumerate(sent.values())
            ]
            assert all(isinstance(o, Ack) for o in connector.write("customers", rows))
            stored = {r["ext_customer_id"]: r for r in staging.rows("erp_customer_in")}
            assert staging.erp.run_import().customers == len(EDGE_TEXT)
            back = {
                str(c.email): c
                for c in map(customer_from_staging, _read(connector, "customers", cursor))
            }
            again = connector.write("customers", rows)
        finally:
            connector.close()
    for n, text in enumerate(EDGE_TEXT):  # the ERP's import table holds the text itself
        row = stored[f"edge-{n}"]
        assert (row["name"], row["address"], row["address_2"], row["city"]) == (text,) * 4
    assert [(o.created, o.key) for o in again if isinstance(o, Ack)] == [
        (False, f"edge-{n}") for n in range(len(EDGE_TEXT))
    ]
    wrong = books("5 SQL/Unicode round trip (erp_sql)", sent, back)
    assert not wrong, wrong


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_crm(seed=0)
    yield handle
    handle.stop()


def test_edge_text_round_trips_through_the_crm(crm: CrmHandle) -> None:
    settings = CrmSettings(
        base_url=crm.api_url,
        client_id=crm.client_id,
        client_secret=SecretStr(crm.client_secret),
        page_size=7,
        retry=FAST,
    )
    sent: dict[str, Customer] = {}
    writes: list[tuple[str, dict[str, object]]] = []
    for n, text in enumerate(EDGE_TEXT):
        for kind, number in (
            (CustomerKind.ORGANISATION, n),
            (CustomerKind.PERSON, PERSON_OFFSET + n),
        ):
            customer = edge_customer(number, text, kind)
            sent[str(customer.email)] = customer
            records = customer_to_crm(customer, key=f"edge-{number}")
            if records.account is not None:
                writes.append(("accounts", records.account))
            writes += [("contacts", contact) for contact in records.contacts]
    connector = CrmConnector(settings)
    try:
        first = [connector.write(stream, [r])[0] for stream, r in writes]
        accounts = [customer_from_account(r)[1] for r in _read(connector, "accounts")]
        contacts = [customer_from_contact(r)[1] for r in _read(connector, "contacts")]
        again = [connector.write(stream, [r])[0] for stream, r in writes]
    finally:
        connector.close()
    assert all(isinstance(o, Ack) and o.created for o in first), first
    # written again: found by its key, no field differs, so nothing is sent to the CRM
    assert [(o.created, o.detail["changed"]) for o in again if isinstance(o, Ack)] == [
        (False, [])
    ] * len(writes)
    store = crm.api.store
    for n, text in enumerate(EDGE_TEXT):  # the CRM holds the text itself, not its HTML
        (account,) = [
            a for a in store.records["Accounts"].values() if a["tandem_key_c"] == f"edge-{n}"
        ]
        assert (account["name"], account["billing_address_city"]) == (text, text)
    back = {str(c.email): c for c in accounts + contacts if c.email}
    wrong = books("5 SQL/Unicode round trip (CRM)", sent, back)
    assert not wrong, wrong
