"""Suite 2 — crash consistency of a pull flow: ``tandem run customer-sync`` in a real
subprocess reads the ERP's, the CRM's and the web shop's customers page by page into the hub
(``flows/pull.py``), then maps them to golden customers and delivers the ERP's to the CRM. It
is killed with SIGKILL at a fault point — after a page was read, before a page's cursor is
committed, after a page's commit (or, in the long trials, anywhere further on, or at a random
moment) — and run again: every customer is one golden customer in the hub, the ERP's are in
the CRM exactly once, no peer holds a record twice or one nobody entered, every message is
processed and every delivery delivered; and when killed within a page, the hub holds exactly
the pages before it, with their cursor (the cursor never runs ahead of what the hub holds).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from hub.schema import CanonicalRecord, Cursor, Delivery, DeliveryStatus, InboxMessage, InboxStatus
from sandbox.erp_soap.pages import PAGES
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.flows.customer_landscape import ERP_SECRET, ERP_USER, Landscape, start_landscape
from tests.reliability.conftest import note_secrets
from tests.reliability.figures import Figures, record
from tests.reliability.slice import expire_leases

TANDEM = str(Path(sys.executable).with_name("tandem"))
PAGE_SIZE = 3
ERP_CUSTOMERS, CRM_ACCOUNTS, SHOP_CUSTOMERS = 7, 3, 3  # the ERP's: 3 pages (3, 3, 1)
PULL_POINTS = ("after_read", "before_cursor_commit", "after_hub_write")
LATER_POINTS = ("mid_processing", "before_delivery", "mid_delivery")
# ERP customer messages in the hub when the run is killed at the 2nd passing of each point
HELD_AT_SECOND = {"after_read": 3, "before_cursor_commit": 3, "after_hub_write": 6}


@pytest.fixture(scope="module")
def landscape() -> Iterator[Landscape]:
    yield from start_landscape()


def _http(url: str, login: str, password: str, **extra: object) -> str:
    parts = urlsplit(url)
    return json.dumps(
        {
            "conn_type": "http",
            "host": parts.hostname,
            "port": parts.port,
            "schema": parts.path.lstrip("/"),
            "login": login,
            "password": password,
            "extra": {"scheme": parts.scheme, **extra},
        }
    )


def cli_env(land: Landscape, hub_url: str) -> dict[str, str]:
    """A ``tandem`` subprocess's connections to the peers, every stream read 3 at a time."""
    crm = urlsplit(land.crm.api_url)
    crm_conn = {
        "conn_type": "http",
        "host": crm.hostname,
        "port": crm.port,
        "login": land.crm.client_id,
        "password": land.crm.client_secret,
        "extra": {"api_path": crm.path.strip("/"), "page_size": PAGE_SIZE},
    }
    shop = land.shop
    return {
        "TANDEM_DATABASE_URL": hub_url,
        "TANDEM_RETRY_MAX_ATTEMPTS": "5",
        "TANDEM_RETRY_BASE_DELAY": "0",
        "AIRFLOW_CONN_ERP_SOAP": _http(land.erp.base_url, ERP_USER, ERP_SECRET, page_size=3),
        "AIRFLOW_CONN_WEBSHOP": _http(
            shop.api_url, shop.consumer_key, shop.consumer_secret, per_page=PAGE_SIZE
        ),
        "AIRFLOW_CONN_CRM": json.dumps(crm_conn),
        "COLUMNS": "200",
    }


def seed(land: Landscape, trial: int) -> dict[str, str]:
    """Distinct customers in each system: e-mail -> the system it comes from."""
    land.clear()
    seeded: dict[str, str] = {}
    for n in range(ERP_CUSTOMERS):
        email = f"erp{n}.t{trial}@firma.example"
        land.erp.app.store.create(
            PAGES["Customer"],
            {"Name": f"Firma {trial}-{n} GmbH", "E_Mail": email, "Address": f"Ring {n}",
             "City": "Bremen", "Post_Code": "28195", "Country_Region_Code": "DE"},
        )  # fmt: skip
        seeded[email] = "erp_soap"
    for n in range(CRM_ACCOUNTS):
        email = f"crm{n}.t{trial}@kunde.example"
        land.crm_record("Accounts", name=f"Kunde {trial}-{n} AG", email1=email)
        seeded[email] = "crm"
    for n in range(SHOP_CUSTOMERS):
        email = f"shop{n}.t{trial}@example.com"
        land.shop_customer(email=email, first_name=f"Eva{n}", last_name=f"Lind{trial}")
        seeded[email] = "webshop"
    return seeded


def run_tandem(env: dict[str, str], fault: str | None, log: Path) -> int:
    """``tandem run customer-sync``; ``fault``: TANDEM_FAULT_POINTS or ``timer:<seconds>``."""
    env = dict(os.environ) | env
    env.pop("TANDEM_FAULT_POINTS", None)
    if fault is not None and not fault.startswith("timer:"):
        env["TANDEM_FAULT_POINTS"] = fault
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [TANDEM, "run", "customer-sync"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        if fault is not None and fault.startswith("timer:"):
            try:
                proc.wait(timeout=float(fault[6:]))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=120)


