"""Real servers the tests talk to: found, or skipped with the reason (or failed in CI)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("TANDEM_REQUIRE_SERVICES") == "1"


def _reachable(url: str) -> str | None:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def need_service(name: str, url: str) -> None:
    """Skip with the reason when a server is missing, but fail when CI requires services."""
    problem = _reachable(url)
    if problem is None:
        return
    message = f"{name} not reachable at {sa.engine.make_url(url).render_as_string()}: {problem}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (TANDEM_REQUIRE_SERVICES=1: service-backed tests must run)")
    pytest.skip(f"{message}; start the server (or point the test URL at one) to run this test")


MARIADB_URL = os.environ.get("TANDEM_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def need_program(path: str, install_hint: str) -> None:
    """Skip when a peer program (sshd, wrk, chromium...) is not installed; fail in CI."""
    import shutil

    if shutil.which(path) is not None:
        return
    message = f"{path} is not installed ({install_hint})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (TANDEM_REQUIRE_SERVICES=1: .ci/run must install it)")
    pytest.skip(message)
