"""The connections a running landscape writes serve every connector: each one is built the way
Tandem's runtime builds it (from ``connections.env`` alone) and answers its health check."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.landscape import Landscape, down, up
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.services import need_program

SYSTEMS = ("erp_soap", "webshop", "crm", "logistics", "pdm", "drp")


def written_env(directory: Path) -> dict[str, str]:
    env = {}
    for line in (directory / "connections.env").read_text().splitlines():
        name, quoted = line.split("=", 1)
        env[name] = shlex.split(quoted)[0]
    return env


@pytest.fixture
def from_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[Landscape, Runtime]]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    tryton: bool = getattr(request, "param", False)
    monkeypatch.setenv("SANDBOX_SEED_SCALE", "0.05")
    monkeypatch.chdir(tmp_path)  # the distributors' X12 control numbers default to the cwd
    directory = tmp_path / "landscape"
    landscape = up(directory, tryton=tryton)
    runtime = None
    try:
        for name in [n for n in os.environ if n.startswith("AIRFLOW_CONN_")]:
            monkeypatch.delenv(name)
        for name, value in written_env(directory).items():
            monkeypatch.setenv(name, value)
        settings = tmp_path / "tandem.toml"
        settings.write_text("")
        monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(settings))
        runtime = Runtime(TandemSettings())
        yield landscape, runtime
    finally:
        if runtime is not None:
            runtime.close()
        assert down(directory) == []


def test_every_connector_is_built_from_the_written_connections_and_is_healthy(
    from_file: tuple[Landscape, Runtime],
) -> None:
    landscape, runtime = from_file
    env = written_env(landscape.directory)
    for system in SYSTEMS:
        health = runtime.connector(system).health()
        assert health.ok, f"{system}: {health}"
    assert "3 distributor(s) reachable" in str(runtime.connector("drp").health())
    assert json.loads(env["TANDEM_DRP_DISTRIBUTORS"]) == [
        "drp_kaffeehandel_nord",
        "drp_alpenkaffee",
        "drp_pacific_brew",
    ]
    # the web order slice's ERP writer and the erp_soap connection name the same ERP
    assert env["TANDEM_ERP_SOAP_URL"] in str(runtime.connector("erp_soap").health())
    runtime.erp()
    # the connections carry no secret in clear beyond the 0600 file they live in
    assert oct((landscape.directory / "connections.env").stat().st_mode & 0o777) == "0o600"
    assert not [name for name in env if name.startswith("AIRFLOW_CONN_TANDEM_")]


@pytest.mark.parametrize("from_file", [True], indirect=True, ids=["tryton"])
def test_the_tryton_connection_reaches_the_real_tryton(
    from_file: tuple[Landscape, Runtime],
) -> None:
    _, runtime = from_file
    health = runtime.connector("erp_tryton").health()
    assert health.ok, str(health)
