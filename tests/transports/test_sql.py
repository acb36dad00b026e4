"""SQL transport on SQLite, PostgreSQL and MariaDB: incremental reads, upserts, error taxonomy."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine, make_url

from canonical.errors import PermanentError, TransientError
from connectors.transports.retry import RetryPolicy
from connectors.transports.sql import (
    SqlSettings,
    engine_password,
    make_engine,
    ping,
    sql_call,
)
from connectors.transports.sql_incremental import IncrementalReader, Watermark
from connectors.transports.sql_upsert import UpsertWriter
from tests.services import MARIADB_URL, POSTGRES_URL, need_service
from tests.transports.contract import Peer, TransportContract, closed_port

NO_RETRY = RetryPolicy(attempts=1)
T0 = datetime(2024, 5, 1, 12, 0, 0)
BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def _server_url(backend: str) -> str:
    if backend == "postgres":
        need_service("PostgreSQL", POSTGRES_URL)
        return POSTGRES_URL
    need_service("MariaDB", MARIADB_URL)
    return MARIADB_URL


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'source.sqlite'}"
    else:
        url = _server_url(request.param)
    built = make_engine(SqlSettings(url=SecretStr(url), connect_timeout=3, retry=NO_RETRY))
    yield built
    built.dispose()


@pytest.fixture
def table(engine: Engine) -> Iterator[sa.Table]:
    """A fresh table ``t_<random>`` (id, name, qty NOT NULL, updated_at), dropped afterwards."""
    metadata = sa.MetaData()
    stamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    created = sa.Table(
        f"t_{uuid.uuid4().hex[:10]}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50)),
        sa.Column("qty", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", stamp, nullable=False),
    )
    metadata.create_all(engine)
    yield created
    metadata.drop_all(engine)


def put(engine: Engine, table: sa.Table, *rows: tuple[int, str, datetime]) -> None:
    """Insert or replace rows (id, name, updated_at) the plain way, as another writer would."""
    with engine.begin() as conn:
        for id_, name, at in rows:
            conn.execute(sa.delete(table).where(table.c.id == id_))
            conn.execute(sa.insert(table).values(id=id_, name=name, updated_at=at))


def contents(engine: Engine, table: sa.Table) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def identities(engine: Engine, table: sa.Table) -> set[tuple[datetime, tuple[int]]]:
    return {(r[3], (r[0],)) for r in contents(engine, table)}


def reader(engine: Engine, table: sa.Table, **options: Any) -> IncrementalReader:
    values: dict[str, Any] = {"overlap": timedelta(seconds=10), "batch_size": 3, **options}
    return IncrementalReader(
        engine, table.name, updated_at_col="updated_at", key_cols=["id"], **values
    )


# -- watermark -----------------------------------------------------------------------------


def test_watermark_round_trips_as_a_string() -> None:
    mark = Watermark(T0, (7, "EU"), frozenset({(T0 - timedelta(seconds=1), (3, "US"))}))
    text = str(mark)
    assert Watermark.parse(text) == mark
    assert "EU" in text
    with pytest.raises(PermanentError, match="invalid SQL watermark"):
        Watermark.parse('{"updated_at": "yesterday"}')


# -- incremental reads ---------------------------------------------------------------------


def test_reads_in_batches_across_runs_while_rows_change(engine: Engine, table: sa.Table) -> None:
    """Rows inserted, updated and committed late between batches (ties on updated_at
    included) are all emitted, and no row version twice, over several runs."""
    put(engine, table, *[(i, f"r{i}", T0 + timedelta(seconds=i // 3)) for i in range(10, 20)])
    emitted: Counter[tuple[datetime, tuple[int, ...]]] = Counter()
    mark: Watermark | None = None
    rounds = 4  # batches after which another writer changes the table
    for _run in range(4):
        for rows, batch_mark in reader(engine, table).read(mark):
            emitted.update((r["updated_at"], (r["id"],)) for r in rows)
            at = batch_mark.updated_at
            if rounds > 0:
                rounds -= 1
                put(
                    engine,
                    table,
                    (2 * rounds + 1, "tie behind the scan", at),  # same updated_at, lower key
                    (2 * rounds + 2, "committed late", at - timedelta(seconds=5)),
                    (10 + rounds, "updated again", at + timedelta(seconds=1)),
                )
            mark = batch_mark
        mark = Watermark.parse(str(mark)) if mark else None  # as the hub stores it
    assert [i for i, n in emitted.items() if n > 1] == []
    assert identities(engine, table) <= set(emitted)
    assert {key[0] for _, key in emitted} == set(range(1, 9)) | set(range(10, 20))


def test_overlap_rereads_without_duplicates(engine: Engine, table: sa.Table) -> None:
    put(engine, table, *[(i, f"r{i}", T0 + timedelta(seconds=i)) for i in range(1, 6)])
    first = [row for rows, _ in reader(engine, table).read(None) for row in rows]
    mark = list(reader(engine, table).read(None))[-1][1]
    assert [r["id"] for r in first] == [1, 2, 3, 4, 5]

    assert list(reader(engine, table).read(mark)) == []  # the window is re-read, nothing new

    put(engine, table, (6, "late, inside the window", T0 + timedelta(seconds=2)))
    put(engine, table, (7, "late, older than the window", T0 - timedelta(seconds=60)))
    again = list(reader(engine, table).read(mark))
    assert [[r["id"] for r in rows] for rows, _ in again] == [[6]]
    assert list(reader(engine, table).read(again[-1][1])) == []


def test_a_missing_column_or_table_is_permanent_and_named(engine: Engine, table: sa.Table) -> None:
    wrong_column = IncrementalReader(
        engine, table.name, updated_at_col="changed_on", key_cols=["id"]
    )
    with pytest.raises(PermanentError, match=f"table {table.name}.*changed_on"):
        next(wrong_column.read())
    no_table = IncrementalReader(
        engine, "t_missing", updated_at_col="updated_at", key_cols=["id"], retry=NO_RETRY
    )
    with pytest.raises(PermanentError, match="t_missing") as info:
        next(no_table.read())
    assert info.value.__cause__ is not None


# -- upserts -------------------------------------------------------------------------------


def rows_of(*spec: tuple[int, str, int]) -> list[dict[str, Any]]:
    return [{"id": i, "name": n, "qty": q, "updated_at": T0} for i, n, q in spec]


def test_upsert_is_idempotent(engine: Engine, table: sa.Table) -> None:
    writer = UpsertWriter(engine, table.name, ["id"], batch_size=2)
    rows = rows_of((1, "a", 1), (2, "b", 2), (3, "c", 3), (4, "d", 4), (5, "e", 5))
    first = writer.write(rows)
    snapshot = contents(engine, table)
    second = writer.write(rows)
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 5)
    assert contents(engine, table) == snapshot
    assert [r[:3] for r in snapshot] == [
        (1, "a", 1),
        (2, "b", 2),
        (3, "c", 3),
        (4, "d", 4),
        (5, "e", 5),
    ]


def test_upsert_updates_changed_rows_only(engine: Engine, table: sa.Table) -> None:
    writer = UpsertWriter(engine, table.name, ["id"], batch_size=2)
    writer.write(rows_of((1, "a", 1), (2, "b", 2), (3, "c", 3)))
    result = writer.write(rows_of((1, "a", 1), (2, "B", 2), (3, "c", 30), (4, "d", 4)))
    assert (result.inserted, result.updated, result.unchanged) == (1, 2, 1)
    assert [r[:3] for r in contents(engine, table)] == [
        (1, "a", 1),
        (2, "B", 2),
        (3, "c", 30),
        (4, "d", 4),
    ]


def test_upsert_keeps_good_rows_and_names_the_bad_one(engine: Engine, table: sa.Table) -> None:
    writer = UpsertWriter(engine, table.name, ["id"], retry=NO_RETRY)
    rows = rows_of((1, "a", 1), (2, "b", 2), (3, "c", 3))
    rows[1]["qty"] = None  # NOT NULL
    result = writer.write([*rows, {"id": 9, "nope": 1}])
    assert result.inserted == 2
    assert [r.key for r in result.rejected] == [(9,), (2,)]
    assert f"table {table.name} key (2,)" in str(result.rejected[1].error)
    assert "unknown column(s) ['nope']" in str(result.rejected[0].error)
    assert [r[0] for r in contents(engine, table)] == [1, 3]


# -- error taxonomy ------------------------------------------------------------------------


def _hold_lock(engine: Engine, table: sa.Table) -> sa.Connection:
    holder = engine.connect()
    holder.begin()
    holder.execute(sa.update(table).where(table.c.id == 1).values(qty=99))
    return holder


def test_lock_timeout_is_transient(engine: Engine, table: sa.Table) -> None:
    put(engine, table, (1, "locked", T0))
    holder = _hold_lock(engine, table)
    try:
        timeout = {
            "sqlite": None,
            "postgresql": "SET lock_timeout = '100ms'",
            "mysql": "SET SESSION innodb_lock_wait_timeout = 1",
            "mariadb": "SET SESSION innodb_lock_wait_timeout = 1",
        }[engine.dialect.name]
        waiter = engine if timeout else sa.create_engine(engine.url, connect_args={"timeout": 0.1})

        def blocked() -> None:
            with waiter.begin() as conn:
                if timeout:
                    conn.execute(sa.text(timeout))
                conn.execute(sa.update(table).where(table.c.id == 1).values(qty=1))

        with pytest.raises(TransientError, match=table.name) as info:
            sql_call(blocked, what="update", table=table.name)
        assert isinstance(info.value.__cause__, sa.exc.OperationalError)
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_deadlock_is_transient(backend: str) -> None:
    engine = make_engine(SqlSettings(url=SecretStr(_server_url(backend))))
    name = f"t_{uuid.uuid4().hex[:10]}"
    metadata = sa.MetaData()
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("v", sa.Integer),
    )
    metadata.create_all(engine)
    errors: list[BaseException] = []
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(table), [{"id": 1, "v": 0}, {"id": 2, "v": 0}])
        barrier = threading.Barrier(2, timeout=10)

        def worker(first: int, second: int) -> None:
            def work() -> None:
                with engine.begin() as conn:
                    if backend == "postgres":
                        conn.execute(sa.text("SET deadlock_timeout = '50ms'"))
                    conn.execute(sa.update(table).where(table.c.id == first).values(v=first))
                    barrier.wait()
                    conn.execute(sa.update(table).where(table.c.id == second).values(v=first))

            try:
                sql_call(work, what="update", table=name)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=a) for a in ((1, 2), (2, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert len(errors) == 1
        assert isinstance(errors[0], TransientError)
        assert "deadlock" in str(errors[0]).lower()
    finally:
        metadata.drop_all(engine)
        engine.dispose()


def test_settings_never_show_the_password() -> None:
    settings = SqlSettings(url=SecretStr("postgresql+psycopg://svc:pw-xyz-123@db:5432/erp"))
    assert "pw-xyz-123" not in repr(settings)
    assert settings.safe_url() == "postgresql+psycopg://svc:***@db:5432/erp"
    with pytest.raises(PermanentError) as info:
        make_engine(SqlSettings(url=SecretStr("not a url pw-xyz-123")))
    assert "pw-xyz-123" not in str(info.value)


# -- the shared contract on the database servers --------------------------------------------

_FAKE_PASSWORD = "pw-contract-7f3a9"


class TestSqlContract(TransportContract):
    @pytest.fixture(
        params=[
            pytest.param("postgres", marks=pytest.mark.postgres),
            pytest.param("mariadb", marks=pytest.mark.mariadb),
        ]
    )
    def server_url(self, request: pytest.FixtureRequest) -> str:
        return _server_url(request.param)

    @staticmethod
    def _peer(url: sa.URL, secret: str | None = None) -> Iterator[Peer]:
        engine = make_engine(
            SqlSettings(url=SecretStr(url.render_as_string(hide_password=False)), connect_timeout=2)
        )

        def select_one() -> None:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))

        yield Peer(
            call=lambda: sql_call(select_one, what="SELECT 1", secret=engine_password(engine)),
            ping=lambda: ping(engine),
            secret=secret,
        )
        engine.dispose()

    @pytest.fixture
    def working(self, server_url: str) -> Iterator[Peer]:
        yield from self._peer(make_url(server_url))

    @pytest.fixture
    def peer_down(self, server_url: str) -> Iterator[Peer]:
        yield from self._peer(make_url(server_url).set(port=closed_port()))

    @pytest.fixture
    def bad_credential(self, server_url: str) -> Iterator[Peer]:
        url = make_url(server_url)
        # the local PostgreSQL trusts every password: an unknown role is refused instead
        user = "tandem_nobody" if url.get_backend_name() == "postgresql" else url.username
        yield from self._peer(url.set(username=user, password=_FAKE_PASSWORD), _FAKE_PASSWORD)
