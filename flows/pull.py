"""Pull: a connector stream into the hub's inbox, page by page, with its cursor.

Each page is one transaction: its records (deduplicated by system, stream, key and version),
what the connector quarantined (raw bytes and reason kept, status ``quarantined``) and the
cursor after the page. So the cursor never runs ahead of data that is durable, and a crash
re-reads at most one page, whose records the dedupe keys absorb.

What happens to the records is the processor's business (``flows.processing``): pulling and
processing are separate steps, so a slow or failing processor never holds up reading, and a
message can be reprocessed (replayed) from the inbox without asking the source again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from connectors.base import Connector, Quarantined, RawRecord
from flows.faults import fault_point
from flows.summary import FlowSummary
from hub.schema import InboxStatus
from hub.store import Hub, IncomingMessage
from hub.views import receive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullSpec:
    """Which stream of which system lands in the inbox as which kind of message."""

    system: str
    stream: str
    kind: str

    @property
    def cursor_name(self) -> str:
        return f"{self.system}.{self.stream}"


def record_body(record: RawRecord) -> bytes:
    return json.dumps(record.data, sort_keys=True, default=str, ensure_ascii=False).encode()


def dedupe_key(spec: PullSpec, record: RawRecord, body: bytes) -> str:
    """The same record with the same content is one message, however often it is read.

    The content's digest is part of the key even when the system gives a version: systems
    stamp changes to the second (or not at all for computed fields), so two different states
    of a record can carry one version, and the second must not be taken for a duplicate."""
    digest = hashlib.sha256(body).hexdigest()[:24]
    key = f"{spec.system}:{spec.stream}:{record.key}:{record.version or ''}:{digest}"
    return key if len(key) <= 200 else f"{key[:150]}:{hashlib.sha256(key.encode()).hexdigest()}"


def _quarantine_key(spec: PullSpec, item: Quarantined) -> str:
    digest = hashlib.sha256(item.source.encode() + b"\0" + item.raw).hexdigest()
    return f"{spec.system}:{spec.stream}:quarantined:{digest}"


def pull(
    hub: Hub,
    connector: Connector,
    spec: PullSpec,
    *,
    full: bool = False,
    max_pages: int | None = None,
    summary: FlowSummary | None = None,
) -> FlowSummary:
    """Read ``spec.stream`` from its cursor (from the beginning when ``full``) into the inbox."""
    summary = summary or FlowSummary(f"pull {spec.cursor_name}")
    with hub.begin() as hs:
        cursor = None if full else hs.get_cursor(spec.cursor_name)
    for number, page in enumerate(connector.read(spec.stream, cursor), start=1):
        fault_point("after_read")
        with hub.begin() as hs:
            for record in page.records:
                body = record_body(record)
                result = receive(
                    hs,
                    IncomingMessage(
                        source_system=spec.system,
                        kind=spec.kind,
                        dedupe_key=dedupe_key(spec, record, body),
                        body=body,
                        headers={"key": record.key, "source": record.source[:500]},
                    ),
                )
                summary.read += 1
                summary.unchanged += int(result.duplicate)
            for item in page.quarantined:
                receive(
                    hs,
                    IncomingMessage(
                        source_system=spec.system,
                        kind=spec.kind,
                        dedupe_key=_quarantine_key(spec, item),
                        body=item.raw,
                        content_type="application/octet-stream",
                        headers={"source": item.source[:500]},
                    ),
                    status=InboxStatus.QUARANTINED,
                    error=f"{item.source}: {item.reason}",
                )
                summary.quarantined += 1
                log.warning("quarantined %s: %s", item.source, item.reason)
            fault_point("before_cursor_commit")
            if page.cursor is not None:
                hs.set_cursor(spec.cursor_name, page.cursor)
        fault_point("after_hub_write")
        if max_pages is not None and number >= max_pages:
            break
    return summary
