"""The one shape every connector has: streams that read with a cursor and write with acks.

A connector is the only system-specific I/O. Read one connector and you can read them all::

    class Customers(Stream):
        name = "customers"
        key = "id"

        def read(self, cursor: str | None) -> Iterator[Page]:
            for rows, next_cursor in self.client.pages(modified_after=cursor):
                yield Page(records=[self.record(r) for r in rows], cursor=next_cursor)

        def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
            return [self.attempt(r, self._upsert) for r in records]

    class WebshopConnector(Connector):
        system = "webshop"

        def __init__(self, settings: WebshopSettings) -> None:
            self.client = ...
            super().__init__([Customers(self.client), Orders(self.client)])

        def health(self) -> Health: ...

Semantics every connector keeps (the contract suite in ``tests/connectors/contract.py``
proves them against the real peer):

- ``read(cursor)`` yields ``Page`` objects. A page's ``cursor`` is the position *after* that
  page: the flow stores it only once the page's records are durable in the hub, so a crash
  re-reads at most one page and the hub's dedupe keys absorb the overlap. ``None`` as a cursor
  means "from the beginning". Cursors are opaque strings to everyone but their stream.
- A record the connector cannot even parse is not raised: it comes back in
  ``Page.quarantined`` with the file/record name, the field and the raw bytes, and the rest of
  the page goes on.
- ``write(records)`` returns one ``Outcome`` per input record, in order: an ``Ack`` with the
  peer's id and version, or a ``Rejected`` with the error (a ``TandemError``, transient or
  permanent by type). Writing the same record twice leaves one record in the peer.
- ``health()`` reports; it never raises (``check_health`` wraps one cheap call).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canonical.errors import PermanentError, TandemError, TransientError
from connectors.transports.retry import Health, check_health

__all__ = [
    "Ack",
    "Connector",
    "Health",
    "Outcome",
    "Page",
    "Quarantined",
    "RawRecord",
    "Rejected",
    "Stream",
    "check_health",
]

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class RawRecord:
    """One record as the system gave it (already decoded: a dict from JSON/XML/X12/CSV).

    ``key`` is the system's id of the record; ``version`` what the system says changed it
    (last-modified stamp, Key, etag) when it says anything; ``source`` names where it came
    from (file name and position, page and id) for messages; ``raw`` keeps the original
    bytes when the record came from a document.
    """

    stream: str
    key: str
    data: Mapping[str, Any]
    version: str | None = None
    source: str = ""
    raw: bytes | None = None


@dataclass(frozen=True)
class Quarantined:
    """Input that could not be read: where it was, what was wrong, and the bytes as they came."""

    stream: str
    source: str  # file name and record/line/segment position
    reason: str  # names the field, e.g. "line 7, column 'qty': 'n/a' is not a number"
    raw: bytes = b""


@dataclass(frozen=True)
class Page:
    """Records read in one step, what could not be read, and the cursor after them."""

    records: Sequence[RawRecord] = ()
    cursor: str | None = None
    quarantined: Sequence[Quarantined] = ()


@dataclass(frozen=True)
class Ack:
    """The peer took the record: its id, its version after the write, and whether it is new."""

    key: str  # the id of the record in our input (canonical or source id), for matching
    external_id: str
    version: str | None = None
    created: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return True


@dataclass(frozen=True)
class Rejected:
    """The peer did not take the record; ``error.transient`` says whether to retry later."""

    key: str
    error: TandemError

    @property
    def ok(self) -> bool:
        return False

    @property
    def transient(self) -> bool:
        return isinstance(self.error, TransientError)


Outcome = Ack | Rejected


class Stream(ABC):
    """One entity of one system. Override ``read``, and ``write`` when the peer takes writes."""

    name: str = ""

    @abstractmethod
    def read(self, cursor: str | None) -> Iterator[Page]:
        """Pages of records after ``cursor`` (``None``: from the beginning), each with the
        cursor that follows it."""

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        raise PermanentError(f"stream {self.name} is read-only")

    @staticmethod
    def attempt(key: str, write_one: Callable[[], Ack]) -> Outcome:
        """Run one record's write; a ``TandemError`` becomes a ``Rejected`` for that record
        only, so one bad record does not stop the batch."""
        try:
            return write_one()
        except TandemError as exc:
            return Rejected(key, exc)


class Connector(ABC):
    """A system: its streams by name, and its health."""

    system: str = ""

    def __init__(self, streams: Sequence[Stream]) -> None:
        self.streams: dict[str, Stream] = {s.name: s for s in streams}

    def stream(self, name: str) -> Stream:
        try:
            return self.streams[name]
        except KeyError:
            known = ", ".join(sorted(self.streams)) or "none"
            raise PermanentError(
                f"{self.system} has no stream {name!r} (streams: {known})"
            ) from None

    def read(self, stream: str, cursor: str | None = None) -> Iterator[Page]:
        return self.stream(stream).read(cursor)

    def write(self, stream: str, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return self.stream(stream).write(records)

    @abstractmethod
    def health(self) -> Health:
        """One cheap round trip to the peer, reported (never raised)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; connectors without any keep the default."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
