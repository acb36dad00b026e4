"""The one retry helper every transport uses (SOAP, SFTP, SQL, HTTP), and a health probe.

- ``RetryPolicy``: attempts in total, exponential backoff from ``initial_wait`` to ``max_wait``,
  random ``jitter`` added to each wait, and a cap on how long a peer's Retry-After is honoured.
  Each connection's settings carry their own policy.
- ``with_retries(fn, policy, what=...)``: runs ``fn`` again only after a ``TransientError``
  (never a ``PermanentError`` or a library error that nobody mapped); waits at least the
  error's ``retry_after``; the last error is raised as it is, its cause chain intact.
- ``retry_after_seconds``: an HTTP Retry-After header (seconds or HTTP date) in seconds.
- ``Health`` / ``check_health``: one probe of a peer, reported instead of raised.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity
from pydantic import BaseModel, ConfigDict, Field

from canonical.errors import TandemError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetryPolicy(BaseModel):
    """Attempts in total (1 = no retry); waits grow from ``initial_wait`` up to ``max_wait``
    (seconds), plus up to ``jitter`` seconds at random; a peer's Retry-After is honoured up to
    ``max_retry_after`` seconds."""

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(default=3, ge=1)
    initial_wait: float = Field(default=0.1, ge=0)
    max_wait: float = Field(default=2.0, ge=0)
    jitter: float = Field(default=0.1, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_seconds(policy: RetryPolicy, attempt: int, retry_after: float | None = None) -> float:
    """Wait after failed ``attempt`` (1-based): exponential, capped, jittered; never shorter
    than the peer's Retry-After (itself capped at ``max_retry_after``)."""
    delay = min(policy.max_wait, policy.initial_wait * 2.0 ** (attempt - 1))
    delay += random.uniform(0, policy.jitter)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_retry_after))
    return delay


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = getattr(exc, "retry_after", None)
        retry_after = float(hint) if isinstance(hint, int | float) else None
        return backoff_seconds(policy, state.attempt_number, retry_after)

    return wait


def _log_retry(what: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "%s failed (attempt %d), retrying in %.2fs: %s", what, state.attempt_number, wait, exc
        )

    return before_sleep


def with_retries(fn: Callable[[], T], policy: RetryPolicy, *, what: str = "call") -> T:
    """Runs ``fn`` until it succeeds, raises anything but ``TransientError``, or the policy's
    attempts run out (then the last ``TransientError`` is raised, cause chained)."""
    retryer = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        before_sleep=_log_retry(what),
        reraise=True,
    )
    return retryer(fn)


@dataclass(frozen=True)
class Health:
    """The outcome of one probe of a peer: ``ok``, what was seen, and how long it took."""

    ok: bool
    detail: str
    seconds: float
    transient: bool = False  # when not ok: worth waiting for (peer down) vs fix needed (auth)

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'} ({self.seconds * 1000:.0f} ms): {self.detail}"


def check_health(probe: Callable[[], object], *, what: str) -> Health:
    """Runs ``probe`` once (no retries) and reports our errors instead of raising them."""
    started = time.monotonic()
    try:
        probe()
    except TandemError as exc:
        elapsed = time.monotonic() - started
        return Health(False, f"{what}: {exc}", elapsed, transient=isinstance(exc, TransientError))
    return Health(True, f"{what}: reachable", time.monotonic() - started)
