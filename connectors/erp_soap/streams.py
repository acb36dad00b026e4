"""``PageStream``: one NAV page read incrementally, in pages of ``ReadMultiple`` with bookmarks.

Two ways to know what is new, chosen per stream in the settings (``StreamSettings``):

- by last-modified field: ``ReadMultiple`` filtered on ``field >= since``. Records come in
  primary-key order, not by time, so the watermark after a read is the newest stamp read less
  ``lookback`` (a record changed behind the bookmark during the read is newer than that), and
  the cursor keeps the records read at or after the watermark with their stamps: a record comes
  again only with a new stamp. Equal timestamps at the boundary are neither skipped nor
  repeated.
- by number (posted documents, which NAV numbers in ascending order and never changes): the
  bookmark of the last record read.

``watch_fields`` add a scan for FlowFields that change without a new stamp (inventory,
remaining amount): a record read before whose watched values changed comes again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from connectors.base import Ack, Outcome, Page, Quarantined, RawRecord, Stream
from connectors.erp_soap.client import NavPageClient, Record, exact
from connectors.erp_soap.cursors import (
    EPOCH,
    ReadState,
    digest,
    earlier,
    parse_stamp,
    stamp_text,
)
from connectors.erp_soap.records import BadRecord
from connectors.erp_soap.settings import StreamSettings

Writer = Callable[[Mapping[str, Any]], Ack]
KeyOf = Callable[[Mapping[str, Any]], str]
_Step = tuple[list[RawRecord], list[Quarantined], ReadState, bool]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _stamp(value: Any) -> str | None:
    """A last-modified value as the cursor keeps it; None when it is not a date-time."""
    if value is None or value == "":
        return None
    try:
        return stamp_text(parse_stamp(value))
    except (TypeError, ValueError):
        return None


def _matches(row: Mapping[str, Any], criteria: Mapping[str, str]) -> bool:
    """The simple (exact value) criteria of a watch filter, applied to a record read."""
    return all(_text(row.get(f)).lower() == c.strip("'").lower() for f, c in criteria.items())


class PageStream(Stream):
    def __init__(
        self,
        name: str,
        client: NavPageClient,
        config: StreamSettings,
        *,
        page_size: int,
        lookback: timedelta,
        since_criteria: str = "{since}..",
        writer: Writer | None = None,
        key_of: KeyOf | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.config = config
        self.page_size = page_size
        self.lookback = lookback
        self.since_criteria = since_criteria
        self._writer = writer
        self._key_of = key_of or (lambda record: _text(record.get("No")))

    # -- writes --------------------------------------------------------------------------

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        if self._writer is None:
            return super().write(records)
        writer = self._writer
        return [self.attempt(self._key_of(r), partial(writer, r)) for r in records]

    # -- reads ---------------------------------------------------------------------------

    def read(self, cursor: str | None) -> Iterator[Page]:
        state = ReadState.decode(cursor, stream=self.name)
        steps = self._modified(state) if self.config.modified_field else self._numbered(state)
        for records, bad, after, last in steps:
            state = after.finished(self.lookback) if last else after
            yield Page(records, state.encode(), bad)
        if self.config.watch_fields:
            records, bad, state = self._watch(state)
            yield Page(records, state.encode(), bad)

    def _raw(self, row: Record) -> RawRecord:
        version = _text(row.get("Key"))
        if self.config.watch_fields:
            version += "#" + digest(row, self.config.watch_fields)
        no = _text(row.get("No"))
        return RawRecord(self.name, no, row, version, f"{self.client.page} {no}")

    def _quarantine(self, row: Record, position: int, reason: str) -> Quarantined:
        no = _text(row.get("No")) or f"record {position + 1} of the page"
        raw = json.dumps(row, default=str, sort_keys=True).encode()
        return Quarantined(self.name, f"{self.client.page} {no}", reason, raw)

    def _malformed(self, bad: BadRecord) -> Quarantined:
        where = f"{self.client.page} {bad.no}" if bad.no else f"{self.client.page} (no No)"
        return Quarantined(self.name, where, bad.reason, bad.raw)

    def _remember(self, watched: dict[str, str], row: Record) -> None:
        if self.config.watch_fields and _matches(row, self.config.watch_filter):
            watched[_text(row["No"])] = digest(row, self.config.watch_fields)

    def _modified(self, state: ReadState) -> Iterator[_Step]:
        field = self.config.modified_field
        assert field is not None
        filters = []
        if state.since is not None:
            filters.append((field, self.since_criteria.format(since=state.since)))
        while True:
            found = self.client.read_page(filters, state.bookmark, self.page_size)
            records: list[RawRecord] = []
            bad: list[Quarantined] = []
            top, fresh, watched = state.top, dict(state.fresh), dict(state.watched)
            for malformed in found.bad:  # quarantined once: remembered with its stamp
                stamp = _stamp(malformed.texts.get(field))
                if malformed.no and stamp is not None:
                    if state.seen.get(malformed.no) == stamp:
                        continue
                    fresh[malformed.no] = stamp
                    top = stamp if top is None or stamp > top else top
                bad.append(self._malformed(malformed))
            for position, row in enumerate(found.rows):
                if not row.get("No"):
                    bad.append(self._quarantine(row, position, "field No: missing"))
                    continue
                value = row.get(field)
                stamp = EPOCH if value in (None, "") else _stamp(value)  # blank: never changed
                if stamp is None:
                    reason = f"field {field}: {value!r} is not a date-time"
                    bad.append(self._quarantine(row, position, reason))
                    continue
                no = _text(row["No"])
                if state.seen.get(no) == stamp:
                    continue  # read before, unchanged: a record at the watermark's boundary
                records.append(self._raw(row))
                fresh[no] = stamp
                top = stamp if top is None or stamp > top else top
                self._remember(watched, row)
            if top is not None:  # older entries fall below the watermark anyway
                floor = earlier(top, self.lookback)
                fresh = {no: s for no, s in fresh.items() if s >= floor}
            bookmark = found.last_key or state.bookmark
            state = replace(state, bookmark=bookmark, top=top, fresh=fresh, watched=watched)
            last = found.count < self.page_size
            yield records, bad, state, last
            if last:
                return

    def _numbered(self, state: ReadState) -> Iterator[_Step]:
        while True:
            found = self.client.read_page((), state.after, self.page_size)
            records: list[RawRecord] = []
            bad = [self._malformed(b) for b in found.bad]
            watched = dict(state.watched)
            for position, row in enumerate(found.rows):
                if not row.get("No"):
                    bad.append(self._quarantine(row, position, "field No: missing"))
                    continue
                records.append(self._raw(row))
                self._remember(watched, row)
            state = replace(state, after=found.last_key or state.after, watched=watched)
            last = found.count < self.page_size
            yield records, bad, state, last
            if last:
                return

    def _watch(self, state: ReadState) -> tuple[list[RawRecord], list[Quarantined], ReadState]:
        """Records read before whose watched FlowFields changed. Records not read before are
        only remembered: the next read by stamp or number returns them."""
        fields = self.config.watch_fields
        current: dict[str, str] = {}
        changed: list[RawRecord] = []
        bad: list[Quarantined] = []
        filters = list(self.config.watch_filter.items())
        bookmark: str | None = None
        while True:
            found = self.client.read_page(filters, bookmark, self.page_size)
            for malformed in found.bad:  # quarantined when read by stamp or number
                if malformed.no in state.watched:
                    current[malformed.no] = state.watched[malformed.no]
            for row in found.rows:
                no = _text(row.get("No"))
                if not no:
                    continue
                current[no] = digest(row, fields)
                if no in state.watched and state.watched[no] != current[no]:
                    changed.append(self._raw(row))
            if found.count < self.page_size:
                break
            bookmark = found.last_key
        for no in sorted(set(state.watched) - set(current)):  # left the filter (paid) or gone
            again = self.client.read_page([("No", exact(no))], None, 1)
            bad.extend(self._malformed(b) for b in again.bad)
            for row in again.rows:
                if digest(row, fields) != state.watched[no]:
                    changed.append(self._raw(row))
                    self._remember(current, row)
        return changed, bad, replace(state, watched=current)
