"""The DRP connector against the sandbox distributors, over a real OpenSSH sshd.

Each distributor (three CSV dialects: Windows-1252 with ``;``, UTF-8 with BOM and ``;``,
UTF-8 with ``,``) runs the whole connector contract: the sandbox partner writes 852s, CSV
reports and 850s into its outbound folder, the connector reads them over SFTP; acks go to
its inbound folder, where the distributor checks envelope and PO number.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Ack, Connector, Rejected
from connectors.drp import DistributorSettings, DrpConnector, DrpSettings
from connectors.transports.sftp import SftpSettings
from sandbox.files.runner import FilePartners, start_file_partners
from sandbox.sshd import SshdHandle, start_sshd
from tests.connectors.contract import ConnectorContract, ConnectorPeer, closed_port, drain
from tests.services import need_program

# the test user's throwaway password: a system user has one, so every suite that starts an
# sshd with a password uses this one (as tests/transports does)
PASSWORD = "pw-Tandem-7f3e9c"
DISTRIBUTORS = ("kaffeehandel-nord", "alpenkaffee", "pacific-brew")
THEIR_IDS = {"kaffeehandel-nord": "KHNORD", "alpenkaffee": "ALPENKAFFEE", "pacific-brew": "PACBREW"}
QUICK = {"attempts": 2, "initial_wait": 0.05, "max_wait": 0.1, "jitter": 0.01}


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("drp-sshd"), password=PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture
def area(sshd: SshdHandle, request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    return sshd.area(f"tests/drp/{name}", clean=True)


def distributor_settings(
    sshd: SshdHandle, root: Path, key: str, *, port: int | None = None
) -> DistributorSettings:
    sftp = SftpSettings(
        host=sshd.host,
        port=port or sshd.port,
        username=sshd.user,
        password=PASSWORD,
        known_hosts=sshd.known_hosts,
        root=str(root),
        settle_seconds=0.0,
        connect_timeout=3.0,
        operation_timeout=10.0,
        retry=QUICK,
    )
    return DistributorSettings(key=key, sftp=sftp, base_dir=f"drp/{key}", their_id=THEIR_IDS[key])


class Clock:
    """The partners' clock: a day passes per report, so each report is a new period."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def next_day(self) -> None:
        self.now += 86400


@pytest.fixture
def partners(area: Path) -> Iterator[tuple[FilePartners, Clock]]:
    clock = Clock()
    knobs: dict[str, dict[str, Any]] = {
        "drp": {"delay_s": 0, "settle_s": 0},
        "threepl": {"paused": True},
        "pdm": {"paused": True},
    }
    handle = start_file_partners(area, knobs=knobs, run=False, clock=clock)
    yield handle, clock
    handle.stop()


def emit(partners: FilePartners, clock: Clock, skus: list[str]) -> None:
    """One report (852 + CSV) about ``skus`` only and one 850 from every distributor, the
    next day (as the partner's tick sends them)."""
    engine = partners.drp
    catalogue = engine.products
    clock.next_day()
    engine.products = {sku: catalogue[sku] for sku in skus}
    try:
        for distributor in engine.config.distributors:
            engine.send_report(distributor)
    finally:
        engine.products = catalogue
    for distributor in engine.config.distributors:
        engine.send_purchase_order(distributor)
        state = engine.state.data["distributors"][distributor.key]
        state["last_report"] = state["last_po"] = clock.now  # a tick now sends nothing more
    engine.state.save()


def outbound(area: Path, key: str, prefix: str) -> list[Path]:
    return sorted((area / "drp" / key / "outbound").glob(f"{prefix}*"))


def sent_files(area: Path, key: str, prefix: str) -> list[Path]:
    base = area / "drp" / key
    return [p for d in ("inbound", "archive", "errors") for p in (base / d).glob(f"{prefix}*")
            if not p.name.endswith(".error.txt")]  # fmt: skip


def ack_for(partners: FilePartners, key: str) -> dict[str, Any]:
    """An 855 for the newest PO the distributor sent, every line accepted."""
    pos: dict[str, dict[str, int]] = partners.drp.state.data["distributors"][key]["pos"]
    po_number = sorted(pos)[-1]
    lines = [
        {"line_number": n, "sku": sku, "quantity": str(qty), "unit_price": "9.90", "status": "IA"}
        for n, (sku, qty) in enumerate(sorted(pos[po_number].items()), start=1)
    ]
    return {"distributor": key, "po_number": po_number, "po_date": "2026-11-20",
            "ack_type": "AD", "lines": lines}  # fmt: skip


