"""The CRM connector beyond the contract: cursors at equal timestamps, token renewal, revoked
clients, retries, relationships and idempotent writes, against a sandbox SuiteCRM per test."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from canonical.errors import PermanentError, TransientError
from connectors.base import Ack, Rejected
from connectors.connection import parse_connection
from connectors.crm import CrmConnector, CrmSettings
from connectors.crm.client import CrmRefused, problem
from connectors.crm.streams import parse_resource
from connectors.transports.http import HttpStatusError
from sandbox.crm import CrmHandle
from sandbox.crm.auth import Client
from sandbox.crm.store import iso
from tests.connectors.contract import chain, drain
from tests.connectors.test_crm_contract import KEY, crm, sample_for, settings_for  # noqa: F401

STAMP = "2026-01-05T10:00:00+00:00"


@pytest.fixture
def connector(crm: CrmHandle) -> Iterator[CrmConnector]:  # noqa: F811
    with_crm = CrmConnector(settings_for(crm, page_size=3))
    yield with_crm
    with_crm.close()


def _at(crm: CrmHandle, module: str, record_id: str, stamp: str) -> None:  # noqa: F811
    crm.api.store.records[module][record_id]["date_modified"] = stamp


def _create(crm: CrmHandle, module: str, record_id: str, stamp: str = STAMP) -> str:  # noqa: F811
    crm.api.store.create(module, {"name": f"Case {record_id}"}, record_id)
    _at(crm, module, record_id, stamp)
    return record_id


# -- reads ------------------------------------------------------------------------------------


def test_records_of_the_current_second_are_read_once_and_late_ones_too(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    _, cursor = drain(connector, "cases", None)
    now = iso(datetime.now(UTC))  # a second the CRM may still stamp records with
    ids = [
        _create(crm, "Cases", f"00000000-0000-4000-8000-00000000000{n}", now) for n in range(2, 9)
    ]
    pages = list(connector.read("cases", cursor))
    keys = [r.key for p in pages for r in p.records]
    assert sorted(keys) == ids, "7 records at one second over pages of 3: each exactly once"
    assert len(pages) >= 3
    cursor = pages[-1].cursor
    assert cursor is not None and '"ids"' in cursor
    # stamped later in the same second, with an id below every id read at that second
    late = _create(crm, "Cases", "00000000-0000-4000-8000-000000000001", now)
    again, cursor = drain(connector, "cases", cursor)
    assert again == [late], "a (timestamp, last id) cursor would have skipped this record"
    assert drain(connector, "cases", cursor)[0] == []


def test_a_past_second_with_many_records_is_read_in_id_order_with_a_small_cursor(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    _, cursor = drain(connector, "cases", None)
    ids = [_create(crm, "Cases", f"00000000-0000-4000-8000-0000000000{n:02d}") for n in range(40)]
    before = crm.api.faults.counters["requests"]
    pages = list(connector.read("cases", cursor))
    keys = [r.key for p in pages for r in p.records]
    assert keys == ids, "an import of 40 records in one past second: once each, by id"
    assert all(p.cursor is not None and '"ids"' not in p.cursor for p in pages)
    requests = crm.api.faults.counters["requests"] - before
    assert requests <= 40 // 3 + 4, f"one pass over the second, not one per page: {requests}"
    assert drain(connector, "cases", pages[-1].cursor)[0] == []


def test_a_record_changed_while_pages_are_read_is_not_skipped(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    pages = connector.read("accounts", None)
    first = next(pages)
    moved = first.records[0].key
    crm.api.store.update("Accounts", moved, {"rating": "A"})  # its date_modified is now
    rest = [r.key for p in pages for r in p.records]
    assert len(rest) + len(first.records) == 121, "every account, and the changed one again"
    assert rest[-1] == moved


def test_records_carry_their_relationship_fields(connector: CrmConnector) -> None:
    notes = [r for p in connector.read("notes", None) for r in p.records]
    assert notes and all(n.data["parent_type"] == "Cases" and n.data["parent_id"] for n in notes)
    cases = [r for p in connector.read("cases", None) for r in p.records]
    assert all(c.data["account_id"] for c in cases)
    assert cases[0].version == cases[0].data["date_modified"]
    assert cases[0].source.startswith("Case ")


def test_an_unreadable_resource_is_quarantined() -> None:
    record, problem_ = parse_resource(
        "cases", {"type": "Case", "id": "c-1", "attributes": {"date_modified": "yesterday"}}
    )
    assert record is None and problem_ is not None
    assert problem_.source == "Case c-1"
    assert problem_.reason == "date_modified: 'yesterday' is not an ISO 8601 timestamp"
    assert b"yesterday" in problem_.raw
    _, no_id = parse_resource("cases", {"type": "Case", "attributes": {}})
    assert no_id is not None and no_id.reason == "the record has no id"


def test_a_cursor_from_elsewhere_is_refused(connector: CrmConnector) -> None:
    with pytest.raises(PermanentError, match="is not one this connector wrote"):
        list(connector.read("accounts", "2025-01-01"))


# -- tokens -----------------------------------------------------------------------------------


def test_a_token_the_crm_dropped_is_replaced_once_after_a_401(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert connector.health().ok
    assert connector.client.tokens.fetched == 1
    crm.api.issuer._tokens.clear()  # the CRM forgot it (restart, revoked tokens)
    caplog.set_level(logging.INFO, logger="httpx")
    assert drain(connector, "cases", None)[0]
    assert connector.client.tokens.fetched == 2
    assert sum("401 Unauthorized" in r.getMessage() for r in caplog.records) == 1


def test_a_token_is_renewed_before_it_expires(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    crm.control(token_ttl_seconds=1)
    caplog.set_level(logging.INFO, logger="httpx")
    assert connector.health().ok
    time.sleep(1.1)
    assert connector.health().ok
    assert connector.client.tokens.fetched == 2
    assert not any("401" in r.getMessage() for r in caplog.records), "renewed, not refused"


def test_a_revoked_client_is_a_permanent_error_without_the_secret(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert connector.health().ok
    secret = crm.client_secret
    crm.api.issuer.client = Client(crm.client_id, "a-new-secret")  # the old one is revoked ...
    crm.api.issuer._tokens.clear()  # ... with its tokens
    with pytest.raises(PermanentError) as caught:
        list(connector.read("accounts", None))
    assert not isinstance(caught.value, TransientError)
    assert "refused OAuth2 client 'tandem'" in str(caught.value)
    assert "invalid_client" in str(caught.value)
    health = connector.health()
    assert not health.ok and not health.transient, "needs a fix, not a wait"
    texts = [str(e) for e in chain(caught.value)] + [r.getMessage() for r in caplog.records]
    texts.append(str(health))
    assert not [t for t in texts if secret in t]


def test_settings_never_show_the_secret(crm: CrmHandle) -> None:  # noqa: F811
    settings = settings_for(crm)
    assert crm.client_secret not in repr(settings) and crm.client_secret not in str(settings)


# -- transport errors -------------------------------------------------------------------------


def test_server_errors_are_retried_then_transient(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    assert connector.health().ok  # holds a token
    crm.control(fail_next=2)
    assert len(drain(connector, "cases", None)[0]) == 70, "two 503s, then the third try"
    crm.control(error_rate=1.0, error_status=503)
    with pytest.raises(TransientError) as caught:
        list(connector.read("cases", None))
    assert "HTTP 503" in str(caught.value)


def test_a_429_is_retried_after_the_crms_retry_after(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    assert connector.health().ok
    crm.control(fail_next=1, error_status=429, retry_after=1)
    started = time.monotonic()
    assert len(drain(connector, "notes", None)[0]) == 70
    assert time.monotonic() - started >= 0.95, "waited the CRM's Retry-After, not 10 ms"


def test_the_jsonapi_error_detail_and_pointer_are_named() -> None:
    listed = HttpStatusError(
        'POST /V8/module: HTTP 422: {"errors": [{"status": "422", "detail": "must be a date",'
        ' "source": {"pointer": "/data/attributes/date_closed"}}]}',
        status=422,
    )
    assert problem(listed) == ("must be a date", "/data/attributes/date_closed")
    suite = HttpStatusError(
        'POST /V8/module: HTTP 400: {"errors": {"status": 400, "title": null, '
        '"detail": "Property x_y in Cases module is invalid"}}',
        status=400,
    )
    assert problem(suite) == ("Property x_y in Cases module is invalid", "/data/attributes/x_y")
    plain = HttpStatusError("GET /V8/module/X: HTTP 400: Bad Request", status=400)
    assert problem(plain) == ("GET /V8/module/X: HTTP 400: Bad Request", None)


# -- writes -----------------------------------------------------------------------------------


def test_a_refused_record_names_the_record_and_the_field(connector: CrmConnector) -> None:
    bad = sample_for("Cases") | {KEY: "case:9", "colour": "red"}
    [outcome] = connector.write("cases", [bad])
    assert isinstance(outcome, Rejected) and not outcome.transient
    assert isinstance(outcome.error, CrmRefused)
    assert outcome.error.pointer == "/data/attributes/colour"
    assert str(outcome.error).startswith("crm Cases case:9: POST /V8/module: CRM answered HTTP 400")


def test_a_record_without_a_key_is_refused(connector: CrmConnector) -> None:
    [outcome] = connector.write("accounts", [{"name": "Nameless"}])
    assert isinstance(outcome, Rejected) and not outcome.transient
    assert "tandem_key_c is required" in str(outcome.error)


def test_a_contact_links_to_its_account_and_a_note_to_its_parent(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    account = {KEY: "customer:77", "name": "Loopback Beans GmbH", "billing_address_city": "Kiel"}
    contact = sample_for("Contacts") | {"_related": [{"module": "Accounts", "key": "customer:77"}]}
    to_account = [{"module": "Accounts", "key": "customer:77"}]
    case = {KEY: "case:77", "name": "Grinder jams", "_related": to_account}
    note = {KEY: "shipment:SH-1", "name": "Shipment SH-1 sent",
            "_related": [{"module": "Cases", "key": "case:77"}]}  # fmt: skip
    outcomes = connector.write("accounts", [account])
    outcomes += connector.write("contacts", [contact])
    outcomes += connector.write("cases", [case])
    outcomes += connector.write("notes", [note])
    assert all(isinstance(o, Ack) and o.created for o in outcomes), outcomes
    account_id, contact_id, case_id, note_id = (
        o.external_id for o in outcomes if isinstance(o, Ack)
    )
    store = crm.api.store
    assert store.get("Contacts", contact_id)["account_id"] == account_id
    assert ("Contacts", contact_id) in store.related("Accounts", account_id, "contacts")
    assert ("Cases", case_id) in store.related("Accounts", account_id, "cases")
    assert (
        store.get("Notes", note_id)["parent_type"],
        store.get("Notes", note_id)["parent_id"],
    ) == ("Cases", case_id)
    again = connector.write("contacts", [contact]) + connector.write("notes", [note])
    assert [o.created for o in again if isinstance(o, Ack)] == [False, False]


def test_a_record_whose_related_record_is_missing_waits(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    orphan = sample_for("Contacts") | {"_related": [{"module": "Accounts", "key": "customer:404"}]}
    [outcome] = connector.write("contacts", [orphan])
    assert isinstance(outcome, Rejected) and outcome.transient
    assert "Accounts customer:404 is not in the CRM yet" in str(outcome.error)
    assert crm.api.store.find("Contacts", {"email1": {"eq": orphan["email1"]}})[0] == []


def test_a_web_shop_customer_is_found_by_email(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    seeded = next(
        (rid, r) for rid, r in crm.api.store.records["Contacts"].items()
        if r["description"].startswith("Web shop customer")
    )  # fmt: skip
    record = {
        KEY: "customer:shop-1",
        "email1": seeded[1]["email1"].upper(),
        "first_name": seeded[1]["first_name"],
        "phone_mobile": "+43 660 1234567",
    }
    [outcome] = connector.write("contacts", [record])
    assert isinstance(outcome, Ack) and not outcome.created
    assert outcome.external_id == seeded[0]
    assert set(outcome.detail["changed"]) == {KEY, "email1", "phone_mobile"}
    assert crm.api.store.get("Contacts", seeded[0])[KEY] == "customer:shop-1"


def test_a_contact_keyed_for_another_customer_is_not_taken_over(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    first = sample_for("Contacts")
    second = sample_for("Contacts") | {"email1": first["email1"]}  # a shared address
    acks = [o for o in connector.write("contacts", [first, second]) if isinstance(o, Ack)]
    assert [a.created for a in acks] == [True, True]
    assert acks[0].external_id != acks[1].external_id
    assert crm.api.store.get("Contacts", acks[0].external_id)[KEY] == first[KEY]


def test_an_unchanged_record_is_not_written_again(
    crm: CrmHandle,  # noqa: F811
    connector: CrmConnector,
) -> None:
    record = sample_for("Opportunities") | {"amount": "1200"}
    [first] = connector.write("opportunities", [record])
    before = crm.api.faults.counters["requests"]
    [second] = connector.write("opportunities", [record])
    assert isinstance(first, Ack) and isinstance(second, Ack)
    assert second.version == first.version, "date_modified was not bumped"
    assert crm.api.faults.counters["requests"] - before == 1, "one look-up, no PATCH"


# -- settings ---------------------------------------------------------------------------------


def test_settings_from_a_connection_uri() -> None:
    conn = parse_connection("tandem_crm", "http://tandem:p%40ss@crm.local:8091?page_size=50")
    settings = CrmSettings.from_connection(conn)
    assert settings.base_url == "http://crm.local:8091/legacy/Api"
    assert (settings.client_id, settings.client_secret.get_secret_value()) == ("tandem", "p@ss")
    assert settings.page_size == 50
    seven = CrmSettings.from_connection(parse_connection("c", "https://t:s@crm.example/Api"))
    assert seven.base_url == "https://crm.example/Api"


def test_a_connection_without_a_secret_is_refused_by_field() -> None:
    conn = parse_connection("tandem_crm", "http://tandem@crm.local:8091")
    with pytest.raises(PermanentError, match="client_secret: Field required"):
        CrmSettings.from_connection(conn)


def test_a_bad_page_size_is_named_without_values() -> None:
    conn = parse_connection("tandem_crm", "http://tandem:hunter2@crm.local?page_size=-4")
    with pytest.raises(PermanentError) as caught:
        CrmSettings.from_connection(conn)
    assert "page_size" in str(caught.value) and "hunter2" not in str(caught.value)
