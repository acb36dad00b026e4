"""Control numbers that are never reused, per partner, in a SQL table of their own.

``ControlNumbers(url)`` keeps one row per (partner, kind) in ``x12_control_numbers`` with a
unique constraint; ``next(partner, kind)`` increments it in one transaction (``UPDATE ...
SET value = value + 1`` then read back), so two processes sharing the database never get
the same number: the database's row/write lock orders them. ``kind`` is ``ISA13``, ``GS06``
or ``ST02``; numbers run 1..999999999.

``x12_sent`` remembers each document sent (partner, set code, document key, content
digest) with its control numbers and file name, so re-sending the same document reuses its
numbers and file instead of uploading a second one, and a 997 can be matched to what was
sent (``record_ack``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from canonical.errors import PermanentError, TransientError

KINDS = ("ISA13", "GS06", "ST02")
MAX_CONTROL = 999_999_999

metadata = MetaData()

control_numbers = Table(
    "x12_control_numbers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("value", Integer, nullable=False),
    UniqueConstraint("partner", "kind", name="uq_x12_control_numbers_partner_kind"),
)

sent_documents = Table(
    "x12_sent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner", String(64), nullable=False),
    Column("set_code", String(8), nullable=False),
    Column("doc_key", String(128), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("isa13", Integer, nullable=False),
    Column("gs06", Integer, nullable=False),
    Column("st02", Integer, nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("ack_status", String(2)),  # AK501/AK901: A, E, R, P...
    Column("acked_at", DateTime(timezone=True)),
    UniqueConstraint("partner", "set_code", "doc_key", "digest", name="uq_x12_sent_doc"),
)


@dataclass(frozen=True)
class SentDocument:
    partner: str
    set_code: str
    doc_key: str
    digest: str
    isa13: int
    gs06: int
    st02: int
    file_name: str
    ack_status: str | None = None


def default_url(directory: Path | None = None) -> str:
    """A SQLite file ``x12_control.db`` in ``directory`` (default: the working directory)."""
    path = (directory or Path.cwd()) / "x12_control.db"
    return f"sqlite:///{path}"


class ControlNumbers:
    """The durable control-number counter and sent-document log of one database."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.engine = engine or create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
        except OperationalError as exc:
            raise TransientError(f"control number store {self._where}: {exc.orig}") from exc

    @property
    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def next(self, partner: str, kind: str) -> int:
        """The next unused number of ``kind`` for ``partner`` (1 for a new partner)."""
        if kind not in KINDS:
            raise PermanentError(f"control number kind must be one of {KINDS}, not {kind!r}")
        for attempt in range(20):
            try:
                return self._increment(partner, kind)
            except IntegrityError:  # two processes inserted the first row at once
                continue
            except OperationalError as exc:  # locked beyond the busy timeout
                if attempt == 19:
                    raise TransientError(
                        f"control number store {self._where} busy: {exc.orig}"
                    ) from exc
                time.sleep(0.05 * (attempt + 1))
        raise TransientError(f"control number store {self._where}: could not increment")

    def _increment(self, partner: str, kind: str) -> int:
        where = (control_numbers.c.partner == partner) & (control_numbers.c.kind == kind)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(control_numbers)
                .where(where)
                .values(value=control_numbers.c.value % MAX_CONTROL + 1)
            )
            if done.rowcount == 0:
                conn.execute(insert(control_numbers).values(partner=partner, kind=kind, value=1))
                return 1
            value: int = conn.execute(select(control_numbers.c.value).where(where)).scalar_one()
            return value

    def current(self, partner: str, kind: str) -> int:
        """The last number handed out (0 when none)."""
        where = (control_numbers.c.partner == partner) & (control_numbers.c.kind == kind)
        with self.engine.connect() as conn:
            value = conn.execute(select(control_numbers.c.value).where(where)).scalar()
        return int(value or 0)

    # -- what was sent ---------------------------------------------------------------------

    def find_sent(
        self, partner: str, set_code: str, doc_key: str, digest: str
    ) -> SentDocument | None:
        c = sent_documents.c
        query = select(sent_documents).where(
            (c.partner == partner)
            & (c.set_code == set_code)
            & (c.doc_key == doc_key)
            & (c.digest == digest)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _sent(row) if row else None

    def record_sent(self, doc: SentDocument) -> SentDocument:
        """Remember a sent document; when the same one was recorded meanwhile, that wins."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(sent_documents).values(
                        partner=doc.partner,
                        set_code=doc.set_code,
                        doc_key=doc.doc_key,
                        digest=doc.digest,
                        isa13=doc.isa13,
                        gs06=doc.gs06,
                        st02=doc.st02,
                        file_name=doc.file_name,
                        sent_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            found = self.find_sent(doc.partner, doc.set_code, doc.doc_key, doc.digest)
            if found is None:
                raise
            return found
        return doc

    def record_ack(self, partner: str, gs06: int, st02: int | None, status: str) -> int:
        """Mark what a 997 acknowledges (a whole group when ``st02`` is None); the number of
        sent documents it matched."""
        c = sent_documents.c
        where = (c.partner == partner) & (c.gs06 == gs06)
        if st02 is not None:
            where &= c.st02 == st02
        with self.engine.begin() as conn:
            done = conn.execute(
                update(sent_documents)
                .where(where)
                .values(ack_status=status, acked_at=datetime.now(UTC))
            )
        return int(done.rowcount)

    def sent(self, partner: str) -> list[SentDocument]:
        query = select(sent_documents).where(sent_documents.c.partner == partner)
        with self.engine.connect() as conn:
            return [
                _sent(row) for row in conn.execute(query.order_by(sent_documents.c.id)).mappings()
            ]

    def close(self) -> None:
        self.engine.dispose()


def _sent(row: object) -> SentDocument:
    m = dict(row)  # type: ignore[call-overload]
    return SentDocument(
        m["partner"],
        m["set_code"],
        m["doc_key"],
        m["digest"],
        m["isa13"],
        m["gs06"],
        m["st02"],
        m["file_name"],
        m["ack_status"],
    )


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()
