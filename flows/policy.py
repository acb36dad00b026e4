"""Retry policy for deliveries: exponential backoff with jitter, honouring the peer's hint."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from canonical.errors import TransientError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 5.0  # seconds before the 2nd attempt; doubles each time
    max_delay: float = 900.0
    jitter: float = 0.2  # +/- fraction of the delay

    def next_attempt(
        self, attempts: int, error: Exception, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after ``attempts`` failed tries, or None: it is a dead letter."""
        if not isinstance(error, TransientError) or attempts >= self.max_attempts:
            return None
        delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
        if self.jitter:
            delay *= 1 + (rng or random).uniform(-self.jitter, self.jitter)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.max_delay))
        return now + timedelta(seconds=max(0.0, delay))


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_urls(text: str) -> str:
    """Drop ``user:password@`` from any URL in a message before it is logged or stored."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)


def describe(error: BaseException) -> str:
    """One line for the delivery log: the error and its cause, never a traceback or a
    credential embedded in a URL."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if cause is not None and str(cause) not in text:
        text += f" (caused by {type(cause).__name__}: {cause})"
    return redact_urls(" ".join(text.split()))[:2000]
