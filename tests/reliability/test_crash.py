"""Suite 2 — crash consistency: ``tandem run webshop-orders`` in a real subprocess is killed
with SIGKILL at a fault point (``flows.faults``: after the hub write of a message, in the
middle of its transaction, before a delivery, after the ERP was written but before the hub
knows), or by the test at a random moment. Then the leases of the dead worker run out and the
flow runs again -> every order is in the ERP exactly once, every customer once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.registry import FLOWS, RunOptions
from tests.reliability.figures import Figures, record
from tests.reliability.slice import (
    Slice,
    account,
    cli_env,
    expire_leases,
    paid_order,
    running_slice,
)

ORDERS_PER_TRIAL = 4
POINTS = ("mid_processing", "after_hub_write", "before_delivery", "mid_delivery")
TANDEM = str(Path(sys.executable).with_name("tandem"))


@dataclass
class Trial:
    fault: str  # TANDEM_FAULT_POINTS, or "timer:<seconds>"
    killed: bool = False


def _run_killed(world: Slice, hub_url: str, fault: str, log: Path) -> bool:
    env = dict(os.environ) | cli_env(hub_url, world.erp)
    if not fault.startswith("timer:"):
        env["TANDEM_FAULT_POINTS"] = fault
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [TANDEM, "run", "webshop-orders"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        if fault.startswith("timer:"):
            try:
                proc.wait(timeout=float(fault[6:]))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=120)
    return code == -signal.SIGKILL


def _erp_customers(world: Slice) -> Counter[str]:
    with world.erp.app.store.lock:
        records = list(world.erp.app.store.records.get("Customer", {}).values())
    return Counter(str(r.get("E_Mail") or "") for r in records)


def run_trials(tmp_path: Path, faults: list[str], log_dir: Path) -> None:
    delivered = lost = duplicated = killed = 0
    for n, fault in enumerate(faults):
        hub_url = f"sqlite:///{tmp_path / f'hub{n}.sqlite'}"
        with running_slice(hub_url, state_path=tmp_path / f"erp{n}.json") as world:
            numbers = []
            for k in range(ORDERS_PER_TRIAL):
                order_id = 20_000 + n * 100 + k
                assert world.sender.send("order.created", paid_order(order_id, seed=n)) == [200]
                numbers.append(str(order_id))
            killed += _run_killed(world, hub_url, fault, log_dir / "crash-subprocess.log")
            expire_leases(world.runtime)  # the dead worker's leases run out
            FLOWS["webshop-orders"].run(world.runtime, RunOptions())
            books = account(world.runtime, world.erp, numbers)
            customers = _erp_customers(world)
        delivered += len(books.delivered)
        lost += len(books.lost) + len(books.dead) + len(books.quarantined)
        duplicated += sum(books.duplicated.values())
        duplicated += sum(c - 1 for c in customers.values() if c > 1)
        assert not books.lost and not books.dead and not books.quarantined, (fault, books)
        assert not books.duplicated, (fault, books.duplicated)
        assert all(c == 1 for c in customers.values()), (fault, customers)
    trials = len(faults)
    record(
        Figures("2 crash (SIGKILL)", trials, delivered=delivered, lost=lost, duplicated=duplicated)
    )
    # the faults really fired: a fault point that is never reached would prove nothing
    assert killed >= trials - sum(f.startswith("timer:") for f in faults)


def test_killed_at_each_fault_point_then_rerun_loses_and_duplicates_nothing(
    tmp_path: Path, log_dir: Path
) -> None:
    run_trials(tmp_path, [f"{p}@2" for p in POINTS], log_dir)


@pytest.mark.slow
@pytest.mark.timeout(5400)
def test_100_random_kills(tmp_path: Path, log_dir: Path) -> None:
    rng = random.Random(100)
    faults = []
    for n in range(100):
        if n % 5 == 4:
            faults.append(f"timer:{rng.uniform(2.0, 12.0):.1f}")
        else:
            faults.append(f"{rng.choice(POINTS)}@{rng.randint(1, ORDERS_PER_TRIAL)}")
    started = time.monotonic()
    run_trials(tmp_path, faults, log_dir)
    assert time.monotonic() - started < 3600


def test_fault_points_are_inert_unless_named_and_fire_on_their_ordinal(tmp_path: Path) -> None:
    script = (
        "from flows.faults import fault_point\n"
        "for n in range(5):\n"
        "    fault_point('mid_delivery'); fault_point('after_read')\n"
        "    print(n, flush=True)\n"
    )
    env = dict(os.environ)
    env.pop("TANDEM_FAULT_POINTS", None)
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.split()) == (0, ["0", "1", "2", "3", "4"])
    env["TANDEM_FAULT_POINTS"] = "mid_delivery@3"
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.split()) == (-signal.SIGKILL, ["0", "1"])
    env["TANDEM_FAULT_POINTS"] = "no_such_point@1"
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 1 and "unknown fault point 'no_such_point'" in run.stderr
