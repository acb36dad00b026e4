"""The connector contract for the PDM: BMEcat files the sandbox PDM writes, read from a
local folder and over SFTP from the real OpenSSH sshd.

``add_records(n)`` makes the PDM write a T_UPDATE_PRODUCTS delta changing n products, as it
does every few minutes; ``corrupt()`` makes it drop a catalogue cut off mid-element (an
aborted export). The PDM is read-only for Tandem, so the write checks skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Connector
from connectors.pdm import PdmConnector, PdmSettings
from connectors.transports.sftp import SftpSettings
from sandbox.pdm import PdmConfig, PdmEngine, PdmKnobs
from sandbox.pdm.bmecat import CatalogInfo, write_catalog
from sandbox.pdm.products import generated
from sandbox.sshd import SshdHandle, start_sshd
from tests.connectors.contract import ConnectorContract, ConnectorPeer, closed_port
from tests.services import need_program

SFTP_PASSWORD = "pw-Tandem-7f3e9c"  # the test user's throwaway password (as tests/transports)
BROKEN = "catalog_TDM-MASTER_999.000_update.xml"


def pdm_engine(root: Path) -> PdmEngine:
    engine = PdmEngine(
        PdmConfig(
            outbound=root / "outbound",
            state_dir=root.parent / f".{root.name}-state",
            extra_products=12,
            knobs=PdmKnobs(delta_interval_s=0),
        )
    )
    engine.send_full()
    return engine


def corrupt(engine: PdmEngine) -> str:
    """A delta cut off two thirds of the way, as an aborted export leaves it."""
    paths, _ = engine.send_changes(3)
    body = paths[0].read_bytes()
    target = paths[0].with_name(BROKEN)
    target.write_bytes(body[: len(body) * 2 // 3])
    return BROKEN


def make_peer(connector: PdmConnector, engine: PdmEngine, secret: str | None) -> ConnectorPeer:
    return ConnectorPeer(
        connector=connector,
        stream="products",
        add_records=lambda n: set(engine.send_changes(n)[1]),
        corrupt=lambda: corrupt(engine),
        secret=secret,
    )


class TestPdmFolderContract(ConnectorContract):
    @pytest.fixture
    def peer(self, tmp_path: Path) -> Iterator[ConnectorPeer]:
        engine = pdm_engine(tmp_path / "pdm")
        settings = PdmSettings(folder=tmp_path / "pdm" / "outbound", settle_seconds=0, page_size=7)
        with PdmConnector(settings) as connector:
            assert isinstance(connector, PdmConnector)
            yield make_peer(connector, engine, None)

    @pytest.fixture
    def dead(self, tmp_path: Path) -> Connector:
        return PdmConnector(PdmSettings(folder=tmp_path / "not-mounted", settle_seconds=0))


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("pdm-sshd"), password=SFTP_PASSWORD)
    yield handle
    handle.stop()


def sftp_settings(sshd: SshdHandle, root: str, **overrides: object) -> SftpSettings:
    values: dict[str, object] = {
        "host": sshd.host,
        "port": sshd.port,
        "username": sshd.user,
        "password": SFTP_PASSWORD,
        "known_hosts": sshd.known_hosts,
        "root": root,
        "connect_timeout": 5.0,
        "retry": {"attempts": 3, "initial_wait": 0.05, "max_wait": 0.2, "jitter": 0.02},
        **overrides,
    }
    return SftpSettings(**values)


class TestPdmSftpContract(ConnectorContract):
    @pytest.fixture
    def area(self, sshd: SshdHandle, request: pytest.FixtureRequest) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        return sshd.area(f"tests/pdm/{name}", clean=True)

    @pytest.fixture
    def peer(self, sshd: SshdHandle, area: Path) -> Iterator[ConnectorPeer]:
        engine = pdm_engine(area / "pdm")
        settings = PdmSettings(
            sftp=sftp_settings(sshd, str(area)),
            directory="pdm/outbound",
            settle_seconds=0,
            page_size=7,
        )
        with PdmConnector(settings) as connector:
            assert isinstance(connector, PdmConnector)
            yield make_peer(connector, engine, SFTP_PASSWORD)

    @pytest.fixture
    def dead(self, sshd: SshdHandle, area: Path) -> Connector:
        settings = sftp_settings(
            sshd, str(area), port=closed_port(), connect_timeout=1.0, retry={"attempts": 1}
        )
        return PdmConnector(PdmSettings(sftp=settings, directory="pdm/outbound", settle_seconds=0))


def test_a_dropped_sftp_connection_mid_file_resumes_without_loss(
    sshd: SshdHandle, tmp_path: Path
) -> None:
    area = sshd.area("tests/pdm/dropped", clean=True)
    outbound = area / "outbound"
    outbound.mkdir()
    info = CatalogInfo("TDM-MASTER", "005.000", "big", datetime(2026, 1, 1, tzinfo=UTC))
    with (tmp_path / "big.xml").open("wb") as out:
        write_catalog(out, info, generated(6000))  # ~8 MB: many SFTP reads
    sshd.drop(outbound / "catalog_TDM-MASTER_005.000_full.xml", (tmp_path / "big.xml").read_bytes())
    settings = PdmSettings(
        sftp=sftp_settings(sshd, str(area)), directory="outbound", settle_seconds=0, page_size=500
    )
    keys: list[str] = []
    with PdmConnector(settings) as connector:
        for number, page in enumerate(connector.read("products", None)):
            keys.extend(r.key for r in page.records)
            if number == 2:
                assert sshd.kill_connections() > 0
    assert keys == [f"TDM-GEN-{i:07d}" for i in range(1, 6001)]
