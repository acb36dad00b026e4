"""Distributor sell-through: 852/CSV rows -> weekly demand signals -> CRM insight and a
planning export.

1. pull the distributors' product activity (DRP ``sell_through``: X12 852 and CSV reports)
   into the inbox;
2. each row is a ``DemandSignal`` (``mappings.drp.demand_signal``) and goes into the hub's
   signal for its distributor, location, SKU and ISO week (the week of its period's end).
   The week's signal is computed from the rows it holds (kept as the DRP's view of it), never
   added up incrementally, so the same report read twice gives the same signal: rows of one
   week with periods that do not overlap are summed (sold, returned, received, lost sales);
   of overlapping rows (a rolling 7-day report sent daily, a corrected report) the later one
   counts; stock figures (on hand, available, on order, in transit) are the latest row's;
3. a changed weekly signal is delivered to two targets:
   - ``crm``: one Note per distributor and week on the distributor's CRM account
     (``tandem_key_c`` ``sell-through:<distributor>:<week>``), listing per SKU what was sold
     and is in stock; it is rewritten in place when the week's figures change, and a write
     that changes nothing makes no CRM call;
   - ``planning``: one CSV file per ISO week, ``sell_through_<week>.csv`` in the configured
     folder, every distributor's signals of that week (cells safe from formula injection),
     rewritten atomically and only when its bytes change (plus ``.parquet`` when pyarrow is
     installed and ``parquet`` is on).

Settings (environment): ``TANDEM_SELL_THROUGH_EXPORT_DIR`` (default ``var/planning``),
``TANDEM_SELL_THROUGH_PARQUET`` (default true), and the distributors' accounts
(``TANDEM_DISTRIBUTOR_ACCOUNTS``, see ``flows.distributor_orders``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select

from canonical.errors import PermanentError
from canonical.models import Customer, CustomerKind, DemandSignal, Entity
from connectors.base import Ack, Rejected
from flows.delivery import Delivered, Handler
from flows.distributor_orders import DRP, DistributorAccounts, deliver, golden_customer
from flows.export import render_csv, write_if_changed, write_parquet
from flows.processing import InboxProcessor, Processed, enqueue_change
from flows.pull import PullSpec, pull
from flows.spec import FlowSpec, HandlerMap, RunOptions, Services
from flows.summary import FlowSummary
from hub.schema import CanonicalRecord, InboxMessage, Xref
from hub.store import DeliveryTask, Hub, HubSession
from hub.views import save_view, views
from mappings import drp

FLOW_NAME = "sell-through"
CRM, PLANNING = "crm", "planning"
SPEC = PullSpec(system=DRP, stream="sell_through", kind="sell_through")
FLOWS = ("sold", "returned", "received", "lost_sales")  # summed over a week's periods
STOCK = ("on_hand", "available", "on_order", "in_transit")  # the latest row's
COLUMNS = ("week", "distributor", "location", "sku", "gtin", "unit_of_measure", *FLOWS,
           *STOCK, "period_start", "period_end", "report_id")  # fmt: skip


class SellThroughSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_SELL_THROUGH_", extra="ignore")

    export_dir: Path = Path("var/planning")
    parquet: bool = True  # also write .parquet when pyarrow is installed


def iso_week(day: date) -> tuple[str, date, date]:
    """``("2026-W48", monday, sunday)`` of the ISO week holding ``day``."""
    year, week, _ = day.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    return f"{year}-W{week:02d}", monday, monday + timedelta(days=6)


def aggregate(rows: Iterable[DemandSignal], week: str) -> DemandSignal:
    """The week's signal from its rows (see the module docstring for the rules)."""
    ordered = sorted(
        rows, key=lambda s: (s.period_end, s.period_start, s.report_id or ""), reverse=True
    )
    counted: list[DemandSignal] = []
    for row in ordered:
        if all(row.period_end < c.period_start or row.period_start > c.period_end
               for c in counted):  # fmt: skip
            counted.append(row)
    latest = ordered[0]
    _, monday, sunday = iso_week(latest.period_end)
    values: dict[str, Any] = {}
    for name in FLOWS:
        figures = [getattr(r, name) for r in counted if getattr(r, name) is not None]
        values[name] = sum(figures, Decimal(0)) if figures else None
    return latest.model_copy(
        update=values
        | {
            "period_start": monday,
            "period_end": sunday,
            "report_id": week,
            "source_format": "week",
            "updated_at": datetime.combine(latest.period_end, time(), UTC),
        }
    )