class TestDrpContract(ConnectorContract):
    @pytest.fixture(params=DISTRIBUTORS)
    def peer(
        self,
        request: pytest.FixtureRequest,
        sshd: SshdHandle,
        area: Path,
        partners: tuple[FilePartners, Clock],
        tmp_path: Path,
    ) -> Iterator[ConnectorPeer]:
        key: str = request.param
        handle, clock = partners
        settings = DrpSettings(
            distributors=(distributor_settings(sshd, area, key),),
            control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
        )
        connector = DrpConnector(settings)
        catalogue = sorted(handle.drp.products)
        emit(handle, clock, catalogue[:2])  # something to read, and a PO to acknowledge
        turn = iter(range(1000))

        def add_records(n: int) -> set[str]:
            start = next(turn) * n % len(catalogue)
            skus = (catalogue[start:] + catalogue[:start])[:n]
            emit(handle, clock, skus)
            day = datetime.fromtimestamp(clock.now, UTC).strftime("%Y%m%d")
            return {f"{key}|-|{sku}|{_period(day)}|QA+QP+QS" for sku in skus}

        def corrupt() -> str:
            handle.set_knobs("drp", malformed_rate=1.0)
            try:
                emit(handle, clock, catalogue[:3])
            finally:
                handle.set_knobs("drp", malformed_rate=0.0)
            return outbound(area, key, "stock_")[-1].name

        def bad() -> dict[str, Any]:
            record = ack_for(handle, key)
            record["lines"][0]["quantity"] = "many"
            return record

        yield ConnectorPeer(
            connector=connector,
            stream="sell_through",
            add_records=add_records,
            write_stream="po_acks",
            sample=lambda: ack_for(handle, key),
            count=lambda r: len(sent_files(area, key, f"855_{r['po_number']}_")),
            bad=bad,
            corrupt=corrupt,
            secret=PASSWORD,
        )
        connector.close()

    @pytest.fixture
    def dead(self, sshd: SshdHandle, tmp_path: Path) -> Iterator[Connector]:
        settings = DrpSettings(
            distributors=(
                distributor_settings(sshd, tmp_path, "pacific-brew", port=closed_port()),
            ),
            control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
        )
        connector = DrpConnector(settings)
        yield connector
        connector.close()


def _period(day: str) -> str:
    end = datetime.strptime(day, "%Y%m%d")
    start = end.fromordinal(end.toordinal() - 6)
    return f"{start:%Y%m%d}-{day}"


# -- beyond the contract: what the distributor does with what we send ---------------------------


@pytest.fixture
def drp(
    sshd: SshdHandle, area: Path, partners: tuple[FilePartners, Clock], tmp_path: Path
) -> Iterator[tuple[DrpConnector, FilePartners, Clock, Path]]:
    handle, clock = partners
    settings = DrpSettings(
        distributors=tuple(distributor_settings(sshd, area, key) for key in DISTRIBUTORS),
        control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
    )
    connector = DrpConnector(settings)
    yield connector, handle, clock, area
    connector.close()


def test_purchase_orders_of_every_distributor_are_read_once(
    drp: tuple[DrpConnector, FilePartners, Clock, Path],
) -> None:
    connector, handle, clock, _ = drp
    emit(handle, clock, sorted(handle.drp.products)[:3])
    pages = list(connector.read("purchase_orders"))
    orders = [r for p in pages for r in p.records]
    sent = {k: sorted(v["pos"]) for k, v in handle.drp.state.data["distributors"].items()}
    assert sorted(r.data["po_number"] for r in orders) == sorted(
        n for v in sent.values() for n in v
    )
    first = orders[0].data
    assert first["lines"] and first["lines"][0]["sku"] and first["currency"] in ("EUR", "USD")
    assert first["ship_to"]["country"] in ("DE", "AT", "US")
    _, cursor = drain(connector, "purchase_orders", None)
    assert drain(connector, "purchase_orders", cursor)[0] == []


