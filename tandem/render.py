"""Rich renderings for the CLI: tables of flows, summaries, deliveries and message traces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from rich.console import RenderableType
from rich.table import Table
from sqlalchemy.engine import make_url

from flows.registry import FlowSpec
from flows.summary import FlowSummary
from hub.queries import MessageTrace
from hub.schema import Delivery, InboxMessage


def safe_url(url: str) -> str:
    """A database URL fit for printing: the password is masked."""
    return make_url(url).render_as_string(hide_password=True)


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def flows_table(specs: Iterable[FlowSpec]) -> Table:
    table = Table("flow", "from", "to", "what it does", title="flows")
    for spec in specs:
        table.add_row(spec.name, spec.source, ", ".join(spec.targets), spec.description)
    return table


def summary_table(summary: FlowSummary) -> Table:
    table = Table(*summary.counts().keys(), title=f"{summary.flow}: summary")
    table.add_row(*(str(v) for v in summary.counts().values()))
    for note in summary.notes:
        table.add_section()
        table.caption = (table.caption + "\n" if table.caption else "") + note
    return table


def deliveries_table(rows: Iterable[Delivery], *, title: str) -> Table:
    table = Table(
        "id",
        "status",
        "target",
        "entity",
        "correlation",
        "attempts",
        "external id",
        "last error",
        title=title,
    )
    for d in rows:
        table.add_row(
            str(d.id),
            d.status,
            d.target_system,
            d.entity,
            d.correlation_id or "",
            str(d.attempts),
            d.external_id or "",
            d.last_error or "",
        )
    return table


_MESSAGE_COLUMNS = ("message", "received", "source", "kind", "correlation", "status", "error")


def messages_table(rows: Iterable[InboxMessage], *, title: str) -> Table:
    table = Table(*_MESSAGE_COLUMNS, title=title)
    for m in rows:
        table.add_row(
            m.id,
            _ts(m.received_at),
            m.source_system,
            m.kind,
            m.correlation_id or "",
            m.status,
            m.error or "",
        )
    return table


def trace_view(found: MessageTrace) -> Iterator[RenderableType]:
    yield messages_table(found.messages, title="messages")
    yield deliveries_table(found.deliveries, title="deliveries")
    xrefs = Table("entity", "canonical id", "system", "external id", "version", title="xref")
    for x in found.xrefs:
        xrefs.add_row(x.entity, x.canonical_id, x.system, x.external_id, x.external_version or "")
    yield xrefs
    events = Table("at", "event", "system", "actor", "detail", title="timeline")
    for e in found.events:
        events.add_row(_ts(e.at), e.kind, e.system or "", e.actor or "", e.detail or "")
    yield events
