"""Prometheus metrics computed from the hub at scrape time (a custom collector), so every
process that writes the hub — CLI runs, Airflow tasks, the receiver — is counted.

Names and labels are documented in docs/monitoring.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.schema import Delivery, DeliveryStatus, Event, InboxMessage
from hub.store import Hub
from hub.types import utcnow
from monitoring.config import MonitorConfig
from monitoring.health import flow_freshness, stream_freshness, target_health
from monitoring.stats import seconds_between

LATENCY_BUCKETS = (0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HubCollector(Collector):
    def __init__(self, hub: Hub, config: MonitorConfig) -> None:
        self.hub = hub
        self.config = config

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        yield from self._messages()
        yield from self._deliveries()
        yield from self._latency()
        yield from self._freshness()
        yield from self._targets()
        took = GaugeMetricFamily(
            "tandem_metrics_collect_seconds", "Time spent computing these metrics from the hub"
        )
        took.add_metric([], time.perf_counter() - started)
        yield took

    def _flow_of(self, system: str) -> str:
        flows = sorted(f for f, s in self.config.flow_sources.items() if system in s)
        return ",".join(flows)

    def _messages(self) -> Iterator[Metric]:
        received = CounterMetricFamily(
            "tandem_messages_received",
            "Inbound messages stored in the hub's inbox, by source system, kind and status",
            labels=["system", "flow", "kind", "status"],
        )
        with self.hub.begin() as hs:
            rows = hs.session.execute(
                select(
                    InboxMessage.source_system, InboxMessage.kind, InboxMessage.status, func.count()
                ).group_by(InboxMessage.source_system, InboxMessage.kind, InboxMessage.status)
            )
            for system, kind, status, n in rows:
                received.add_metric([system, self._flow_of(system), kind, status], int(n))
        yield received

    def _deliveries(self) -> Iterator[Metric]:
        delivered = CounterMetricFamily(
            "tandem_messages_delivered",
            "Writes delivered to target systems, by target and entity",
            labels=["target", "entity"],
        )
        failed = CounterMetricFamily(
            "tandem_delivery_failures",
            "Failed delivery attempts (retried or dead), by target",
            labels=["target", "kind"],
        )
        state = GaugeMetricFamily(
            "tandem_deliveries", "Deliveries by current status", labels=["target", "status"]
        )
        dead = GaugeMetricFamily(
            "tandem_dead_letters", "Dead letters waiting for replay or discard", labels=["target"]
        )
        by_status: dict[tuple[str, str], int] = {}
        with self.hub.begin() as hs:
            for target, entity, status, n in hs.session.execute(
                select(
                    Delivery.target_system, Delivery.entity, Delivery.status, func.count()
                ).group_by(Delivery.target_system, Delivery.entity, Delivery.status)
            ):
                if status == DeliveryStatus.DELIVERED:
                    delivered.add_metric([target, entity], int(n))
                by_status[(target, status)] = by_status.get((target, status), 0) + int(n)
            for kind in ("attempt_failed", "dead_letter"):
                for system, n in hs.session.execute(
                    select(Event.system, func.count())
                    .where(Event.kind == kind)
                    .group_by(Event.system)
                ):
                    failed.add_metric([system or "", kind], int(n))
        for (target, status), n in sorted(by_status.items()):
            state.add_metric([target, status], n)
        for target in sorted({t for t, _ in by_status}):
            dead.add_metric([target], by_status.get((target, DeliveryStatus.DEAD), 0))
        yield from (delivered, failed, state, dead)

    def _latency(self) -> Iterator[Metric]:
        since = utcnow() - timedelta(hours=1)
        per_target: dict[str, list[float]] = {}
        with self.hub.begin() as hs:
            for target, seconds in hs.session.execute(
                select(
                    Delivery.target_system,
                    seconds_between(self.hub, Delivery.delivered_at, Delivery.created_at),
                )
                .where(Delivery.delivered_at >= since)
                .limit(200_000)
            ):
                per_target.setdefault(target, []).append(float(seconds))
        family = GaugeHistogramMetricFamily(
            "tandem_delivery_latency_seconds",
            "Seconds from queueing to delivery of the deliveries of the last hour",
            labels=["target"],
        )
        for target, values in sorted(per_target.items()):
            buckets = [(str(b), float(sum(1 for v in values if v <= b))) for b in LATENCY_BUCKETS]
            buckets.append(("+Inf", float(len(values))))
            family.add_metric([target], buckets, gsum_value=sum(values))
        yield family

    def _freshness(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "tandem_flow_lag_seconds",
            "Seconds since the newest cursor move or received message of a flow's source",
            labels=["flow", "system"],
        )
        sla = GaugeMetricFamily(
            "tandem_flow_freshness_sla_seconds", "Freshness SLA per flow", labels=["flow"]
        )
        breached = GaugeMetricFamily(
            "tandem_sla_breached", "1 when a flow is staler than its SLA", labels=["flow"]
        )
        breaches = GaugeMetricFamily("tandem_sla_breaches", "Flows breaching their SLA now")
        found = flow_freshness(self.hub, self.config)
        for f in found:
            if f.lag_seconds is not None:
                lag.add_metric([f.name, f.system], f.lag_seconds)
            if f.sla_seconds is not None:
                sla.add_metric([f.name], f.sla_seconds)
                breached.add_metric([f.name], 1.0 if f.breached else 0.0)
        breaches.add_metric([], float(sum(1 for f in found if f.breached)))
        streams = GaugeMetricFamily(
            "tandem_stream_lag_seconds",
            "Seconds since a stream's cursor last moved",
            labels=["cursor", "system"],
        )
        for s in stream_freshness(self.hub):
            streams.add_metric([s.cursor, s.system], s.lag_seconds)
        yield from (lag, sla, breached, breaches, streams)

    def _targets(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "tandem_connector_up",
            "1 when the latest health probe of a system succeeded, 0 when it failed",
            labels=["system"],
        )
        ratio = GaugeMetricFamily(
            "tandem_delivery_error_ratio",
            "Failed attempts / all attempts in the last hour, per target",
            labels=["target"],
        )
        for t in target_health(self.hub, self.config):
            if t.reachable is not None:
                up.add_metric([t.system], 1.0 if t.reachable else 0.0)
            if t.error_rate is not None:
                ratio.add_metric([t.system], t.error_rate)
        yield from (up, ratio)


def registry_for(hub: Hub, config: MonitorConfig) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub, config))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
