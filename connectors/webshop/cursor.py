"""The incremental cursor of the web shop's streams: the last change instant and who was seen.

WooCommerce stamps changes to the second, so many records can share one ``date_modified_gmt``
and ``modified_after`` is strict. A cursor is therefore ``(instant, {id: fingerprint})``: the
latest ``date_modified_gmt`` read, and every record read *at that instant* with a short hash of
its content. The next query asks for ``modified_after = instant - 1 s`` (so the instant itself
comes again) and skips, client-side, the records already seen there; a record that changed
again within the same second has a new fingerprint and is read again.

As text (opaque to everyone else) a cursor is compact JSON: ``{"at": "2025-03-10T12:00:05",
"seen": {"1042": "9f3c1a2b"}}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from canonical.errors import PermanentError

Json = Mapping[str, Any]
MODIFIED = "date_modified_gmt"


def fingerprint(record: Json) -> str:
    """Eight hex digits that change when anything in the record changes."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def instant(value: Any) -> datetime:
    """A WooCommerce GMT stamp (``2025-03-10T12:00:05``, no offset) as a naive UTC datetime;
    ``ValueError`` when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    if moment.tzinfo is not None:
        raise ValueError(f"{value!r} has an offset; expected a GMT stamp without one")
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class Cursor:
    """``at``: the latest change instant read (None: nothing read yet); ``seen``: the ids read
    at exactly that instant, each with its fingerprint."""

    at: datetime | None = None
    seen: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            at = instant(data["at"])
            seen = {str(k): str(v) for k, v in dict(data.get("seen") or {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PermanentError(
                f"web shop cursor {text[:80]!r} is not one this connector wrote: {exc}"
            ) from exc
        return cls(at, seen)

    def text(self) -> str | None:
        if self.at is None:
            return None
        stamp = self.at.isoformat(timespec="seconds")
        return json.dumps({"at": stamp, "seen": dict(self.seen)}, separators=(",", ":"))

    def modified_after(self) -> str | None:
        """The ``modified_after`` query value that re-reads this cursor's instant."""
        if self.at is None:
            return None
        return (self.at - timedelta(seconds=1)).isoformat(timespec="seconds")

    def is_new(self, key: str, at: datetime, print_: str) -> bool:
        """Whether a record changed at ``at`` comes after this cursor."""
        if self.at is None or at > self.at:
            return True
        return at == self.at and self.seen.get(key) != print_

    def after(self, items: Iterable[tuple[str, datetime, str]]) -> Cursor:
        """This cursor moved past ``items`` (``(key, instant, fingerprint)``, in change order)."""
        at, seen = self.at, dict(self.seen)
        for key, moment, print_ in items:
            if at is None or moment > at:
                at, seen = moment, {key: print_}
            elif moment == at:
                seen[key] = print_
        return Cursor(at, seen)
