"""Canonical ServiceRequest <-> SuiteCRM Cases (mappings/crm)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from canonical.errors import InvalidRecord
from canonical.models import ServiceRequest
from connectors.base import Ack
from connectors.crm import CrmConnector, CrmSettings
from mappings import crm as crm_mappings
from sandbox.crm import CrmHandle, make_crm, start_in_thread


def _seeded_cases() -> list[dict[str, Any]]:
    store = make_crm(seed=1).store
    return [{"id": rid, **store.get("Cases", rid)} for rid in store.records["Cases"]]


def test_every_seeded_case_maps_with_its_status_and_priority() -> None:
    cases = _seeded_cases()
    mapped = {c["id"]: crm_mappings.service_request_from_case(c)[1] for c in cases}
    seen = {(c["status"], c["priority"]): mapped[c["id"]] for c in cases}
    assert seen[("Open_New", "P1")].status == "new"
    assert seen[("Open_New", "P1")].priority == "high"
    assert {(s, r.status) for (s, _), r in seen.items()} == {
        ("Open_New", "new"), ("Open_Assigned", "open"),
        ("Open_Pending Input", "pending"), ("Closed_Closed", "closed"),
    }  # fmt: skip
    first = mapped[cases[0]["id"]]
    assert first.case_number == cases[0]["case_number"] and first.subject == cases[0]["name"]
    assert first.opened_at is not None
    assert first.opened_at.isoformat() == cases[0]["date_entered"]


def test_an_unknown_status_is_named() -> None:
    case = _seeded_cases()[0] | {"status": "Escalated", "priority": "P9"}
    with pytest.raises(InvalidRecord) as caught:
        crm_mappings.service_request_from_case(case)
    assert str(caught.value).startswith(f"crm case {case['id']}: ")
    assert {e.path for e in caught.value.errors} == {"status", "priority"}
    assert "Escalated" in str(caught.value)


REQUEST = ServiceRequest(
    case_number="WS-4711",
    subject="Grinder arrived with a cracked hopper",
    description="Photo attached in the shop.",
    status="pending",
    priority="urgent",
    order_number="1001",
    sku="GRINDER-X",
)


def test_a_service_request_is_a_case_keyed_by_its_number() -> None:
    case = crm_mappings.case_from_service_request(REQUEST, account_key="customer:7")
    assert case == {
        "tandem_key_c": "WS-4711",
        "name": "Grinder arrived with a cracked hopper",
        "description": "Photo attached in the shop.\nOrder: 1001\nArticle: GRINDER-X",
        "type": "User",
        "status": "Open_Pending Input",
        "state": "Open",
        "priority": "P1",
        "_related": [{"module": "Accounts", "key": "customer:7"}],
    }


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_in_thread(seed=1)
    yield handle
    handle.stop()


def test_a_case_written_and_read_back_keeps_status_priority_and_account(crm: CrmHandle) -> None:
    settings = CrmSettings(
        base_url=crm.api_url, client_id=crm.client_id, client_secret=SecretStr(crm.client_secret)
    )
    account_id = next(iter(crm.api.store.records["Accounts"]))
    crm.api.store.update("Accounts", account_id, {"tandem_key_c": "customer:7"})
    with CrmConnector(settings) as connector:
        cursor = None
        for page in connector.read("cases", None):
            cursor = page.cursor
        case = crm_mappings.case_from_service_request(REQUEST, account_key="customer:7")
        [ack] = connector.write("cases", [case])
        assert isinstance(ack, Ack) and ack.created
        [read] = [r for p in connector.read("cases", cursor) for r in p.records]
    key, back = crm_mappings.service_request_from_case(read.data)
    assert key == ack.external_id
    assert (back.status, back.priority, back.subject) == ("pending", "high", REQUEST.subject)
    assert read.data["account_id"] == account_id
    assert back.case_number == read.data["case_number"], "SuiteCRM numbers its cases itself"
