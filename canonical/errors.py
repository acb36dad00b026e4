"""The one error taxonomy of Tandem.

Every failure that crosses a module boundary is one of these. Whether a failure is worth
retrying is a property of its *type*: retry helpers catch ``TransientError`` only.
Library errors are wrapped with their cause chained (``raise TransientError(...) from exc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TandemError(Exception):
    """Base of every error Tandem raises on purpose."""


class TransientError(TandemError):
    """A failure that may go away by itself: timeouts, refused connections, 5xx, locks.

    ``retry_after`` (seconds) is a hint from the peer (an HTTP Retry-After header).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(TandemError):
    """A failure that repeating the same request will not fix (validation faults, 4xx, auth)."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of one record. ``path`` is like ``line_items[2].quantity``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidRecord(PermanentError):
    """A record that cannot be accepted, with *all* its field errors, not only the first.

    Names the source system, the record id and every field path, e.g.
    ``webshop order 1042: line_items[2].quantity: 'abc' is not a number``.
    """

    def __init__(
        self,
        source: str,
        record_id: str | None,
        errors: Sequence[FieldError],
        *,
        entity: str | None = None,
    ) -> None:
        self.source = source
        self.record_id = record_id
        self.entity = entity
        self.errors: tuple[FieldError, ...] = tuple(errors)
        what = " ".join(p for p in (source, entity, record_id or "<no id>") if p)
        super().__init__(f"{what}: " + "; ".join(str(e) for e in self.errors))

    @classmethod
    def single(
        cls,
        source: str,
        record_id: str | None,
        path: str,
        message: str,
        *,
        entity: str | None = None,
    ) -> InvalidRecord:
        return cls(source, record_id, [FieldError(path, message)], entity=entity)
