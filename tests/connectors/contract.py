"""The contract every connector keeps against its real peer, as a reusable test mixin.

How to use it for a connector ``foo``::

    from tests.connectors.contract import ConnectorContract, ConnectorPeer

    class TestFooContract(ConnectorContract):
        @pytest.fixture
        def peer(self, ...) -> Iterator[ConnectorPeer]:
            yield ConnectorPeer(connector=..., stream="orders", add_records=..., ...)

        @pytest.fixture
        def dead(self) -> Connector:
            return FooConnector(settings pointing at closed_port())

Every ``test_*`` below then runs for ``foo``. What a ``ConnectorPeer`` gives:

- ``connector``: configured against the live peer (sandbox or real server on loopback);
- ``stream``: the stream the read checks use; ``add_records(n)`` creates or changes ``n``
  records of it *in the peer* (through the peer's own API or files, not through the
  connector) and returns their keys as the connector reports them (``RawRecord.key``);
- ``write_stream`` / ``sample()`` / ``count(record)`` / ``bad()``: a fresh valid record to
  write, how many copies of it the peer holds, and a record the peer must refuse for good.
  Leave ``write_stream`` None for a read-only system and the write checks skip (say so);
- ``corrupt()``: puts one malformed record/file into the peer and returns a fragment of its
  name (file name, record id) the quarantine reason or source must contain; None when the
  peer cannot hold malformed data (typed APIs);
- ``secret``: a credential value of the connector that must appear in no log line.

What the contract checks:

1. an incremental read returns every record once: a second read from the final cursor
   returns nothing; records added to the peer then come back, and only they;
2. records added while a read is under way are not skipped (they come in that read or the
   next one from its cursor);
3. writing the same record twice leaves one record in the peer, with the same external id;
4. a bad record is rejected as permanent while the rest of the batch is written;
5. a malformed record in the peer is quarantined with its name and reason; the rest is read;
6. a dead peer: ``health()`` reports it (not ok, transient) without raising, and a read
   raises ``TransientError`` with the library error chained as its cause;
7. no secret in any log record, even at DEBUG.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from canonical.errors import PermanentError, TransientError
from connectors.base import Ack, Connector, Page, Rejected


@dataclass
class ConnectorPeer:
    connector: Connector
    stream: str
    add_records: Callable[[int], set[str]]
    write_stream: str | None = None
    sample: Callable[[], Mapping[str, Any]] | None = None
    count: Callable[[Mapping[str, Any]], int] | None = None
    bad: Callable[[], Mapping[str, Any]] | None = None
    corrupt: Callable[[], str] | None = None
    secret: str | None = None


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def drain(connector: Connector, stream: str, cursor: str | None) -> tuple[list[str], str | None]:
    """Every key read from ``cursor`` on, in order, and the cursor after the last page."""
    keys: list[str] = []
    for page in connector.read(stream, cursor):
        keys.extend(r.key for r in page.records)
        cursor = page.cursor if page.cursor is not None else cursor
    return keys, cursor


def _pages(connector: Connector, stream: str, cursor: str | None) -> list[Page]:
    return list(connector.read(stream, cursor))


class ConnectorContract:
    @pytest.fixture
    def peer(self) -> ConnectorPeer:
        raise NotImplementedError("a connector's contract test provides a `peer` fixture")

    @pytest.fixture
    def dead(self) -> Connector:
        raise NotImplementedError("a connector's contract test provides a `dead` fixture")

    # -- 1, 2: incremental reads ---------------------------------------------------------

    def test_incremental_read_has_no_duplicates_and_no_skips(self, peer: ConnectorPeer) -> None:
        first, cursor = drain(peer.connector, peer.stream, None)
        assert len(first) == len(set(first)), "a key came twice in one read"
        again, cursor = drain(peer.connector, peer.stream, cursor)
        assert again == [], f"nothing changed, yet a read from the cursor returned {again}"
        added = peer.add_records(3)
        assert len(added) == 3
        later, cursor = drain(peer.connector, peer.stream, cursor)
        assert set(later) == added, f"expected exactly the changed records {added}, got {later}"
        assert len(later) == len(set(later))
        final, _ = drain(peer.connector, peer.stream, cursor)
        assert final == []

    def test_records_added_during_a_read_are_not_skipped(self, peer: ConnectorPeer) -> None:
        _, cursor = drain(peer.connector, peer.stream, None)
        peer.add_records(2)
        pages = peer.connector.read(peer.stream, cursor)
        seen: list[str] = []
        first = next(pages, None)
        if first is not None:
            seen.extend(r.key for r in first.records)
            cursor = first.cursor if first.cursor is not None else cursor
        added = peer.add_records(2)  # while the read is under way
        for page in pages:
            seen.extend(r.key for r in page.records)
            cursor = page.cursor if page.cursor is not None else cursor
        rest, _ = drain(peer.connector, peer.stream, cursor)
        missing = added - set(seen) - set(rest)
        assert not missing, f"records added during the read were skipped: {missing}"

    # -- 3, 4: writes ----------------------------------------------------------------------

    def _writes(self, peer: ConnectorPeer) -> tuple[str, Callable[[], Mapping[str, Any]]]:
        if peer.write_stream is None or peer.sample is None:
            pytest.skip(f"{peer.connector.system}: no write checks (read-only system)")
        return peer.write_stream, peer.sample

    def test_writing_the_same_record_twice_leaves_one(self, peer: ConnectorPeer) -> None:
        stream, sample = self._writes(peer)
        record = sample()
        first = peer.connector.write(stream, [record])
        second = peer.connector.write(stream, [record])
        assert isinstance(first[0], Ack), first
        assert isinstance(second[0], Ack), second
        assert first[0].external_id == second[0].external_id
        if peer.count is not None:
            assert peer.count(record) == 1

    def test_a_bad_record_is_rejected_and_the_rest_written(self, peer: ConnectorPeer) -> None:
        stream, sample = self._writes(peer)
        if peer.bad is None:
            pytest.skip(f"{peer.connector.system}: the peer accepts every well-typed record")
        good = sample()
        outcomes = peer.connector.write(stream, [peer.bad(), good])
        assert len(outcomes) == 2
        rejected, written = outcomes
        assert isinstance(rejected, Rejected), rejected
        assert isinstance(rejected.error, PermanentError)
        assert not rejected.transient
        assert isinstance(written, Ack), written
        if peer.count is not None:
            assert peer.count(good) == 1

    # -- 5: quarantine -----------------------------------------------------------------------

    def test_malformed_input_is_quarantined_and_the_rest_read(self, peer: ConnectorPeer) -> None:
        if peer.corrupt is None:
            pytest.skip(f"{peer.connector.system}: the peer cannot hold malformed records")
        _, cursor = drain(peer.connector, peer.stream, None)
        name = peer.corrupt()
        added = peer.add_records(1)
        pages = _pages(peer.connector, peer.stream, cursor)
        quarantined = [q for p in pages for q in p.quarantined]
        keys = {r.key for p in pages for r in p.records}
        assert quarantined, "the malformed input was not quarantined"
        assert any(name in q.source or name in q.reason for q in quarantined), quarantined
        assert all(q.reason for q in quarantined)
        assert added <= keys, "good input next to the malformed one was not read"

    # -- 6: dead peer ------------------------------------------------------------------------

    def test_health_reports_a_dead_peer(self, dead: Connector) -> None:
        health = dead.health()
        assert not health.ok
        assert health.transient, health

    def test_reading_from_a_dead_peer_is_a_transient_error(self, dead: Connector) -> None:
        stream = next(iter(dead.streams))
        with pytest.raises(TransientError) as caught:
            list(dead.read(stream, None))
        assert caught.value.__cause__ is not None, "the library error was not chained"

    def test_a_live_peer_is_healthy(self, peer: ConnectorPeer) -> None:
        health = peer.connector.health()
        assert health.ok, health

    # -- 7: secrets ----------------------------------------------------------------------------

    def test_no_secret_in_logs(
        self, peer: ConnectorPeer, dead: Connector, caplog: pytest.LogCaptureFixture
    ) -> None:
        if not peer.secret:
            pytest.skip(f"{peer.connector.system}: no credential configured")
        caplog.set_level(logging.DEBUG)
        drain(peer.connector, peer.stream, None)
        dead.health()
        with pytest.raises(TransientError):
            list(dead.read(next(iter(dead.streams)), None))
        leaked = [r.getMessage() for r in caplog.records if peer.secret in r.getMessage()]
        assert not leaked, leaked


def chain(error: BaseException) -> Iterator[BaseException]:
    """An error and its causes, outermost first."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__
