"""Session-wide sandbox peers: each outside system started once per test session, seeded.

Tests that only read the seeded landscape (or write records of their own that no other test
counts) use these instead of starting a peer per test: ``seeded_erp``, ``seeded_webshop``,
``seeded_crm``. Registered for every test through ``pytest_plugins`` in ``tests/conftest.py``.
Tests that count or change shared state start their own peer (see the per-test fixtures).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.crm.peer import CrmHandle
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import ErpHandle
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.webshop.peer import WebshopHandle
from sandbox.webshop.peer import start_in_thread as start_webshop

SEED = 1


@pytest.fixture(scope="session")
def seeded_erp() -> Iterator[ErpHandle]:
    handle = start_erp(seed=SEED)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def seeded_webshop() -> Iterator[WebshopHandle]:
    handle = start_webshop(seed=SEED)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def seeded_crm() -> Iterator[CrmHandle]:
    handle = start_crm(seed=SEED)
    yield handle
    handle.stop()
