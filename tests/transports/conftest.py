"""A real OpenSSH sshd on loopback for the SFTP transport tests (one per test session)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.transports.sftp import SftpClient, SftpSettings
from sandbox.sshd import SshdHandle, start_sshd
from tests.services import need_program

SFTP_PASSWORD = "pw-Tandem-7f3e9c"  # a throwaway password for the test user


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("sshd"), password=SFTP_PASSWORD)
    yield handle
    handle.stop()


@pytest.fixture
def area(sshd: SshdHandle, request: pytest.FixtureRequest) -> Path:
    """An empty directory of its own for each test, under the test user's home."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    return sshd.area(f"tests/{name}", clean=True)


@pytest.fixture
def sftp_settings(sshd: SshdHandle, area: Path) -> Callable[..., SftpSettings]:
    """Settings for the test peer (key login, known_hosts) with overrides."""

    def make(**overrides: Any) -> SftpSettings:
        values: dict[str, Any] = {
            "host": sshd.host,
            "port": sshd.port,
            "username": sshd.user,
            "key_file": sshd.client_key,
            "known_hosts": sshd.known_hosts,
            "root": str(area),
            "settle_seconds": 0.0,
            "connect_timeout": 5.0,
            "operation_timeout": 10.0,
            "retry": {"attempts": 4, "initial_wait": 0.05, "max_wait": 0.2, "jitter": 0.02},
            **overrides,
        }
        return SftpSettings(**values)

    return make


@pytest.fixture
def client(sftp_settings: Callable[..., SftpSettings]) -> Iterator[SftpClient]:
    with SftpClient(sftp_settings()) as connected:
        yield connected
