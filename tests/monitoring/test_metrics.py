"""/metrics: Prometheus exposition computed from the hub at scrape time, parsed with
prometheus_client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from monitoring.web.app import create_app
from tandem.cli_monitor import dashboard_for, password_login
from tests.monitoring.conftest import Seeded, invoke, set_erp
from tests.support import serve_asgi


def scrape(base: str, **headers: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    answer = httpx.get(f"{base}/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_follow_the_hub_across_processes(seeded: Seeded) -> None:
    rt = seeded.runtime
    app = create_app(dashboard_for(rt, auth=password_login(rt.settings)))
    with serve_asgi(app) as base:
        before = scrape(base)
        received = before["tandem_messages_received_total"]
        webshop = {k: v for k, v in received.items() if ("system", "webshop") in k}
        assert sum(webshop.values()) == 2
        assert all("webshop-orders" in dict(k)["flow"].split(",") for k in webshop)
        assert before["tandem_dead_letters"][(("target", "erp"),)] == 2
        assert (
            before["tandem_messages_delivered_total"][
                (("entity", "sales_order"), ("target", "erp"))
            ]
            == 1
        )
        failures = before["tandem_delivery_failures_total"]
        assert failures[(("kind", "dead_letter"), ("target", "erp"))] == 2
        latency = before["tandem_delivery_latency_seconds_bucket"]
        assert latency[(("le", "+Inf"), ("target", "erp"))] == 2
        assert before["tandem_sla_breached"][(("flow", "webshop-orders"),)] == 0
        assert before["tandem_sla_breached"][(("flow", "inventory"),)] == 1  # never ran
        assert before["tandem_sla_breaches"][()] >= 1
        assert (
            before["tandem_flow_lag_seconds"][(("flow", "webshop-orders"), ("system", "webshop"))]
            < 600
        )

        # another process (the CLI) fixes things: the next scrape sees it, no restart
        set_erp(seeded.erp, down=False)
        assert invoke(seeded, "deadletters", "replay", "--all").exit_code == 0
        assert invoke(seeded, "health", "erp").exit_code == 0
        after = scrape(base)
        assert after["tandem_dead_letters"][(("target", "erp"),)] == 0
        assert (
            after["tandem_messages_delivered_total"][(("entity", "sales_order"), ("target", "erp"))]
            == 2
        )
        assert after["tandem_connector_up"][(("system", "erp"),)] == 1
        assert (
            after["tandem_delivery_latency_seconds_bucket"][(("le", "+Inf"), ("target", "erp"))]
            == 4
        )


def test_metrics_token_when_configured(seeded: Seeded) -> None:
    rt = seeded.runtime
    dash = dashboard_for(rt, auth=password_login(rt.settings))
    dash.metrics_token = "scrape-me"
    with serve_asgi(create_app(dash)) as base:
        assert httpx.get(f"{base}/metrics").status_code == 401
        assert (
            httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        assert "tandem_dead_letters" in scrape(base, Authorization="Bearer scrape-me")
