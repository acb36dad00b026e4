"""The Alembic migrations build exactly the tables the code declares, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.engine import upgrade
from hub.schema import Base


def test_migrations_build_what_the_schema_declares(hub_url: str) -> None:
    upgrade(hub_url)
    engine = sa.create_engine(hub_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "a table, column or index differs from its migration"
