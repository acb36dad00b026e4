"""One stream per CRM module: incremental reads by ``date_modified``, idempotent writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from connectors.base import Outcome, Page, Quarantined, RawRecord, Stream
from connectors.crm.client import CrmClient, Resource
from connectors.crm.cursor import Position, closed_before, fingerprint, parse_stamp
from connectors.crm.writes import RecordWriter, key_of

log = logging.getLogger(__name__)


def parse_resource(
    stream: str, resource: Resource
) -> tuple[tuple[datetime, RawRecord] | None, Quarantined | None]:
    """A JSON:API resource as ``(date_modified, RawRecord)``, or why it cannot be read.

    The record's data is its attributes plus its ``id`` (the resource ``type`` is left out:
    Cases have an attribute of that name)."""
    record_id = resource.get("id")
    attributes = resource.get("attributes")
    name = f"{resource.get('type') or stream} {record_id or '<no id>'}"
    raw = repr(resource).encode("utf-8")
    if not isinstance(record_id, str) or not record_id:
        return None, Quarantined(stream, name, "the record has no id", raw)
    if not isinstance(attributes, dict):
        return None, Quarantined(stream, name, "the record has no attributes object", raw)
    stamp = parse_stamp(attributes.get("date_modified"))
    if stamp is None:
        value = attributes.get("date_modified")
        reason = f"date_modified: {value!r} is not an ISO 8601 timestamp"
        return None, Quarantined(stream, name, reason, raw)
    record = RawRecord(
        stream=stream,
        key=record_id,
        data={"id": record_id, **attributes},
        version=str(attributes["date_modified"]),
        source=name,
    )
    return (stamp, record), None


class ModuleStream(Stream):
    """``name`` (``accounts``) over the CRM module ``module`` (``Accounts``)."""

    def __init__(self, name: str, module: str, client: CrmClient) -> None:
        self.name = name
        self.module = module
        self.client = client
        self.writer = RecordWriter(client, module)

    def read(self, cursor: str | None) -> Iterator[Page]:
        position = Position.decode(cursor)
        settings = self.client.settings
        while True:
            query = position.query(settings.page_size)
            rows, server_now = self.client.records_page(
                self.module, filters=query.filters, sort=query.sort, size=query.size
            )
            new: list[tuple[datetime, RawRecord, str]] = []
            quarantined: list[Quarantined] = []
            for resource in rows:
                parsed, problem = parse_resource(self.name, resource)
                if problem is not None:
                    quarantined.append(problem)
                elif parsed is not None:
                    stamp, record = parsed
                    content = fingerprint(record.data)
                    if position.admits(stamp, record.key, content):
                        new.append((stamp, record, content))
            full = len(rows) >= query.size
            count, after = position.step(
                [(stamp, record.key, content) for stamp, record, content in new],
                query=query,
                full=full,
                closed_before=closed_before(server_now, settings.clock_margin),
            )
            log.debug("%s: %d listed, %d new, %d handed out", self.name, len(rows), len(new), count)
            if count or quarantined:
                yield Page([record for _, record, _ in new[:count]], after.encode(), quarantined)
            if after == position or not (full or query.by_id):
                return  # the last page (or, with only unreadable records, no way forward)
            position = after

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        key_field = self.client.settings.key_field
        outcomes: list[Outcome] = []
        for record in records:
            key = key_of(record, key_field, self.module)
            outcomes.append(self.attempt(key, partial(self.writer.write, record)))
        return outcomes


STREAMS: dict[str, str] = {
    "accounts": "Accounts",
    "contacts": "Contacts",
    "cases": "Cases",
    "notes": "Notes",
    "opportunities": "Opportunities",
    "leads": "Leads",
}
