"""Suite 3 — peer outages: the ERP server really stopped mid-run ("minutes" compressed by the
retry settings) and started again from its state; the hub's PostgreSQL connections killed
with pg_terminate_backend in the middle of a batch. Everything arrives after recovery, once;
dead letters only past the retry limit; a replay delivers them once.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.registry import FLOWS, RunOptions, delivery_worker
from flows.webshop_orders import OrderIntake
from hub.schema import Delivery, DeliveryStatus
from tests.reliability.figures import Figures, record
from tests.reliability.slice import Slice, account, expire_leases, paid_order, running_slice

ORDERS = 4


def _send(world: Slice, first: int, count: int) -> list[str]:
    numbers = []
    for order_id in range(first, first + count):
        assert world.sender.send("order.created", paid_order(order_id, seed=order_id)) == [200]
        numbers.append(str(order_id))
    return numbers


def _deliveries(world: Slice) -> list[Delivery]:
    with world.runtime.hub.begin() as hs:
        rows = list(hs.session.scalars(sa.select(Delivery)))
        hs.session.expunge_all()
    return rows


def test_erp_stopped_mid_run_everything_arrives_once_after_it_is_back(tmp_path: Path) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    # a long retry budget with short delays: the outage outlasts many attempts, none is final
    with running_slice(
        hub_url,
        state_path=tmp_path / "erp.json",
        retry_max_attempts=1000,
        retry_base_delay=0.2,
        retry_max_delay=0.5,
    ) as world:
        numbers = _send(world, 30_000, ORDERS)
        run = FLOWS["webshop-orders"].run
        first = run(world.runtime, RunOptions())  # some orders get through
        numbers += _send(world, 30_100, ORDERS)
        world.erp.stop()  # the ERP is gone: connection refused
        attempts = dead = 0
        for _ in range(3):  # the scheduler keeps ticking during the outage
            OrderIntake(world.runtime.hub).run()
            summary = delivery_worker(world.runtime).run(max_rounds=1)
            attempts, dead = attempts + summary.retrying, dead + summary.dead
            time.sleep(0.5)
        assert attempts > 0 and dead == 0
        world.restart_erp()
        deadline = time.monotonic() + 60
        while any(d.status != DeliveryStatus.DELIVERED for d in _deliveries(world)):
            assert time.monotonic() < deadline, "not delivered after the ERP came back"
            run(world.runtime, RunOptions())
            time.sleep(0.5)
        books = account(world.runtime, world.erp, numbers)
    record(books.figures("3 ERP stopped mid-run", len(numbers)))
    assert first.delivered > 0 and attempts > 0
    assert len(books.delivered) == len(numbers) and not books.duplicated, books


def test_dead_letters_only_past_the_retry_limit_and_replay_delivers_once(tmp_path: Path) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    with running_slice(hub_url, state_path=tmp_path / "erp.json", retry_max_attempts=3) as world:
        numbers = _send(world, 31_000, ORDERS)
        world.erp.stop()
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        dead = _deliveries(world)
        assert {d.status for d in dead} == {DeliveryStatus.DEAD}
        assert {d.attempts for d in dead} == {3}  # exactly the limit, not one attempt fewer
        assert all("ERP" in (d.last_error or "") or "onnect" in (d.last_error or "") for d in dead)
        parked = account(world.runtime, world.erp, numbers)
        assert len(parked.dead) == ORDERS and not parked.lost
        world.restart_erp()
        replayed = world.runtime.hub  # replay through the ledger as the CLI does
        from hub.deliveries import DeliveryLedger

        ids = DeliveryLedger(replayed).replay(None, actor="test")
        assert len(ids) == 2 * ORDERS
        FLOWS["deliver"].run(world.runtime, RunOptions())
        assert DeliveryLedger(replayed).replay(None, actor="test") == []  # nothing left
        FLOWS["deliver"].run(world.runtime, RunOptions())
        books = account(world.runtime, world.erp, numbers)
    record(
        Figures(
            "3 dead letter + replay",
            ORDERS,
            delivered=len(books.delivered),
            dead_lettered=len(parked.dead),
            lost=len(books.lost),
            duplicated=sum(books.duplicated.values()),
        )
    )
    assert len(books.delivered) == ORDERS and not books.duplicated


def _terminate(admin: sa.Engine, app_name: str) -> int:
    with admin.begin() as conn:
        killed = conn.execute(
            sa.text(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                "where application_name = :name and pid <> pg_backend_pid()"
            ),
            {"name": app_name},
        ).scalar()
    return int(killed or 0)


@pytest.mark.postgres
def test_hub_database_connections_killed_mid_batch(pg_schema_url: str, postgres_url: str) -> None:
    app_name = f"tandem-rel-{uuid.uuid4().hex[:8]}"
    url = sa.engine.make_url(pg_schema_url).update_query_dict({"application_name": app_name})
    hub_url = url.render_as_string(hide_password=False)
    admin = sa.create_engine(postgres_url)
    killed = crashed = 0
    with running_slice(hub_url, retry_max_attempts=10) as world:
        numbers = _send(world, 32_000, 3 * ORDERS)
        stop = threading.Event()

        def killer() -> None:
            nonlocal killed
            while not stop.is_set():
                time.sleep(0.15)
                killed += _terminate(admin, app_name)

        thread = threading.Thread(target=killer)
        thread.start()
        try:
            for _ in range(6):  # the scheduler runs the task again after each failure
                try:
                    FLOWS["webshop-orders"].run(world.runtime, RunOptions())
                except sa.exc.DBAPIError:
                    crashed += 1
        finally:
            stop.set()
            thread.join()
        expire_leases(world.runtime)
        for _ in range(3):
            FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        books = account(world.runtime, world.erp, numbers)
    admin.dispose()
    record(books.figures("3 hub DB connections killed", len(numbers)))
    assert killed > 0, "no hub connection was terminated: the test proved nothing"
    assert not books.lost and not books.duplicated and not books.dead, (books, crashed)
