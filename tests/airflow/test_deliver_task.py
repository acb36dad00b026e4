"""The Airflow ``deliver[<target>]`` task: it delivers what is due to a system under its role
and under its system name (the web order slice queues ERP orders to ``erp``, customer sync to
``erp_soap``), so a retry that falls due between runs does not wait for the next flow run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.registry import FLOWS
from flows.spec import RunOptions
from hub.schema import Delivery, DeliveryStatus
from hub.types import utcnow
from tandem.airflow_runtime import deliver_to
from tests.reliability.slice import SECRET, account, paid_order, running_slice


def test_a_retry_due_to_the_erp_is_delivered_by_the_erp_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    with running_slice(hub_url, tmp_path / "erp.json", retry_base_delay=60.0) as world:
        world.erp.stop()  # the ERP is down while the flow runs: the order waits for a retry
        order = paid_order(91_001)
        assert world.sender.send("order.created", order) == [200]
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        with world.runtime.hub.begin() as hs:
            waiting = list(hs.session.scalars(sa.select(Delivery)))
            assert waiting and {d.target_system for d in waiting} == {"erp"}
            assert all(d.status != DeliveryStatus.DELIVERED for d in waiting)
            hs.session.execute(sa.update(Delivery).values(next_attempt_at=utcnow() - timedelta(1)))
        world.restart_erp()
        for name, value in {
            "TANDEM_DATABASE_URL": hub_url,
            "TANDEM_ERP_SOAP_URL": world.erp.base_url,
            "TANDEM_WEBSHOP_WEBHOOK_SECRET": SECRET,
        }.items():
            monkeypatch.setenv(name, value)
        result = deliver_to("erp")
        books = account(world.runtime, world.erp, [str(order["number"])])
    assert result["delivered"] >= 1, result
    assert books.delivered == {str(order["number"])} and not books.duplicated, books
