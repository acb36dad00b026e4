"""The sell-through flow against a sandbox distributor over the real sshd and the sandbox CRM:
a week's 852 + CSV -> weekly demand signals in the hub, a note on the distributor's CRM
account and a planning export file; running again changes nothing; a later report of the
same week updates the same note and file."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical.models import DemandSignal
from connectors.base import Connector
from connectors.crm import CrmConnector
from connectors.drp import DistributorSettings, DrpConnector, DrpSettings
from flows.erp_orders import ErpWriter
from flows.export import render_csv, safe_cell
from flows.policy import RetryPolicy
from flows.sell_through import FLOW, aggregate, week_signals
from flows.spec import RunOptions
from hub.schema import InboxMessage, InboxStatus
from hub.store import Hub
from sandbox.crm import CrmHandle
from sandbox.crm import start_in_thread as start_crm
from sandbox.drp.distributors import DISTRIBUTORS
from sandbox.files.runner import FilePartners, start_file_partners
from sandbox.sshd import SshdHandle, start_sshd
from tests.connectors.test_crm_contract import settings_for
from tests.connectors.test_drp_contract import Clock, distributor_settings
from tests.services import need_program

KEY = "pacific-brew"
PACIFIC = next(d for d in DISTRIBUTORS if d.key == KEY)
MONDAY = datetime(2026, 11, 16, 12, tzinfo=UTC)  # ISO week 2026-W47
WEEK = "2026-W47"


class FlowServices:
    def __init__(self, hub: Hub, connectors: dict[str, Connector]) -> None:
        self.hub = hub
        self.connectors = connectors
        self.retry_policy = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05)

    def erp(self) -> ErpWriter:
        raise AssertionError("the sell-through flow does not need the ERP")

    def system_name(self, role: str) -> str:
        return role

    def connector(self, system: str) -> Connector:
        return self.connectors[system]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    # key login: the test user's system password is shared with other suites
    handle = start_sshd(tmp_path_factory.mktemp("sell-through-sshd"))
    yield handle
    handle.stop()


def by_key(sshd: SshdHandle, area: Path) -> DistributorSettings:
    settings = distributor_settings(sshd, area, KEY)
    sftp = settings.sftp.model_copy(update={"password": None, "key_file": sshd.client_key})
    return settings.model_copy(update={"sftp": sftp})


@dataclass
class World:
    services: FlowServices
    partners: FilePartners
    clock: Clock
    crm: CrmHandle
    account: str  # the distributor's CRM account id
    export: Path

    def report(self, skus: list[str]) -> list[dict[str, str]]:
        """The distributor's report (852 + CSV) about ``skus``; the CSV's rows."""
        engine = self.partners.drp
        catalogue = engine.products
        engine.products = {sku: catalogue[sku] for sku in skus}
        try:
            written = engine.send_report(PACIFIC)
        finally:
            engine.products = catalogue
        engine.state.save()
        (csv_file,) = [p for p in written if p.suffix == ".csv"]
        return list(csv.DictReader(io.StringIO(csv_file.read_text("utf-8"))))

    def run(self) -> Any:
        return FLOW.run(self.services, RunOptions())

    def notes(self) -> list[dict[str, Any]]:
        records = self.crm.api.store.records["Notes"].values()
        return [n for n in records if n.get("parent_id") == self.account and n["deleted"] == "0"]

    def exported(self) -> list[dict[str, str]]:
        text = (self.export / f"sell_through_{WEEK}.csv").read_text("utf-8")
        return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def world(
    sshd: SshdHandle,
    hub: Hub,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    area = sshd.area(f"tests/flows/sell_through/{name}", clean=True)
    clock = Clock()
    clock.now = MONDAY.timestamp()
    knobs: dict[str, dict[str, Any]] = {
        "drp": {"delay_s": 0, "settle_s": 0},
        "threepl": {"paused": True},
        "pdm": {"paused": True},
    }
    partners = start_file_partners(area, knobs=knobs, run=False, clock=clock)
    crm = start_crm(seed=1)
    account = crm.api.store.create("Accounts", {"name": PACIFIC.address.name}, None)
    export = tmp_path / "planning"
    monkeypatch.setenv("TANDEM_DISTRIBUTOR_ACCOUNTS", json.dumps({KEY: {"crm": account}}))
    monkeypatch.setenv("TANDEM_SELL_THROUGH_EXPORT_DIR", str(export))
    drp = DrpConnector(
        DrpSettings(
            distributors=(by_key(sshd, area),),
            control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
        )
    )
    crm_connector = CrmConnector(settings_for(crm))
    services = FlowServices(hub, {"drp": drp, "crm": crm_connector})
    yield World(services, partners, clock, crm, account, export)
    drp.close()
    crm_connector.close()
    crm.stop()
    partners.stop()


def test_a_weeks_report_becomes_signals_a_crm_note_and_a_planning_file(world: World) -> None:
    skus = sorted(world.partners.drp.products)[:3]
    rows = world.report(skus)  # the 852 and the CSV of the same figures
    first = world.run()
    assert (first.read, first.changed, first.quarantined, first.dead) == (3, 3, 0, 0)
    with world.services.hub.begin() as hs:
        signals = week_signals(hs, WEEK, KEY)
    expected = {r["SKU"]: (Decimal(r["Units Sold"]), Decimal(r["On Hand"])) for r in rows}
    assert {s.sku: (s.sold, s.on_hand) for s in signals} == expected
    assert {(s.period_start, s.period_end) for s in signals} == {
        (date(2026, 11, 16), date(2026, 11, 22))
    }

    (note,) = world.notes()
    for sku, (sold, on_hand) in expected.items():
        assert f"{sku}: sold {sold}, on hand {on_hand}" in note["description"]
    assert WEEK in note["name"]
    exported = world.exported()
    assert [(r["distributor"], r["sku"], r["sold"]) for r in exported] == [
        (KEY, sku, str(expected[sku][0])) for sku in skus
    ]

    # the same again: nothing changes anywhere
    path = world.export / f"sell_through_{WEEK}.csv"
    before = (path.read_bytes(), path.stat().st_mtime_ns, note["date_modified"])
    again = world.run()
    assert (again.read, again.changed, again.delivered) == (0, 0, 0)
    full = FLOW.run(world.services, RunOptions(full=True))  # re-read every file: same rows
    assert (full.changed, full.delivered) == (0, 0)
    (same,) = world.notes()
    assert (path.read_bytes(), path.stat().st_mtime_ns, same["date_modified"]) == before


def test_a_later_report_of_the_week_updates_the_same_note_and_file(world: World) -> None:
    skus = sorted(world.partners.drp.products)[:2]
    world.report(skus)
    world.run()
    world.clock.next_day()  # Tuesday: a rolling 7-day report of the same ISO week
    rows = world.report(skus)
    later = world.run()
    assert later.changed == 2 and later.dead == 0
    latest = {r["SKU"]: r["Units Sold"] for r in rows}  # overlapping periods: the later counts
    (note,) = world.notes()
    for sku, sold in latest.items():
        assert f"{sku}: sold {sold}," in note["description"]
    assert {r["sku"]: r["sold"] for r in world.exported()} == latest


def test_rows_of_a_week_sum_when_their_periods_do_not_overlap() -> None:
    def day(n: int, sold: str, on_hand: str, report: str = "R-1") -> DemandSignal:
        return DemandSignal(
            distributor=KEY, location=KEY, sku="TDM-1", period_start=date(2026, 11, n),
            period_end=date(2026, 11, n), sold=Decimal(sold), on_hand=Decimal(on_hand),
            report_id=report,
        )  # fmt: skip

    week = aggregate([day(17, "3", "40"), day(16, "2", "43"), day(18, "1", "39")], WEEK)
    assert (week.sold, week.on_hand) == (Decimal(6), Decimal(39))
    corrected = aggregate([day(17, "5", "38", "R-2"), day(17, "3", "40")], WEEK)
    assert (corrected.sold, corrected.on_hand) == (Decimal(5), Decimal(38))  # not 8: replaced


def test_exported_cells_cannot_start_a_formula() -> None:
    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("-12.5") == "-12.5"
    data = render_csv(["sku", "note"], [["A,1", "+cmd|' /C calc'!A0"]])
    assert data == b"sku,note\r\n\"A,1\",'+cmd|' /C calc'!A0\r\n"


def test_a_broken_row_is_quarantined_with_its_bytes_and_the_rest_goes_on(world: World) -> None:
    skus = sorted(world.partners.drp.products)[:4]
    world.partners.set_knobs("drp", malformed_rate=1.0)  # a broken 852 and a bad CSV cell
    rows = world.report(skus)
    summary = world.run()
    assert summary.quarantined >= 1 and summary.dead == 0
    with world.services.hub.begin() as hs:
        parked = list(
            hs.session.scalars(
                select(InboxMessage).where(InboxMessage.status == InboxStatus.QUARANTINED)
            )
        )
        signals = week_signals(hs, WEEK, KEY)
    (bad_csv,) = [m for m in parked if ".csv line " in (m.error or "")]  # names file and line
    assert "fields" in (bad_csv.error or "") and b"n/a" in bad_csv.raw_body  # the row's bytes
    good = {r["SKU"] for r in rows if r["Period End"]}  # the broken row lacks its last fields
    assert len(good) == len(skus) - 1 and {s.sku for s in signals} == good
    assert len(world.exported()) == len(good)