@dataclass
class Books:
    """What became of each seeded customer: in the hub and every peer that should have it
    exactly once (delivered), missing somewhere (lost), or held twice somewhere (duplicated)."""

    delivered: set[str] = field(default_factory=set)
    lost: dict[str, list[str]] = field(default_factory=dict)  # e-mail -> where it is missing
    duplicated: dict[str, list[str]] = field(default_factory=dict)  # e-mail -> where twice
    strangers: set[str] = field(default_factory=set)  # records of nobody seeded: made up
    unfinished: list[str] = field(default_factory=list)  # inbox/deliveries not done


def _golden_emails(runtime: Runtime) -> Counter[str]:
    with runtime.hub.begin() as hs:
        payloads = hs.session.scalars(
            sa.select(CanonicalRecord.payload).where(CanonicalRecord.entity == "customer")
        )
        return Counter(str(json.loads(p).get("email") or "") for p in payloads)


def close_books(runtime: Runtime, land: Landscape, seeded: dict[str, str]) -> Books:
    places: dict[str, Counter[str]] = {
        "hub": _golden_emails(runtime),
        "erp": Counter(str(c.get("E_Mail") or "").lower() for c in land.erp_customers().values()),
        "crm": Counter(
            str(r.get("email1") or "").lower()
            for module in ("Accounts", "Contacts")
            for r in land.crm_records(module).values()
        ),
        "shop": Counter(
            str(c["email"]).lower() for c in land.shop.api.store.data.customers.values()
        ),
    }
    wanted = {"erp_soap": ("hub", "erp", "crm"), "crm": ("hub", "crm"), "webshop": ("hub", "shop")}
    books = Books()
    for email, origin in seeded.items():
        lost = [p for p in wanted[origin] if places[p][email] == 0]
        twice = [p for p in places if places[p][email] > 1]
        if lost:
            books.lost[email] = lost
        if twice:
            books.duplicated[email] = twice
        if not lost and not twice:
            books.delivered.add(email)
    books.strangers = {e for p in places.values() for e in p if e not in seeded}
    with runtime.hub.begin() as hs:
        inbox = Counter(hs.session.scalars(sa.select(InboxMessage.status)))
        deliveries = Counter(hs.session.scalars(sa.select(Delivery.status)))
    books.unfinished += [f"inbox {s}: {n}" for s, n in inbox.items() if s != InboxStatus.PROCESSED]
    books.unfinished += [
        f"delivery {s}: {n}" for s, n in deliveries.items() if s != DeliveryStatus.DELIVERED
    ]
    return books


def _held(runtime: Runtime) -> tuple[int, set[str]]:
    """ERP customer messages in the inbox and the cursors committed."""
    with runtime.hub.begin() as hs:
        erp = hs.session.scalar(
            sa.select(sa.func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.source_system == "erp_soap")
        )
        cursors = set(hs.session.scalars(sa.select(Cursor.name)))
    return int(erp or 0), cursors


def run_trials(land: Landscape, tmp_path: Path, faults: list[str], log_dir: Path) -> None:
    log = log_dir / "crash-pull-subprocess.log"
    note_secrets(log_dir, ERP_SECRET, land.crm.client_secret, land.shop.consumer_secret)
    totals = Counter[str]()
    for n, fault in enumerate(faults):
        seeded = seed(land, n)
        hub_url = f"sqlite:///{tmp_path / f'hub{n}.sqlite'}"
        runtime = Runtime(TandemSettings(database_url=hub_url))
        try:
            runtime.upgrade_db()
            env = cli_env(land, hub_url)
            code = run_tandem(env, fault, log)
            if not fault.startswith("timer:"):
                assert code == -signal.SIGKILL, (fault, code)  # the fault point was reached
            point, _, ordinal = fault.partition("@")
            if point in HELD_AT_SECOND and ordinal == "2":  # killed in the ERP's 2nd page
                held, cursors = _held(runtime)
                assert held == HELD_AT_SECOND[point], (fault, held)
                assert ("erp_soap.customers" in cursors) == (held > 0), (fault, cursors)
            expire_leases(runtime)  # the dead worker's leases run out
            assert run_tandem(env, None, log) == 0, fault
            books = close_books(runtime, land, seeded)
        finally:
            runtime.close()
        totals["delivered"] += len(books.delivered)
        totals["lost"] += len(books.lost)
        totals["duplicated"] += len(books.duplicated) + len(books.strangers)
        assert not books.lost and not books.duplicated, (fault, books)
        assert not books.strangers and not books.unfinished, (fault, books)
    record(
        Figures(
            "2 crash, pull flow (SIGKILL)",
            len(faults),
            delivered=totals["delivered"],
            lost=totals["lost"],
            duplicated=totals["duplicated"],
        )
    )


def test_pull_killed_at_each_pull_fault_point_then_rerun_loses_and_duplicates_nothing(
    landscape: Landscape, tmp_path: Path, log_dir: Path
) -> None:
    run_trials(landscape, tmp_path, [f"{p}@2" for p in PULL_POINTS], log_dir)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_30_random_kills_of_a_pull_flow(
    landscape: Landscape, tmp_path: Path, log_dir: Path
) -> None:
    rng = random.Random(30)
    faults = []
    for n in range(30):
        if n % 5 == 4:
            faults.append(f"timer:{rng.uniform(0.8, 2.0):.2f}")
        else:
            point = rng.choice(PULL_POINTS + LATER_POINTS)
            faults.append(f"{point}@{rng.randint(1, 6 if point in PULL_POINTS else 4)}")
    run_trials(landscape, tmp_path, faults, log_dir)
