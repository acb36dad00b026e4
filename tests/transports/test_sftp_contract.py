"""The shared transport contract, run for SFTP against the real sshd."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from connectors.transports.sftp import ONCE, SftpClient, SftpSettings
from tests.transports.contract import Peer, TransportContract, closed_port

_WRONG_PASSWORD = "pw-contract-sftp-51c2"


def _peer(settings: SftpSettings, secret: str | None = None) -> Iterator[Peer]:
    client = SftpClient(settings)
    yield Peer(
        call=lambda: client.run("list .", lambda s: s.listdir("."), retry=ONCE),
        ping=client.ping,
        secret=secret,
    )
    client.close()


class TestSftpContract(TransportContract):
    @pytest.fixture
    def working(self, sftp_settings: Callable[..., SftpSettings]) -> Iterator[Peer]:
        yield from _peer(sftp_settings())

    @pytest.fixture
    def peer_down(self, sftp_settings: Callable[..., SftpSettings]) -> Iterator[Peer]:
        yield from _peer(sftp_settings(port=closed_port(), connect_timeout=1.0))

    @pytest.fixture
    def bad_credential(self, sftp_settings: Callable[..., SftpSettings]) -> Iterator[Peer]:
        settings = sftp_settings(key_file=None, password=_WRONG_PASSWORD)
        yield from _peer(settings, _WRONG_PASSWORD)
