"""The cursors of the ERP streams: compact JSON, opaque to everyone but the stream.

``ReadState`` holds where the next read starts and what it must not return again:

- ``since`` / ``seen``: the last-modified watermark (inclusive) and the records already read at
  or after it, ``No -> stamp``, so records sharing a timestamp at the boundary come once.
  Stamps are kept as ``stamp_text`` writes them (UTC, milliseconds), which sort as they compare;
- ``after``: the number of the last record read, for streams without a last-modified field
  (posted documents, numbered in ascending order);
- ``watched``: ``No -> digest`` of the FlowFields a stream watches (an item's Inventory, an
  invoice's Remaining_Amount), to return a record whose watched values changed;
- ``bookmark`` / ``top`` / ``fresh``: only while a read is under way: the ReadMultiple bookmark
  to go on from, the newest stamp read so far, and the records read at stamps that may become
  the next watermark's boundary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from canonical.errors import PermanentError

VERSION = 1


@dataclass(frozen=True)
class ReadState:
    since: str | None = None
    seen: dict[str, str] = field(default_factory=dict)
    after: str | None = None
    watched: dict[str, str] = field(default_factory=dict)
    bookmark: str | None = None
    top: str | None = None
    fresh: dict[str, str] = field(default_factory=dict)

    def encode(self) -> str:
        body = {k: v for k, v in asdict(self).items() if v not in (None, {})}
        return json.dumps({"v": VERSION, **body}, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, cursor: str | None, *, stream: str) -> ReadState:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict) or data.pop("v", None) != VERSION:
                raise ValueError("not a cursor of this connector version")
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise PermanentError(f"erp_soap {stream}: cursor {cursor[:60]!r} is invalid") from exc

    def finished(self, lookback: timedelta) -> ReadState:
        """The state after a complete read: the watermark moves to the newest stamp read less
        ``lookback`` (never back), and keeps the records read at or after it."""
        since = self.since
        if self.top is not None:
            candidate = earlier(self.top, lookback)
            if since is None or candidate > since:
                since = candidate
        seen = {**self.seen, **self.fresh}
        if since is not None:
            seen = {no: s for no, s in seen.items() if s >= since}
        return replace(self, since=since, seen=seen, bookmark=None, top=None, fresh={})


def parse_stamp(value: Any) -> datetime:
    """A last-modified value (zeep's datetime or its text) as an aware UTC datetime."""
    if isinstance(value, datetime):
        stamp = value
    else:
        stamp = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


EPOCH = "0001-01-01T00:00:00.000Z"  # a record that has no stamp (never changed since)


def earlier(stamp: str, by: timedelta) -> str:
    """``stamp`` (as ``stamp_text`` writes it) moved back ``by``, not before ``EPOCH``."""
    try:
        return stamp_text(parse_stamp(stamp) - by)
    except OverflowError:
        return EPOCH


def stamp_text(value: datetime) -> str:
    """``2025-01-06T08:00:00.123Z``: NAV's precision, the form the filter criteria takes."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def digest(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """A short fingerprint of the watched fields' values."""
    text = "\x1f".join(_plain(record.get(name)) for name in fields)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
