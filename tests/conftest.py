"""Shared fixtures: hub databases (SQLite always; PostgreSQL when reachable, required in CI)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hub.engine import upgrade
from hub.store import Hub
from tests.services import POSTGRES_URL, need_service

pytest_plugins = ["tests.peers"]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    need_service("PostgreSQL", POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A throwaway schema in the test database, selected through search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('hub') / 'hub.sqlite'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def hub(hub_url: str) -> Iterator[Hub]:
    upgrade(hub_url)
    store = Hub(hub_url)
    yield store
    store.close()
