"""Health, charts' series and metrics on every hub database (SQLite and PostgreSQL), from
states made through the hub's own operations."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from canonical.models import Entity
from hub.deliveries import DeliveryLedger
from hub.store import Hub, IncomingMessage
from hub.types import utcnow
from monitoring import charts, stats
from monitoring.config import MonitorConfig
from monitoring.health import flow_freshness, record_probe, target_health
from monitoring.metrics import exposition, registry_for
from tests.test_hub_store import _order

CONFIG = MonitorConfig(
    flow_sources={"orders": ("webshop",), "stock": ("erp",)},
    freshness_sla={"orders": 600, "stock": 60},
)


def _seed(hub: Hub) -> None:
    for n in range(3):
        received = hub.receive(
            IncomingMessage("webshop", "order.created", f"k{n}", b'{"email": "a@b.c"}',
                            correlation_id=f"{n}")
        )  # fmt: skip
        with hub.begin() as hs:
            out = hs.upsert(_order(f"{n}.10"), canonical_id=None, source_system="webshop")
            hs.enqueue(message_id=received.message_id, target_system="erp",
                       entity=Entity.SALES_ORDER, canonical_id=out.canonical_id,
                       record_version=1, correlation_id=f"{n}")  # fmt: skip
            hs.set_cursor("webshop.orders", f"c{n}")
    ledger = DeliveryLedger(hub)
    first, second, third = ledger.claim_due()
    ledger.succeed(first, external_id="SO-1")
    ledger.fail(second, error="HTTP 503", retry_at=utcnow() + timedelta(minutes=5))
    ledger.fail(third, error="no such customer", retry_at=None)
    record_probe(hub, "erp", ok=False, detail="connection refused", actor="test")


def test_health_freshness_and_series(hub: Hub) -> None:
    _seed(hub)
    [erp] = [t for t in target_health(hub, CONFIG) if t.system == "erp"]
    assert (erp.delivered_last_hour, erp.failed_last_hour, erp.dead_letters) == (1, 2, 1)
    assert erp.reachable is False and erp.probe_detail == "connection refused"
    assert erp.error_rate is not None and abs(erp.error_rate - 2 / 3) < 1e-9
    fresh = {f.name: f for f in flow_freshness(hub, CONFIG)}
    assert not fresh["orders"].breached and fresh["orders"].lag_seconds is not None
    assert fresh["stock"].breached and fresh["stock"].last_activity is None

    per_hour = stats.messages_per_hour(hub)
    assert per_hour.lines["in webshop"][-1] == 3 and per_hour.lines["out erp"][-1] == 1
    assert sum(v or 0 for v in per_hour.lines["in webshop"][:-1]) == 0
    assert stats.dead_letter_trend(hub).lines["dead letters"][-1] == 1
    latency = stats.latency_percentiles(hub).lines["p50"][-1]
    assert latency is not None and 0 <= latency < 60
    assert stats.lag_per_hour(hub).lines["webshop"][-1] is not None
    svg = charts.line_chart(per_hour, "Messages <per> hour")
    assert svg.startswith("<svg") and "Messages &lt;per&gt; hour" in svg and "<polyline" in svg


def test_metrics_on_every_database(hub: Hub) -> None:
    _seed(hub)
    text = exposition(registry_for(hub, CONFIG)).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("tandem_dead_letters", (("target", "erp"),))] == 1
    assert samples[("tandem_deliveries", (("status", "failed"), ("target", "erp")))] == 1
    assert samples[("tandem_connector_up", (("system", "erp"),))] == 0
    assert samples[("tandem_sla_breached", (("flow", "stock"),))] == 1
    assert samples[("tandem_sla_breaches", ())] == 1
    ratio = samples[("tandem_delivery_error_ratio", (("target", "erp"),))]
    assert abs(ratio - 2 / 3) < 1e-6
