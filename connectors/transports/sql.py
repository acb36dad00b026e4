"""SQL transport (SQLAlchemy): engines from settings, database errors mapped to our taxonomy.

- ``SqlSettings``: the URL as a secret (messages show it through ``safe_url()`` only, the
  password hidden), connect timeout, retry policy.
- ``make_engine(settings)``: an engine with pre-ping and a connect timeout for PostgreSQL,
  MariaDB/MySQL and SQLite.
- ``translate_sql_error`` / ``sql_call``: SQLAlchemy errors become ``TransientError``
  (connection refused or lost, deadlock, lock timeout, serialization failure, "database is
  locked") or ``PermanentError`` (bad credential, unknown database, integrity, syntax, data),
  naming the table and the row key when known, the cause chained, never the password nor the
  statement's parameters.
- ``ping(engine)``: ``SELECT 1``, reported as a ``Health``.

Readers and writers live in ``sql_incremental`` (``IncrementalReader``, ``Watermark``) and
``sql_upsert`` (``UpsertWriter``); both retry through ``connectors.transports.retry``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import exc as sx
from sqlalchemy.engine import Engine, make_url

from canonical.errors import PermanentError, TandemError, TransientError
from connectors.transports.retry import Health, RetryPolicy, check_health, with_retries

T = TypeVar("T")

# MariaDB/MySQL server error numbers that no retry can fix: access denied, unknown database
_MYSQL_PERMANENT = frozenset({1044, 1045, 1049, 1698, 1142, 1143})
# PostgreSQL reports connection-time refusals without an SQLSTATE; their text tells
_PG_REFUSED = re.compile(
    r"password authentication failed|authentication failed|role \".*\" does not exist"
    r"|database \".*\" does not exist|no pg_hba\.conf entry|permission denied",
    re.IGNORECASE,
)
_PG_PERMANENT_STATES = ("28", "3D", "42", "22", "23")  # auth, catalog, syntax, data, integrity
_SQLITE_TRANSIENT = ("locked", "busy", "disk i/o error")
_PERMANENT_KINDS = (sx.IntegrityError, sx.ProgrammingError, sx.DataError, sx.NotSupportedError)


class SqlSettings(BaseModel):
    """How to reach one database. ``url`` is secret: only ``safe_url()`` ever shows it."""

    model_config = ConfigDict(frozen=True)

    url: SecretStr
    connect_timeout: float = Field(default=5.0, gt=0)
    pool_size: int = Field(default=5, ge=1)
    retry: RetryPolicy = RetryPolicy()

    def safe_url(self) -> str:
        return safe_url(self.url.get_secret_value())

    def password(self) -> str | None:
        try:
            return make_url(self.url.get_secret_value()).password
        except sx.ArgumentError:
            return None


def safe_url(url: str | sa.URL) -> str:
    """The URL with its password replaced by ``***`` (or a placeholder when unparsable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sx.ArgumentError:
        return "<unparsable database URL>"


def make_engine(settings: SqlSettings) -> Engine:
    """An engine for ``settings`` (connects lazily; pre-ping drops dead pooled connections)."""
    raw = settings.url.get_secret_value()
    try:
        url = make_url(raw)
    except sx.ArgumentError as exc:
        raise PermanentError("invalid database URL (not shown: it may hold a password)") from exc
    timeout = settings.connect_timeout
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": True}
    backend = url.get_backend_name()
    if backend == "sqlite":
        connect_args["timeout"] = timeout  # how long to wait for a lock
    else:
        connect_args["connect_timeout"] = max(1, round(timeout))
        options.update(pool_size=settings.pool_size, max_overflow=settings.pool_size)
    try:
        return sa.create_engine(url, connect_args=connect_args, **options)
    except (sx.ArgumentError, sx.NoSuchModuleError, ImportError) as exc:
        raise PermanentError(f"{safe_url(url)}: cannot use this database URL: {exc}") from exc


# -- errors ------------------------------------------------------------------------------------


def _first_line(orig: BaseException | None, fallback: BaseException) -> str:
    text = str(orig if orig is not None else fallback).strip()
    return text.splitlines()[0] if text else type(fallback).__name__


def _is_transient_operational(exc: sx.DBAPIError) -> bool:
    orig = exc.orig
    message = str(orig).lower()
    module = type(orig).__module__
    if module.startswith("sqlite3"):
        return any(part in message for part in _SQLITE_TRANSIENT)
    args = getattr(orig, "args", ())
    if module.startswith("pymysql") or module.startswith("MySQLdb"):
        code = args[0] if args and isinstance(args[0], int) else None
        return code not in _MYSQL_PERMANENT
    state = str(getattr(orig, "sqlstate", "") or "")
    if state.startswith(_PG_PERMANENT_STATES):
        return False
    return _PG_REFUSED.search(message) is None


def is_transient(exc: BaseException) -> bool:
    """Whether a SQLAlchemy/DBAPI error may go away by itself (lock, deadlock, lost server)."""
    if isinstance(exc, sx.DisconnectionError | sx.TimeoutError):
        return True
    if not isinstance(exc, sx.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc, _PERMANENT_KINDS):
        return False
    if isinstance(exc, sx.OperationalError):
        return _is_transient_operational(exc)
    return isinstance(exc, sx.InterfaceError)


def translate_sql_error(
    exc: BaseException,
    *,
    what: str,
    table: str | None = None,
    key: Any = None,
    secret: str | None = None,
) -> TandemError | None:
    """Our error for a database failure, or None when ``exc`` is not one. The message names
    ``what``, the table and the key; never ``secret`` nor the statement's parameters."""
    if isinstance(exc, TandemError):
        return exc
    if not isinstance(exc, sx.SQLAlchemyError):
        return None
    orig = exc.orig if isinstance(exc, sx.DBAPIError) else None
    detail = _first_line(orig, exc)
    if secret:
        detail = detail.replace(secret, "***")
    where = "".join(
        (f" table {table}" if table else "", f" key {key!r}" if key is not None else "")
    )
    text = f"{what}{':' if where else ''}{where}: {type(exc).__name__}: {detail}"
    if is_transient(exc):
        return TransientError(text)
    return PermanentError(text)


def sql_call(
    fn: Callable[[], T],
    *,
    what: str,
    table: str | None = None,
    key: Any = None,
    secret: str | None = None,
) -> T:
    """One attempt of ``fn()`` with database errors mapped (cause chained)."""
    try:
        return fn()
    except Exception as exc:
        mapped = translate_sql_error(exc, what=what, table=table, key=key, secret=secret)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def engine_password(engine: Engine) -> str | None:
    """The engine's password, only to scrub it from messages."""
    password = engine.url.password
    return None if password is None else str(password)


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def ping(engine: Engine) -> Health:
    """``SELECT 1`` once: a refused or lost server is reported as transient, a refused
    credential or unknown database as permanent."""
    what = f"database {safe_url(engine.url)}"
    secret = engine_password(engine)
    return check_health(
        lambda: sql_call(lambda: _select_one(engine), what="SELECT 1", secret=secret), what=what
    )


def run_with_retries(
    engine: Engine,
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    table: str | None = None,
    key: Any = None,
) -> T:
    """``fn`` through ``sql_call`` and the shared retry helper (transient errors only)."""
    secret = engine_password(engine)
    return with_retries(
        lambda: sql_call(fn, what=what, table=table, key=key, secret=secret),
        policy,
        what=f"{what} {table}" if table else what,
    )


def reflect_table(engine: Engine, name: str, *, schema: str | None, retry: RetryPolicy) -> sa.Table:
    """The table (or view) ``name`` as the database describes it, with retries."""
    return run_with_retries(
        engine,
        lambda: sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine),
        retry,
        what="reflecting",
        table=name,
    )
