"""Databases and baselines for ``bench.bench_bulk``: fresh hubs on SQLite and PostgreSQL, the
raw executemany copy of the final rows, and dlt loading the same records."""

from __future__ import annotations

import importlib.metadata
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from flows import bulk_customers
from hub.engine import make_engine, upgrade
from hub.schema import Base

POSTGRES_URL = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# parents before children (foreign keys); autoincrement ids are left to the database
COPIED = (("inbox", "id"), ("records", "id"), ("xref", "id"), ("deliveries", "id"),
          ("events", "id"))  # fmt: skip
COPY_CHUNK = 5000


def hub_url(db: str, name: str, folder: Path) -> str:
    """A fresh, migrated hub: a new SQLite file, or a new PostgreSQL schema."""
    if db == "sqlite":
        url = f"sqlite:///{folder / name}.sqlite"
    else:
        schema = f"bench_bulk_{name}"
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade(url)
    return url


def drop(db: str, name: str) -> None:
    if db == "postgresql":
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            for schema in (f"bench_bulk_{name}", f"bench_dlt_{name}", f"bench_dlt_{name}_staging"):
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def database_version(db: str) -> str:
    if db == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.connect() as conn:
        version = str(conn.scalar(sa.text("SHOW server_version")))
    engine.dispose()
    return f"PostgreSQL {version}"


def _chunks(conn: sa.Connection, table: sa.Table, key: str) -> Iterator[list[dict[str, Any]]]:
    column, last = table.c[key], None
    while True:
        stmt = sa.select(table).order_by(column).limit(COPY_CHUNK)
        if last is not None:
            stmt = stmt.where(column > last)
        rows = [dict(row._mapping) for row in conn.execute(stmt)]
        if not rows:
            return
        last = rows[-1][key]
        yield rows


def raw_copy(source_url: str, target_url: str) -> dict[str, Any]:
    """Insert the rows the bulk load made (read from its hub, not timed) into a fresh hub with
    SQLAlchemy Core executemany, ``COPY_CHUNK`` rows per statement and transaction: the
    practical limit of writing those rows through SQLAlchemy. Plain executemany is its fastest
    form here: psycopg 3 pipelines it; ``insertmanyvalues`` (multi-row VALUES) was 3-4x
    slower on PostgreSQL and no faster on SQLite."""
    source = make_engine(source_url)
    target = make_engine(target_url, sqlite_synchronous="NORMAL")
    seconds, rows_written = 0.0, 0
    with source.connect() as read:
        for name, key in COPIED:
            table = Base.metadata.tables[name]
            generated = name != "inbox" and name != "records"
            for rows in _chunks(read, table, key):
                if generated:
                    for row in rows:
                        del row[key]
                started = time.perf_counter()
                with target.begin() as conn:
                    conn.execute(table.insert(), rows)
                seconds += time.perf_counter() - started
                rows_written += len(rows)
    source.dispose()
    target.dispose()
    return {"seconds": seconds, "rows": rows_written}


def dlt_load(db: str, name: str, folder: Path, records: int, batch: int) -> dict[str, Any]:
    """dlt loading the same customers (generated, mapped and validated as the bulk load does
    it) into the same database: ``merge`` on the primary key ``id`` (the web shop's key),
    primary keys created (without them its merge on SQLite is quadratic). Records read twice
    in a row are given once (with primary keys, dlt's staging insert fails on the copy).
    Tuned, not handicapped: its intermediate files uncompressed (gzip was a tenth of its
    time), no telemetry, one load worker on SQLite (its parallel jobs lock each other out at
    1M records), and a first small load into another dataset, untimed, so the timed
    one does not pay for dlt's imports and first-run set-up."""
    os.environ["DATA_WRITER__DISABLE_COMPRESSION"] = "true"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    if db == "sqlite":  # one writer at a time: parallel load jobs fail with "database is locked"
        os.environ["LOAD__WORKERS"] = "1"
    import dlt

    warmup = f"{name}_warmup"
    _dlt_run(dlt, db, warmup, folder, min(records, 100), batch)
    drop(db, warmup)
    seconds = _dlt_run(dlt, db, name, folder, records, batch)
    return {"seconds": seconds, "dlt": importlib.metadata.version("dlt")}


def _dlt_run(dlt: Any, db: str, name: str, folder: Path, records: int, batch: int) -> float:
    if db == "sqlite":
        destination: Any = dlt.destinations.sqlalchemy(
            credentials=f"sqlite:///{folder / name}_dlt.sqlite", create_primary_keys=True
        )
    else:
        url = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql")
        if url.password is None:  # dlt insists on one; a trust-auth server ignores it
            url = url.set(password="unused")
        credentials = url.render_as_string(hide_password=False)
        destination = dlt.destinations.postgres(credentials=credentials, create_indexes=True)

    @dlt.resource(name="customers", write_disposition="merge", primary_key="id")  # type: ignore[untyped-decorator,misc]
    def customers() -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        last = None
        for raw in bulk_customers.generated(range(1, records + 1)):
            if raw.key == last:  # a record read twice: dlt's staging table refuses the copy
                continue
            last = raw.key
            chunk.append(
                bulk_customers.map_customer(raw.data).model_dump(mode="json") | {"id": raw.key}
            )
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{name}",
        destination=destination,
        dataset_name=f"bench_dlt_{name}",
        pipelines_dir=str(folder / "dlt"),
    )
    started = time.perf_counter()
    pipeline.run(customers())
    return time.perf_counter() - started