class SignalIntake(InboxProcessor):
    """A sell-through row -> its week's DemandSignal (recomputed) -> CRM and planning."""

    flow, system, kinds = FLOW_NAME, DRP, (SPEC.kind,)
    id_fields = ("sku", "report_id")  # besides each row's key: a SKU's rows, a report's

    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        row_key = str(_headers(message).get("key") or message.dedupe_key)
        row = drp.demand_signal(doc, key=row_key)
        week, _, _ = iso_week(row.period_end)
        key = f"{row.location}|{row.sku}|{week}"  # the location starts with the distributor
        cid = hs.resolve(Entity.DEMAND_SIGNAL, DRP, key)
        held: dict[str, Any] = {} if cid is None else _rows(hs, cid)
        held[row_key] = row.model_dump(mode="json")
        signal = aggregate((DemandSignal.model_validate(r) for r in held.values()), week)
        outcome = hs.upsert(signal, canonical_id=cid, source_system=DRP)
        hs.link(Entity.DEMAND_SIGNAL, outcome.canonical_id, DRP, key)
        save_view(hs, outcome.canonical_id, DRP, {"rows": held}, None)
        self.count(outcome, summary)
        correlation = f"sell-through:{row.distributor}:{week}"
        if outcome.changed:
            for target in (CRM, PLANNING):
                enqueue_change(hs, message, target, Entity.DEMAND_SIGNAL, outcome, correlation)
        return Processed(correlation, Entity.DEMAND_SIGNAL, outcome.canonical_id, outcome)