def test_the_distributor_accepts_our_855_and_810(
    drp: tuple[DrpConnector, FilePartners, Clock, Path],
) -> None:
    connector, handle, clock, area = drp
    key = "pacific-brew"
    emit(handle, clock, sorted(handle.drp.products)[:2])
    ack = ack_for(handle, key)
    (outcome,) = connector.write("po_acks", [ack])
    assert isinstance(outcome, Ack) and outcome.created
    invoice = {
        "distributor": key,
        "invoice_number": "INV-9001",
        "invoice_date": "2026-11-24",
        "po_number": ack["po_number"],
        "currency": "USD",
        "lines": [{k: v for k, v in line.items() if k != "status"} for line in ack["lines"]],
        "total": str(sum(int(line["quantity"]) for line in ack["lines"]) * Decimal("9.90")),
    }
    (written,) = connector.write("invoices", [invoice])
    assert isinstance(written, Ack), written
    on_order = dict(handle.drp.state.data["distributors"][key]["on_order"])
    handle.tick()
    base = area / "drp" / key
    assert sorted(p.name for p in (base / "errors").iterdir()) == []
    assert {p.name for p in (base / "archive").iterdir()} == {outcome.external_id,
                                                              written.external_id}  # fmt: skip
    after = handle.drp.state.data["distributors"][key]["on_order"]
    for line in ack["lines"]:  # the invoice booked the invoiced quantities as received
        assert after[line["sku"]] == max(0, on_order[line["sku"]] - int(line["quantity"]))
    # the same ack again, after the distributor took the first: still one file
    (again,) = connector.write("po_acks", [ack])
    assert isinstance(again, Ack) and again.external_id == outcome.external_id
    assert len(sent_files(area, key, f"855_{ack['po_number']}_")) == 1


def test_an_ack_for_an_unknown_distributor_is_rejected(
    drp: tuple[DrpConnector, FilePartners, Clock, Path],
) -> None:
    connector, handle, clock, _ = drp
    emit(handle, clock, sorted(handle.drp.products)[:2])
    ack = ack_for(handle, "alpenkaffee") | {"distributor": "nobody"}
    (outcome,) = connector.write("po_acks", [ack])
    assert isinstance(outcome, Rejected) and not outcome.transient
    assert "distributor" in str(outcome.error) and "nobody" in str(outcome.error)
    tilde = ack_for(handle, "alpenkaffee")
    tilde["lines"][0]["sku"] = "TDM~GRD"  # the segment terminator inside a value
    bad, good = connector.write("po_acks", [tilde, ack_for(handle, "alpenkaffee")])
    assert isinstance(bad, Rejected) and not bad.transient and "'~'" in str(bad.error)
    assert isinstance(good, Ack) and good.created


def test_resent_files_give_each_row_once_and_archive_clears_what_was_read(
    sshd: SshdHandle, area: Path, partners: tuple[FilePartners, Clock], tmp_path: Path
) -> None:
    handle, clock = partners
    handle.set_knobs("drp", duplicate_rate=1.0)  # every file delivered twice (*_resend.*)
    keys = [distributor_settings(sshd, area, key) for key in DISTRIBUTORS]
    settings = DrpSettings(
        distributors=tuple(d.model_copy(update={"processed_dir": "processed"}) for d in keys),
        control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
    )
    skus = sorted(handle.drp.products)[:4]
    emit(handle, clock, skus)
    with DrpConnector(settings) as connector:
        read, cursor = drain(connector, "sell_through", None)
        assert len(read) == len(set(read)) == 3 * 4  # 852, CSV and their resends: once each
        assert {k.split("|")[0] for k in read} == set(DISTRIBUTORS)
        assert isinstance(connector, DrpConnector)
        assert connector.archive("sell_through", cursor) == 3 * 4  # 2 files, 2 resends each
        for key in DISTRIBUTORS:
            left = sorted(p.name for p in (area / "drp" / key / "outbound").iterdir())
            assert left and all(name.startswith("850_") for name in left), left
            assert len(list((area / "drp" / key / "processed").iterdir())) == 4
        assert drain(connector, "sell_through", cursor)[0] == []
        emit(handle, clock, skus[:1])
        later, _ = drain(connector, "sell_through", cursor)
        assert len(later) == 3


def test_one_unreachable_distributor_does_not_stop_the_others(
    sshd: SshdHandle, area: Path, partners: tuple[FilePartners, Clock], tmp_path: Path
) -> None:
    handle, clock = partners
    settings = DrpSettings(
        distributors=(
            distributor_settings(sshd, area, "alpenkaffee"),
            distributor_settings(sshd, area, "pacific-brew", port=closed_port()),
        ),
        control_db_url=f"sqlite:///{tmp_path / 'x12.db'}",
    )
    emit(handle, clock, sorted(handle.drp.products)[:2])
    with DrpConnector(settings) as connector:
        read, _ = drain(connector, "sell_through", None)
        assert {k.split("|")[0] for k in read} == {"alpenkaffee"} and len(read) == 2
        health = connector.health()
        assert not health.ok and health.transient and "pacific-brew" in health.detail
