"""Hourly series for the charts, from the event log's time index (the last 24 hours)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select

from hub.schema import Delivery, DeliveryStatus, Event
from hub.store import Hub
from hub.types import utcnow
from monitoring.health import systems_with

LATENCY_SAMPLE = 100_000


@dataclass
class Series:
    """Values per hour bucket (oldest first) for each named line."""

    hours: list[datetime]
    lines: dict[str, list[float | None]] = field(default_factory=dict)


def hour_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _hours(now: datetime, count: int) -> list[datetime]:
    last = hour_floor(now)
    return [last - timedelta(hours=count - 1 - i) for i in range(count)]


def _bucket(hub: Hub, column: Any) -> ColumnElement[Any]:
    dialect = hub.engine.dialect.name
    if dialect == "postgresql":
        return func.to_char(
            func.date_trunc("hour", func.timezone("UTC", column)), "YYYY-MM-DD HH24"
        )
    if dialect in ("mysql", "mariadb"):
        return func.date_format(column, "%Y-%m-%d %H")
    return func.strftime("%Y-%m-%d %H", column)


def seconds_between(hub: Hub, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, computed by the database (no per-row Python)."""
    dialect = hub.engine.dialect.name
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    if dialect in ("mysql", "mariadb"):
        return func.timestampdiff(literal_column("MICROSECOND"), earlier, later) / 1e6
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _parse_bucket(text: str, like: datetime) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=like.tzinfo)


def _counts(hub: Hub, kinds: tuple[str, ...], since: datetime) -> dict[tuple[str, datetime], int]:
    """Events per system and hour: one index range per (kind, system)."""
    bucket = _bucket(hub, Event.at)
    found: dict[tuple[str, datetime], int] = defaultdict(int)
    systems = systems_with(hub, kinds)
    with hub.begin() as hs:
        for kind in kinds:
            for system in systems:
                rows = hs.session.execute(
                    select(bucket, func.count())
                    .where(Event.kind == kind, Event.system == system, Event.at >= since)
                    .group_by(bucket)
                )
                for b, n in rows:
                    found[(system, _parse_bucket(b, since))] += int(n)
    return dict(found)


def messages_per_hour(hub: Hub, hours: int = 24, now: datetime | None = None) -> Series:
    """Messages received per source system and delivered per target system, per hour."""
    now = now or utcnow()
    series = Series(_hours(now, hours))
    since = series.hours[0]
    for label, kinds in (("in", ("received",)), ("out", ("delivered",))):
        counts = _counts(hub, kinds, since)
        for system in sorted({s for s, _ in counts}):
            series.lines[f"{label} {system}"] = [
                float(counts.get((system, h), 0)) for h in series.hours
            ]
    return series


def lag_per_hour(hub: Hub, hours: int = 24, now: datetime | None = None) -> Series:
    """Seconds since each source system's newest received message, at the end of each hour."""
    now = now or utcnow()
    series = Series(_hours(now, hours))
    marks: dict[str, list[datetime]] = defaultdict(list)
    bucket = _bucket(hub, Event.at)
    with hub.begin() as hs:
        for system in systems_with(hub, ("received",)):
            newest = hs.session.execute(
                select(bucket, func.max(Event.at))
                .where(
                    Event.kind == "received",
                    Event.system == system,
                    Event.at >= series.hours[0] - timedelta(days=1),
                )
                .group_by(bucket)
            )
            for _bucket_text, at in newest:
                marks[system].append(at if at.tzinfo else at.replace(tzinfo=now.tzinfo))
    for system, stamps in sorted(marks.items()):
        stamps.sort()
        line: list[float | None] = []
        for h in series.hours:
            end = min(h + timedelta(hours=1), now)
            before = [s for s in stamps if s <= end]
            line.append((end - before[-1]).total_seconds() if before else None)
        series.lines[system] = line
    return series


def dead_letter_trend(hub: Hub, hours: int = 24, now: datetime | None = None) -> Series:
    """Dead letters waiting at the end of each hour, worked back from today's count and the
    events that made (``dead_letter``) or cleared (replay, discard) them since."""
    now = now or utcnow()
    series = Series(_hours(now, hours))
    with hub.begin() as hs:
        current = int(
            hs.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DEAD)
            )
            or 0
        )
    made = _counts(hub, ("dead_letter",), series.hours[0])
    cleared = _counts(hub, ("replay_requested", "discarded"), series.hours[0])
    per_hour = {h: 0 for h in series.hours}
    for (_s, h), n in made.items():
        per_hour[h] = per_hour.get(h, 0) + n
    for (_s, h), n in cleared.items():
        per_hour[h] = per_hour.get(h, 0) - n
    line: list[float | None] = []
    level = current
    for h in reversed(series.hours):
        line.append(float(level))
        level -= per_hour.get(h, 0)
    series.lines["dead letters"] = list(reversed(line))
    return series


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latency_percentiles(hub: Hub, hours: int = 24, now: datetime | None = None) -> Series:
    """p50/p90/p99 seconds from queueing to delivery, per hour of delivery."""
    now = now or utcnow()
    series = Series(_hours(now, hours))
    since = series.hours[0]
    with hub.begin() as hs:
        rows = hs.session.execute(
            select(
                _bucket(hub, Delivery.delivered_at),
                seconds_between(hub, Delivery.delivered_at, Delivery.created_at),
            )
            .where(Delivery.delivered_at >= since)
            .order_by(Delivery.delivered_at.desc())
            .limit(LATENCY_SAMPLE)
        )
        by_text: dict[str, list[float]] = defaultdict(list)
        for bucket, seconds in rows:
            by_text[bucket].append(float(seconds))
    per_hour = {_parse_bucket(text, since): values for text, values in by_text.items()}
    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        series.lines[name] = [
            _percentile(per_hour[h], q) if per_hour.get(h) else None for h in series.hours
        ]
    return series
