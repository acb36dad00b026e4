"""Incremental reads: keyset pages from the shop's own change filter, or a filtered snapshot.

``keyset_pages`` (orders, and any collection with ``modified_after``): ask for records changed
after ``cursor.at - 1 s``, oldest change first (``orderby=modified&order=asc``,
``dates_are_gmt=true``), skip the ones the cursor has seen, and ask again *from the new cursor*
(page 1) rather than for page 2. A record that changes while we page moves to the end of the
order; asking for page N+1 would then skip the record that slid onto page N, asking from the
cursor cannot. Only a page of nothing but already-seen records (more than ``per_page`` changes
in one second) makes the reader step to the next page of the same query; ``X-WP-TotalPages``
says when there is none.

``snapshot_pages`` (customers, whose endpoint has no date filter; products with their
variations): read the candidates, keep those after the cursor, sort them by (change, id) and
hand them out ``per_page`` at a time, each page with the cursor after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Page, Quarantined, RawRecord
from connectors.transports.http import Params
from connectors.webshop import checks
from connectors.webshop.api import ShopApi
from connectors.webshop.cursor import MODIFIED, Cursor, fingerprint, instant

KeyOf = Callable[[Mapping[str, Any]], str]


def by_id(record: Mapping[str, Any]) -> str:
    return str(record["id"]).strip()


@dataclass(frozen=True)
class Entry:
    """One item of a listing: where the cursor puts it, and what the stream hands on."""

    cursor_id: str | None
    at: datetime | None
    print_: str
    item: RawRecord | Quarantined

    @property
    def placed(self) -> bool:
        """Whether the cursor can place it (an id and a change stamp)."""
        return self.cursor_id is not None and self.at is not None

    def sort_key(self) -> tuple[datetime, int, str]:
        ident = self.cursor_id or ""
        return (self.at or datetime.min, int(ident) if ident.isdigit() else 0, ident)


def entry(stream: str, path: str, item: Any, check: checks.Check, key_of: KeyOf) -> Entry:
    """A listed item as a ``RawRecord``, or as ``Quarantined`` naming the fields at fault."""
    ident = checks.record_id(item)
    at: datetime | None = None
    if isinstance(item, Mapping):
        try:
            at = instant(item.get(MODIFIED))
        except ValueError:
            at = None
    print_ = fingerprint(item) if isinstance(item, Mapping) else ""
    source = f"webshop {path.strip('/')}/{ident or '?'}"
    raw = json.dumps(item, ensure_ascii=False, default=str).encode()
    problems = checks.problems_of(check, item)
    if problems:
        reason = f"{source}: " + "; ".join(problems)
        return Entry(ident, at, print_, Quarantined(stream, source, reason, raw))
    assert isinstance(item, Mapping) and at is not None
    record = RawRecord(
        stream=stream,
        key=key_of(item),
        data=item,
        version=str(item[MODIFIED]),
        source=source,
        raw=raw,
    )
    return Entry(ident, at, print_, record)


def _is_new(cursor: Cursor, e: Entry) -> bool:
    if e.cursor_id is None or e.at is None:
        return False
    return cursor.is_new(e.cursor_id, e.at, e.print_)


def _advance(cursor: Cursor, entries: Iterable[Entry]) -> Cursor:
    return cursor.after(
        (e.cursor_id, e.at, e.print_)
        for e in entries
        if e.cursor_id is not None and e.at is not None
    )


def _strays(entries: Iterable[Entry]) -> list[Quarantined]:
    """Quarantined items the cursor cannot place: reported, never a reason to move."""
    return [e.item for e in entries if not e.placed and isinstance(e.item, Quarantined)]


def _page(entries: list[Entry], cursor: Cursor, extra: list[Quarantined] | None = None) -> Page:
    records = [e.item for e in entries if isinstance(e.item, RawRecord)]
    bad = [e.item for e in entries if isinstance(e.item, Quarantined)] + (extra or [])
    return Page(records=records, cursor=cursor.text(), quarantined=bad)


def keyset_pages(
    api: ShopApi,
    stream: str,
    path: str,
    check: checks.Check,
    cursor_text: str | None,
    *,
    params: Params | None = None,
    key_of: KeyOf = by_id,
) -> Iterator[Page]:
    cursor = Cursor.parse(cursor_text)
    number = 1
    unplaced: set[tuple[str, bytes]] = set()  # quarantined without a stamp, already reported
    while True:
        query = {**(params or {}), "orderby": "modified", "order": "asc", "dates_are_gmt": "true"}
        if cursor.modified_after():
            query["modified_after"] = cursor.modified_after()
        items, total_pages = api.page(path, query, number)
        entries = [entry(stream, path, item, check, key_of) for item in items]
        fresh = [e for e in entries if _is_new(cursor, e)]
        # a shop without modified_after (before WooCommerce 5.8) lists from the start every
        # time: then step through its pages instead of asking "from the cursor" again
        ignored = cursor.at is not None and any(e.at and e.at < cursor.at for e in entries)
        stray = [q for q in _strays(entries) if (q.source, q.raw) not in unplaced]
        unplaced.update((q.source, q.raw) for q in stray)
        if fresh or stray:
            cursor = _advance(cursor, fresh)
            yield _page(fresh, cursor, stray)
        if api.last(items, number, total_pages):
            return
        number = 1 if fresh and not ignored else number + 1


def snapshot_pages(
    stream: str, entries: Iterable[Entry], cursor_text: str | None, per_page: int
) -> Iterator[Page]:
    cursor = Cursor.parse(cursor_text)
    listed = list(entries)
    fresh = sorted((e for e in listed if _is_new(cursor, e)), key=Entry.sort_key)
    stray = _strays(listed)
    if stray and not fresh:
        yield Page(cursor=cursor.text(), quarantined=stray)
    for start in range(0, len(fresh), per_page):
        chunk = fresh[start : start + per_page]
        cursor = _advance(cursor, chunk)
        yield _page(chunk, cursor, stray if start == 0 else None)
