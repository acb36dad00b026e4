"""The connector contract for the CRM connector, against a sandbox SuiteCRM per test.

Every check runs for every stream (module). Records are added straight into the sandbox's
store, not through the connector.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.base import Connector
from connectors.crm import CrmConnector, CrmSettings
from connectors.crm.streams import STREAMS
from connectors.transports.retry import RetryPolicy
from sandbox.crm import CrmHandle, start_in_thread
from tests.connectors.contract import ConnectorContract, ConnectorPeer, closed_port

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.0)
KEY = "tandem_key_c"


def settings_for(crm: CrmHandle, **overrides: Any) -> CrmSettings:
    values: dict[str, Any] = {
        "base_url": crm.api_url,
        "client_id": crm.client_id,
        "client_secret": SecretStr(crm.client_secret),
        "page_size": 25,
        "retry": FAST_RETRY,
    }
    return CrmSettings(**(values | overrides))


def add_to_store(crm: CrmHandle, module: str, n: int) -> set[str]:
    """``n`` new records of ``module``, written into the sandbox's store directly."""
    keys: set[str] = set()
    for _ in range(n):
        tag = uuid.uuid4().hex[:8]
        attributes = {"name": f"Added {tag}", KEY: f"added-{tag}"}
        if module == "Contacts":
            attributes = {"first_name": "Added", "last_name": tag, KEY: f"added-{tag}"}
        keys.add(crm.api.store.create(module, attributes, None))
    return keys


def count_in_store(crm: CrmHandle, module: str, field: str, value: str) -> int:
    return sum(
        1
        for record in crm.api.store.records[module].values()
        if record.get(field, "").casefold() == value.casefold() and record["deleted"] == "0"
    )


def sample_for(module: str) -> dict[str, Any]:
    """A fresh valid record of ``module`` to write (contacts carry an e-mail address)."""
    tag = uuid.uuid4().hex[:10]
    if module == "Contacts":
        return {KEY: f"customer:{tag}", "first_name": "Ada", "last_name": tag,
                "email1": f"ada.{tag}@example.org", "phone_work": "+49 40 1234567"}  # fmt: skip
    return {KEY: f"{module.lower()}:{tag}", "name": f"Written {tag}", "description": "contract"}


@pytest.fixture
def crm() -> Iterator[CrmHandle]:
    handle = start_in_thread(seed=1)
    yield handle
    handle.stop()


class TestCrmContract(ConnectorContract):
    @pytest.fixture(params=sorted(STREAMS))
    def peer(self, request: pytest.FixtureRequest, crm: CrmHandle) -> Iterator[ConnectorPeer]:
        stream: str = request.param
        module = STREAMS[stream]
        connector = CrmConnector(settings_for(crm))

        def count(record: Mapping[str, Any]) -> int:
            return count_in_store(crm, module, KEY, str(record[KEY]))

        yield ConnectorPeer(
            connector=connector,
            stream=stream,
            add_records=lambda n: add_to_store(crm, module, n),
            write_stream=stream,
            sample=lambda: sample_for(module),
            count=count,
            bad=lambda: sample_for(module) | {"no_such_field": "x"},
            corrupt=None,  # the typed API (DATETIME columns, UUID ids) cannot hold malformed data
            secret=crm.client_secret,
        )
        connector.close()

    @pytest.fixture
    def dead(self) -> Iterator[Connector]:
        url = f"http://127.0.0.1:{closed_port()}/legacy/Api"
        settings = CrmSettings(
            base_url=url, client_id="tandem", client_secret=SecretStr("s3cr3t"), retry=FAST_RETRY
        )
        connector = CrmConnector(settings)
        yield connector
        connector.close()

    @pytest.mark.skip(
        reason="SuiteCRM's API serves typed columns (DATETIME date_modified, UUID ids), so the "
        "peer cannot hold a malformed record; unreadable resources are quarantined, shown by "
        "test_crm_connector.py::test_an_unreadable_resource_is_quarantined"
    )
    def test_malformed_input_is_quarantined_and_the_rest_read(self, peer: ConnectorPeer) -> None:
        raise AssertionError("skipped")
