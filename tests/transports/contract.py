"""The contract every transport (SOAP, SQL, SFTP, HTTP...) keeps, as a reusable test mixin.

How to use it for a transport ``foo``::

    from tests.transports.contract import Peer, TransportContract

    class TestFooContract(TransportContract):
        @pytest.fixture
        def working(self) -> Iterator[Peer]:
            ...start or find a real peer on loopback...
            yield Peer(call=lambda: client.list("/"), ping=client.ping)
            ...stop it...

        @pytest.fixture
        def peer_down(self) -> Peer:
            # the same client pointed at a closed port (see ``closed_port()``)
            return Peer(call=..., ping=...)

        @pytest.fixture
        def bad_credential(self) -> Peer:
            # a live peer, a wrong password/key; ``secret`` is that password
            return Peer(call=..., ping=..., secret="wrong-pw-123")

Every test of the mixin then runs for ``foo`` (pytest collects the inherited ``test_*``). A
``Peer`` is what a test sees of one configured client:

- ``call``: ONE attempt of one cheap, read-only operation, with library errors already
  mapped to ``canonical.errors`` (no retries inside: the contract adds them);
- ``ping``: the transport's health probe (``connectors.transports.retry.Health``), which
  reports instead of raising;
- ``secret``: the credential text that must never show in an error or a log line (default:
  none to check);
- ``attempts``: optional, the number of attempts the *peer* saw (e.g. from the sandbox's
  counters), when it can tell; otherwise calls are counted on our side.

What the contract checks:

1. a working client calls and pings fine;
2. a peer that is down gives ``TransientError`` with the library's error chained as
   ``__cause__``, and the shared retry helper tries it exactly ``policy.attempts`` times;
3. a bad credential gives ``PermanentError`` (cause chained) and is tried exactly once;
4. the secret appears in no error message (of the whole cause chain) and in no log record,
   even at DEBUG level;
5. the health probe of a dead peer reports it (not ok, transient), and of a bad credential
   reports it as permanent, without raising.

Override ``policy`` for slower peers; skip a check in a subclass by overriding its test with
a ``pytest.mark.skip(reason=...)``-decorated method when a transport cannot do it (say why).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from canonical.errors import PermanentError, TransientError
from connectors.transports.retry import Health, RetryPolicy, with_retries


@dataclass
class Peer:
    call: Callable[[], object]
    ping: Callable[[], Health]
    secret: str | None = None
    attempts: Callable[[], int] | None = None


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _counted(peer: Peer) -> tuple[Callable[[], object], Callable[[], int]]:
    count = [0]

    def call() -> object:
        count[0] += 1
        return peer.call()

    return call, (peer.attempts or (lambda: count[0]))


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


class TransportContract:
    """Mixin: subclass it as ``Test<Transport>Contract`` and provide the three fixtures."""

    policy = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)

    @pytest.fixture
    def working(self) -> Peer:
        raise NotImplementedError("a client of a live peer with a valid credential")

    @pytest.fixture
    def peer_down(self) -> Peer:
        raise NotImplementedError("a client whose peer does not answer (closed port)")

    @pytest.fixture
    def bad_credential(self) -> Peer:
        raise NotImplementedError("a client of a live peer with a wrong credential")

    # -- 1 ------------------------------------------------------------------------------

    def test_working_client_calls_and_pings(self, working: Peer) -> None:
        with_retries(working.call, self.policy, what="contract call")
        health = working.ping()
        assert health.ok, health

    # -- 2 ------------------------------------------------------------------------------

    def test_peer_down_is_transient_with_cause(self, peer_down: Peer) -> None:
        with pytest.raises(TransientError) as info:
            peer_down.call()
        assert info.value.__cause__ is not None, "the library error must be chained"

    def test_peer_down_is_retried_up_to_the_policy(self, peer_down: Peer) -> None:
        call, attempts = _counted(peer_down)
        before = attempts() if peer_down.attempts else 0
        with pytest.raises(TransientError):
            with_retries(call, self.policy, what="contract call")
        assert attempts() - before == self.policy.attempts

    # -- 3 ------------------------------------------------------------------------------

    def test_bad_credential_is_permanent_and_not_retried(self, bad_credential: Peer) -> None:
        call, attempts = _counted(bad_credential)
        before = attempts() if bad_credential.attempts else 0
        with pytest.raises(PermanentError) as info:
            with_retries(call, self.policy, what="contract call")
        assert not isinstance(info.value, TransientError)
        assert info.value.__cause__ is not None, "the library error must be chained"
        assert attempts() - before == 1

    # -- 4 ------------------------------------------------------------------------------

    def test_secret_never_in_errors_or_logs(
        self, bad_credential: Peer, caplog: pytest.LogCaptureFixture
    ) -> None:
        secret = bad_credential.secret
        if not secret:
            pytest.skip("this transport's bad_credential fixture names no secret")
        with caplog.at_level(logging.DEBUG), pytest.raises(PermanentError) as info:
            with_retries(bad_credential.call, self.policy, what="contract call")
        for exc in _chain(info.value):
            assert secret not in str(exc), f"{type(exc).__name__} shows the secret"
        health = bad_credential.ping()
        assert secret not in str(health)
        assert secret not in caplog.text

    # -- 5 ------------------------------------------------------------------------------

    def test_ping_reports_a_dead_peer(self, peer_down: Peer) -> None:
        health = peer_down.ping()
        assert not health.ok
        assert health.transient, health
        assert health.detail

    def test_ping_reports_a_bad_credential_as_permanent(self, bad_credential: Peer) -> None:
        health = bad_credential.ping()
        assert not health.ok
        assert not health.transient, health
