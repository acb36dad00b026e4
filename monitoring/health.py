"""Connector health and freshness from the hub: last success, lag, error rate, reachability
(the latest ``health_ok``/``health_failed`` probe event) and freshness SLAs per flow.

Every query is an index seek or a range over the last hour of the event log (index
``ix_events_kind_system_at``): nothing here scans the message tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from hub.schema import Cursor, Delivery, DeliveryStatus, Event
from hub.store import Hub
from hub.types import utcnow
from monitoring.config import MonitorConfig

HEALTH_OK, HEALTH_FAILED = "health_ok", "health_failed"
OUTCOME_KINDS = ("delivered", "attempt_failed", "dead_letter")


@dataclass(frozen=True)
class StreamFreshness:
    cursor: str
    system: str
    updated_at: datetime
    lag_seconds: float


@dataclass(frozen=True)
class FlowFreshness:
    name: str  # a flow, or a system or cursor named in the SLA settings
    system: str
    last_activity: datetime | None
    lag_seconds: float | None
    sla_seconds: float | None

    @property
    def breached(self) -> bool:
        if self.sla_seconds is None:
            return False
        return self.lag_seconds is None or self.lag_seconds > self.sla_seconds


@dataclass(frozen=True)
class TargetHealth:
    system: str
    last_success: datetime | None
    delivered_last_hour: int
    failed_last_hour: int
    dead_letters: int
    reachable: bool | None  # None: never probed
    probed_at: datetime | None
    probe_detail: str

    @property
    def error_rate(self) -> float | None:
        total = self.delivered_last_hour + self.failed_last_hour
        return None if total == 0 else self.failed_last_hour / total


def record_probe(hub: Hub, system: str, *, ok: bool, detail: str, actor: str) -> None:
    """Store one reachability probe of a system's connector (run where connectors live)."""
    with hub.begin() as hs:
        hs.event(HEALTH_OK if ok else HEALTH_FAILED, system=system, actor=actor, detail=detail)


def stream_freshness(hub: Hub, now: datetime | None = None) -> list[StreamFreshness]:
    now = now or utcnow()
    with hub.begin() as hs:
        rows = list(hs.session.scalars(select(Cursor).order_by(Cursor.name).limit(1000)))
    return [
        StreamFreshness(
            c.name, c.name.split(".", 1)[0], c.updated_at, (now - c.updated_at).total_seconds()
        )
        for c in rows
    ]


def _newest_event(hub: Hub, kinds: Iterable[str], system: str) -> Event | None:
    newest: Event | None = None
    with hub.begin() as hs:
        for kind in kinds:
            row = hs.session.scalar(
                select(Event)
                .where(Event.kind == kind, Event.system == system)
                .order_by(Event.at.desc())
                .limit(1)
            )
            if row is not None and (newest is None or row.at > newest.at):
                newest = row
    return newest


def last_activity(hub: Hub, system: str, streams: list[StreamFreshness]) -> datetime | None:
    """The newest of the system's cursors and of its newest received message."""
    stamps = [s.updated_at for s in streams if s.system == system]
    received = _newest_event(hub, ("received",), system)
    if received is not None:
        stamps.append(received.at)
    return max(stamps) if stamps else None


def flow_freshness(
    hub: Hub, config: MonitorConfig, now: datetime | None = None
) -> list[FlowFreshness]:
    """Freshness per flow (newest activity of any of its sources), and per system or cursor
    named in the SLA settings."""
    now = now or utcnow()
    streams = stream_freshness(hub, now)
    by_cursor = {s.cursor: s for s in streams}
    scopes: dict[str, tuple[str, ...]] = dict(config.flow_sources)
    for name in config.freshness_sla:
        if name not in scopes:
            scopes[name] = (name.split(".", 1)[0],)
    found: list[FlowFreshness] = []
    for name, systems in sorted(scopes.items()):
        if name in by_cursor:
            seen: datetime | None = by_cursor[name].updated_at
        else:
            stamps = [last_activity(hub, system, streams) for system in systems]
            seen = max((s for s in stamps if s is not None), default=None)
        lag = None if seen is None else (now - seen).total_seconds()
        found.append(
            FlowFreshness(name, ", ".join(systems), seen, lag, config.freshness_sla.get(name))
        )
    return found


SYSTEM_KINDS = ("received", "delivered", "attempt_failed", "dead_letter", HEALTH_OK, HEALTH_FAILED)


def systems_with(hub: Hub, kinds: Iterable[str] = SYSTEM_KINDS) -> set[str]:
    """Systems that have events of ``kinds``: one index seek per system and kind."""
    found: set[str] = set()
    with hub.begin() as hs:
        for kind in kinds:
            after = ""
            while True:
                system = hs.session.scalar(
                    select(Event.system)
                    .where(Event.kind == kind, Event.system > after)
                    .order_by(Event.system)
                    .limit(1)
                )
                if system is None:
                    break
                found.add(system)
                after = system
    return found


def count_since(hub: Hub, kind: str, system: str, since: datetime) -> int:
    """Events of one kind and system since a time: a range of ``ix_events_kind_system_at``."""
    with hub.begin() as hs:
        return int(
            hs.session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.kind == kind, Event.system == system, Event.at >= since)
            )
            or 0
        )


def known_systems(hub: Hub, config: MonitorConfig, now: datetime | None = None) -> list[str]:
    """Systems from the configuration, plus any the event log has seen."""
    seen = systems_with(hub)
    configured = {s for sources in config.flow_sources.values() for s in sources}
    systems = configured | set(config.systems) | {s for s in seen if s}
    return sorted(systems - {"hub"})


def target_health(
    hub: Hub, config: MonitorConfig, now: datetime | None = None
) -> list[TargetHealth]:
    now = now or utcnow()
    hour_ago = now - timedelta(hours=1)
    with hub.begin() as hs:
        dead = {
            system: int(n)
            for system, n in hs.session.execute(
                select(Delivery.target_system, func.count())
                .where(Delivery.status == DeliveryStatus.DEAD)
                .group_by(Delivery.target_system)
            )
        }
    found: list[TargetHealth] = []
    systems = known_systems(hub, config, now)
    counts = {
        (system, kind): count_since(hub, kind, system, hour_ago)
        for system in systems
        for kind in OUTCOME_KINDS
    }
    for system in systems:
        success = _newest_event(hub, ("delivered",), system)
        probe = _newest_event(hub, (HEALTH_OK, HEALTH_FAILED), system)
        found.append(
            TargetHealth(
                system=system,
                last_success=success.at if success else None,
                delivered_last_hour=counts.get((system, "delivered"), 0),
                failed_last_hour=counts.get((system, "attempt_failed"), 0)
                + counts.get((system, "dead_letter"), 0),
                dead_letters=dead.get(system, 0),
                reachable=None if probe is None else probe.kind == HEALTH_OK,
                probed_at=probe.at if probe else None,
                probe_detail=(probe.detail or "") if probe else "",
            )
        )
    return found
