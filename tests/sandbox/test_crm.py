"""The sandbox CRM's SuiteCRM V8 API: OAuth2 tokens, records, relationships, fault knobs."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from sandbox.crm import CrmHandle
from tests.sandbox.conftest_peers import crm_fixture  # noqa: F401 (a fixture)
from tests.services import need_program

JSON_API = "application/vnd.api+json"


def _token(handle: CrmHandle) -> str:
    response = httpx.post(
        handle.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": handle.client_id,
            "client_secret": handle.client_secret,
        },
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _client(handle: CrmHandle) -> httpx.Client:
    return httpx.Client(
        base_url=f"{handle.api_url}/V8",
        headers={"Authorization": f"Bearer {_token(handle)}", "Content-Type": JSON_API},
        timeout=10,
    )


def _create(client: httpx.Client, module: str, attributes: dict[str, str]) -> str:
    response = client.post("/module", json={"data": {"type": module, "attributes": attributes}})
    assert response.status_code == 201, response.text
    record_id: str = response.json()["data"]["id"]
    return record_id


def test_curl_gets_a_token_and_reads_accounts_with_it(crm: CrmHandle) -> None:
    need_program("curl", "apt-get install -y curl")
    form = (
        f"grant_type=client_credentials&client_id={crm.client_id}&client_secret={crm.client_secret}"
    )
    out = subprocess.run(
        ["curl", "-sS", "--data", form, crm.token_url], capture_output=True, check=True, timeout=20
    )
    token = json.loads(out.stdout)
    assert (token["token_type"], token["expires_in"]) == ("Bearer", 60)
    out = subprocess.run(
        ["curl", "-sSg", "-H", f"Authorization: Bearer {token['access_token']}",
         f"{crm.api_url}/V8/module/Accounts?page[size]=5"],
        capture_output=True, check=True, timeout=20,
    )  # fmt: skip
    page = json.loads(out.stdout)
    assert [r["type"] for r in page["data"]] == ["Account"] * 5
    assert page["meta"]["total-pages"] == 24


def test_wrong_client_is_refused(crm: CrmHandle) -> None:
    response = httpx.post(
        crm.token_url,
        data={"grant_type": "client_credentials", "client_id": crm.client_id, "client_secret": "x"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_expired_token_gets_401_and_a_new_token_works(crm: CrmHandle) -> None:
    crm.control(token_ttl_seconds=0)
    with _client(crm) as client:
        expired = client.get("/module/Accounts/unknown")
    assert expired.status_code == 401
    assert expired.json()["error"] == "access_denied"
    crm.control(token_ttl_seconds=60)
    with _client(crm) as client:
        assert client.get("/module/Accounts", params={"page[size]": 1}).status_code == 200
    assert httpx.get(f"{crm.api_url}/V8/module/Accounts").status_code == 401  # no token


def test_account_contact_and_their_relationship(crm: CrmHandle) -> None:
    with _client(crm) as client:
        account_id = _create(client, "Accounts", {"name": "Loopback Roasters GmbH"})
        contact_id = _create(client, "Contacts", {"first_name": "Ida", "last_name": "Lind"})
        linked = client.post(
            f"/module/Accounts/{account_id}/relationships",
            json={"data": {"type": "Contacts", "id": contact_id}},
        )
        assert linked.status_code == 201, linked.text
        related = client.get(f"/module/Accounts/{account_id}/relationships/contacts").json()
        contact = client.get(f"/module/Contacts/{contact_id}").json()["data"]
        found = client.get(
            "/module/Accounts", params={"filter[name][eq]": "loopback roasters gmbh"}
        ).json()["data"]
    assert [(r["type"], r["id"]) for r in related["data"]] == [("Contact", contact_id)]
    assert contact["attributes"]["account_id"] == account_id
    assert contact["attributes"]["account_name"] == "Loopback Roasters GmbH"
    assert contact["attributes"]["name"] == "Ida Lind"
    assert [r["id"] for r in found] == [account_id]


def test_pages_cover_every_account_once(crm: CrmHandle) -> None:
    ids: list[str] = []
    with _client(crm) as client:
        number, total_pages = 1, 1
        while number <= total_pages:
            page = client.get(
                "/module/Accounts",
                params={"page[size]": 25, "page[number]": number, "sort": "-date_modified"},
            ).json()
            total_pages = page["meta"]["total-pages"]
            ids += [r["id"] for r in page["data"]]
            number += 1
        everything = client.get("/module/Accounts").json()
    assert total_pages == 5
    assert len(ids) == len(set(ids)) == len(everything["data"]) == 120
    assert "meta" not in everything  # without page[size] SuiteCRM sends all and no meta


def test_update_bumps_date_modified_and_filters_find_it(crm: CrmHandle) -> None:
    with _client(crm) as client:
        accounts = client.get("/module/Accounts", params={"sort": "-date_modified"}).json()
        newest = accounts["data"][0]["attributes"]["date_modified"]
        target = accounts["data"][-1]["id"]
        patched = client.patch(
            "/module",
            json={"data": {"type": "Accounts", "id": target, "attributes": {"rating": "A"}}},
        ).json()["data"]
        changed = client.get(
            "/module/Accounts", params={"filter[date_modified][gt]": newest}
        ).json()["data"]
        deleted = client.delete(f"/module/Accounts/{target}")
        gone = client.get(f"/module/Accounts/{target}")
    assert patched["attributes"]["date_modified"] > newest
    assert [r["id"] for r in changed] == [target]
    assert deleted.json()["meta"]["message"] == f"Record with id {target} is deleted"
    assert gone.status_code == 404
    assert gone.json()["errors"]["detail"] == f"The Account with id {target} is not found"


def test_bad_requests_name_the_problem(crm: CrmHandle) -> None:
    with _client(crm) as client:
        unknown_field = client.get("/module/Accounts", params={"filter[colour][eq]": "red"})
        unknown_module = client.post("/module", json={"data": {"type": "Leadz", "attributes": {}}})
    assert unknown_field.status_code == 400
    body: dict[str, Any] = unknown_field.json()
    assert body["errors"]["detail"] == "Filter field colour in Account module is not found"
    assert unknown_module.json()["errors"]["detail"] == "Module Leadz does not exist"


def test_error_and_drop_knobs(crm: CrmHandle) -> None:
    with _client(crm) as client:
        crm.control(error_rate=1.0, error_status=500)
        assert client.get("/module/Accounts").status_code == 500
        crm.control(error_rate=0.0, drop_connection=1.0)
        with pytest.raises(httpx.TransportError):
            client.get("/module/Accounts")
        crm.control(drop_connection=0.0)
        assert client.get("/module/Accounts", params={"page[size]": 1}).status_code == 200