def _headers(message: InboxMessage) -> dict[str, Any]:
    try:
        value = json.loads(message.headers or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rows(hs: HubSession, cid: str) -> dict[str, Any]:
    rows = views(hs, cid).get(DRP, ({}, None))[0].get("rows")
    return dict(rows) if isinstance(rows, dict) else {}


def week_signals(hs: HubSession, week: str, distributor: str | None = None) -> list[DemandSignal]:
    """The hub's weekly signals of ``week`` (of one distributor), by distributor, location, SKU."""
    stmt = (
        select(CanonicalRecord.payload)
        .join(Xref, Xref.canonical_id == CanonicalRecord.id)
        .where(
            Xref.system == DRP,
            Xref.entity == Entity.DEMAND_SIGNAL,
            Xref.external_id.like(f"%|{week}"),
        )
    )
    signals = [DemandSignal.model_validate_json(p) for p in hs.session.scalars(stmt)]
    signals = [s for s in signals if distributor in (None, s.distributor)]
    return sorted(signals, key=lambda s: (s.distributor, s.location, s.sku))


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


# -- the CRM insight ---------------------------------------------------------------------------


def insight(signals: list[DemandSignal], week: str) -> tuple[str, str]:
    """The note's subject and text: per SKU (all locations) sold, on hand and on order."""
    per_sku: dict[str, dict[str, Decimal]] = {}
    for s in signals:
        figures = per_sku.setdefault(s.sku, {})
        for name in ("sold", "on_hand", "on_order"):
            if getattr(s, name) is not None:
                figures[name] = figures.get(name, Decimal(0)) + getattr(s, name)
    sold = sum((f.get("sold", Decimal(0)) for f in per_sku.values()), Decimal(0))
    lines = [
        f"{sku}: sold {_number(f.get('sold'))}, on hand {_number(f.get('on_hand'))}, "
        f"on order {_number(f.get('on_order'))}"
        for sku, f in sorted(per_sku.items())
    ]
    distributor = signals[0].distributor
    subject = f"Sell-through {week} {distributor}: {_number(sold)} sold, {len(per_sku)} SKUs"
    return subject, "\n".join([f"Sell-through of {distributor}, ISO week {week}:", *lines])


class CrmInsight:
    def __init__(self, services: Services) -> None:
        self.services = services

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.services.hub.begin() as hs:
            signal = hs.load(task.canonical_id, DemandSignal)
            assert isinstance(signal, DemandSignal)
            week, _, _ = iso_week(signal.period_end)
            signals = week_signals(hs, week, signal.distributor)
            account = DistributorAccounts.load().of(signal.distributor)
            new = Customer(kind=CustomerKind.ORGANISATION, name=account.name or signal.distributor)
            customer = golden_customer(hs, signal.distributor, account, new)
            assert customer is not None
            crm_id = hs.external_id(Entity.CUSTOMER, customer, CRM)
        parent = {"module": "Accounts"} | ({"id": crm_id} if crm_id else {"key": customer})
        subject, text = insight(signals, week)
        note = {"tandem_key_c": f"sell-through:{signal.distributor}:{week}", "name": subject,
                "description": text, "_related": [parent]}  # fmt: skip
        (answer,) = self.services.connector(CRM).write("notes", [note])
        if isinstance(answer, Rejected):
            raise answer.error
        assert isinstance(answer, Ack)
        changed = answer.created or bool(answer.detail.get("changed"))
        return Delivered(answer.external_id, detail=f"note {week}", skipped=not changed)


# -- the planning export -----------------------------------------------------------------------


class PlanningExport:
    def __init__(self, hub: Hub, settings: SellThroughSettings | None = None) -> None:
        self.hub = hub
        self._settings = settings

    @property
    def settings(self) -> SellThroughSettings:
        """Read when the first delivery needs them: a wrong value fails that delivery (a
        dead letter naming it), not every flow's handler set."""
        if self._settings is None:
            try:
                self._settings = SellThroughSettings()
            except ValidationError as exc:
                raise PermanentError(f"TANDEM_SELL_THROUGH_*: {exc}") from None
        return self._settings

    def path(self, week: str, suffix: str = ".csv") -> Path:
        return self.settings.export_dir / f"sell_through_{week}{suffix}"

    def deliver(self, task: DeliveryTask) -> Delivered:
        with self.hub.begin() as hs:
            signal = hs.load(task.canonical_id, DemandSignal)
            assert isinstance(signal, DemandSignal)
            week, _, _ = iso_week(signal.period_end)
            signals = week_signals(hs, week)
        rows = [[week, s.distributor, s.location, s.sku, s.gtin, s.unit_of_measure,
                 *(_number(getattr(s, n)) for n in (*FLOWS, *STOCK)),
                 s.period_start.isoformat(), s.period_end.isoformat(), s.report_id]
                for s in signals]  # fmt: skip
        try:
            written = write_if_changed(self.path(week), render_csv(COLUMNS, rows))
            if self.settings.parquet:
                written |= write_parquet(self.path(week, ".parquet"), COLUMNS, rows)
        except OSError as exc:
            raise PermanentError(f"planning export {self.path(week)}: {exc}") from exc
        return Delivered(str(self.path(week)), detail=f"{len(rows)} rows", skipped=not written)


# -- the flow ------------------------------------------------------------------------------------


def handlers(services: Services) -> HandlerMap:
    crm: Handler = CrmInsight(services).deliver
    planning: Handler = PlanningExport(services.hub).deliver
    return {(CRM, Entity.DEMAND_SIGNAL): crm, (PLANNING, Entity.DEMAND_SIGNAL): planning}


def run(services: Services, options: RunOptions) -> FlowSummary:
    summary = FlowSummary(FLOW_NAME)
    if options.dry_run:
        summary.notes.append("dry run: nothing read, nothing written")
        return summary
    pulled = pull(services.hub, services.connector(DRP), SPEC, full=options.full)
    summary.quarantined += pulled.quarantined
    SignalIntake(services.hub).run(
        since=options.since,
        message_ids=options.message_ids,
        entity_ids=options.entity_ids,
        summary=summary,
    )
    deliver(
        services,
        handlers(services),
        [(CRM, Entity.DEMAND_SIGNAL), (PLANNING, Entity.DEMAND_SIGNAL)],
        summary,
        options,
    )
    return summary


FLOW = FlowSpec(
    name=FLOW_NAME,
    description="Distributors' sell-through (X12 852 and CSV reports) -> weekly demand "
    "signals in the hub -> a note per week on the distributor's CRM account and a planning "
    "export file per week",
    source=DRP,
    targets=(CRM, PLANNING),
    run=run,
    handlers=handlers,
    schedule="@hourly",
    tags=("drp", "demand"),
)
