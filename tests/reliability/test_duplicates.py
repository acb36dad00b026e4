"""Suite 1 — duplicate delivery: the same signed webhook arrives 1-10 times, one after the
other or all at once (some copies with a new delivery id, as a manual resend has), and two
flow workers race over the inbox -> exactly one ERP order per order, nothing else.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.registry import FLOWS, RunOptions
from hub.schema import InboxMessage
from sandbox.webshop.sender import wp_json_encode
from tests.reliability.figures import record
from tests.reliability.slice import Slice, account, paid_order, running_slice


def _deliver_copies(world: Slice, order_id: int, copies: int, concurrent: bool) -> list[int]:
    body = wp_json_encode(paid_order(order_id, seed=order_id))
    ids = [world.sender.new_delivery_id() + (str(n) if n % 3 == 2 else "") for n in range(copies)]

    def one(n: int) -> int:
        return world.sender.send("order.created", body, delivery_id=ids[n])[0]

    if not concurrent:
        return [one(n) for n in range(copies)]
    barrier = threading.Barrier(copies)

    def racing(n: int) -> int:
        barrier.wait()
        return one(n)

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(racing, range(copies)))


def run_trials(hub_url: str, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    with running_slice(hub_url) as world:
        numbers: list[str] = []
        sent = 0
        for trial in range(trials):
            order_id = 10_000 + trial
            copies = rng.randint(1, 10)
            statuses = _deliver_copies(world, order_id, copies, concurrent=trial % 2 == 1)
            assert statuses == [200] * copies, f"order {order_id}: {statuses}"
            numbers.append(str(order_id))
            sent += copies
        with world.runtime.hub.begin() as hs:
            stored = hs.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
        assert stored == trials, f"{sent} deliveries of {trials} orders stored as {stored}"
        # two workers race over the inbox and the deliveries, then a third mops up
        workers = [
            threading.Thread(target=FLOWS["webshop-orders"].run, args=(world.runtime, RunOptions()))
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        books = account(world.runtime, world.erp, numbers)
    record(books.figures("1 duplicate delivery", trials))
    assert not books.lost, f"lost: {sorted(books.lost)[:10]}"
    assert not books.duplicated, f"duplicated in the ERP: {books.duplicated}"
    assert not books.dead and not books.quarantined, (books.dead, books.quarantined)
    assert len(books.delivered) == trials


def test_duplicate_webhooks_give_one_erp_order_each(tmp_path: Path) -> None:
    run_trials(f"sqlite:///{tmp_path / 'hub.sqlite'}", trials=20, seed=1)


@pytest.mark.postgres
def test_duplicate_webhooks_on_a_postgres_hub(pg_schema_url: str) -> None:
    run_trials(pg_schema_url, trials=10, seed=2)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_duplicate_webhooks_1000_trials(tmp_path: Path) -> None:
    run_trials(f"sqlite:///{tmp_path / 'hub.sqlite'}", trials=1000, seed=3)
