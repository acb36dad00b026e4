"""The Tryton fixture: one real trytond per test session on a fresh copy of the cached template.

The template is built once per machine (about half a minute) under ``$TANDEM_SANDBOX_CACHE``
(default ``~/.cache/tandem``); after that the session starts in a second or two.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.tryton.rpc import TrytonClient
from sandbox.tryton.server import TrytonHandle, start_tryton
from tests.services import need_program


@pytest.fixture(scope="session")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonHandle]:
    trytond = str(Path(sys.executable).parent / "trytond")
    need_program(trytond, "install requirements.lock into the venv (trytond 8.2, trytond-sale)")
    handle = start_tryton(tmp_path_factory.mktemp("tryton"))
    yield handle
    handle.stop()


@pytest.fixture
def tryton_admin(tryton: TrytonHandle) -> Iterator[TrytonClient]:
    """A JSON-RPC session of the administrator on the session's Tryton."""
    client = tryton.client()
    yield client
    client.close()
