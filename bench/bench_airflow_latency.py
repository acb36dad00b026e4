"""Web order webhook -> ERP order created, through a triggered DAG run on standalone Airflow.

Starts the sandbox ERP and ``airflow standalone`` (SQLite, LocalExecutor) with Tandem's
receiver inside the API server; then, one order at a time, posts a signed WooCommerce order
webhook and measures until the order exists in the ERP (asked over SOAP every 100 ms). The
baseline in the same run: the same path without Airflow — ``tandem serve`` style in-process
worker woken by the receiver — is not comparable in kind, so the headline is the absolute
p50/p95 against the goal (p50 <= 2.5 s, p95 <= 5 s), with Airflow's own trigger-to-task-start
time (REST trigger of an empty DAG run, measured from the run's timestamps) as context.

Run: ``python -m bench.bench_airflow_latency [--orders 20]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import zeep

from hub.engine import upgrade
from sandbox.airflow_standalone import StandaloneAirflow, free_port, tandem_environment
from sandbox.erp_soap.server import start_in_thread
from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender

SECRET = "bench-webhook-secret"
DAG = "tandem_webshop_orders"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        erp = start_in_thread(state_path=home / "erp.json")
        hub_url = f"sqlite:///{home / 'hub.sqlite'}"
        upgrade(hub_url)
        port, password = free_port(), "bench-airflow-pw"
        env = tandem_environment(
            home / "tandem", hub_url=hub_url, erp_url=erp.base_url, webhook_secret=SECRET,
            api_url=f"http://127.0.0.1:{port}", password=password,
        ) | {"TANDEM_SCHEDULE_WEBSHOP_ORDERS": "none"}  # fmt: skip
        client = zeep.Client(erp.wsdl_url("Sales_Order"))  # type: ignore[no-untyped-call]
        service = client.create_service(  # type: ignore[no-untyped-call]
            "{urn:microsoft-dynamics-schemas/page/sales_order}Sales_Order_Binding",
            f"{erp.base_url}Sales_Order",
        )

        def in_erp(number: str) -> bool:
            flt = [{"Field": "External_Document_No", "Criteria": f"'{number}'"}]
            return bool(service.ReadMultiple(filter=flt, setSize=1))

        latencies: list[float] = []
        with StandaloneAirflow(home / "airflow", env=env, port=port, password=password) as af:
            af.wait_for_dag(DAG)
            af.unpause(DAG)
            url = f"{af.url}/tandem/webhooks/webshop"
            with WebhookSender(url, SECRET, retries=2) as sender:
                warm = make_order(9, 30_000)  # the first run pays for imports: not measured
                warm["status"] = "processing"
                sender.send("order.created", warm)
                deadline = time.monotonic() + 180
                while not in_erp(str(warm["number"])) and time.monotonic() < deadline:
                    time.sleep(0.5)
                for i in range(args.orders):
                    order = make_order(9, 30_001 + i)
                    order["status"] = "processing"
                    started = time.monotonic()
                    assert sender.send("order.created", order) == [200]
                    while not in_erp(str(order["number"])):
                        if time.monotonic() - started > 120:
                            raise SystemExit(f"order {order['number']} not in the ERP after 120s")
                        time.sleep(0.1)
                    latencies.append(time.monotonic() - started)
                    time.sleep(1.0)  # one order at a time, as a quiet shop sends them
            runs = af.runs(DAG)
        erp.stop()
    starts = [s for r in runs if (s := _seconds(r.get("queued_at"), r.get("start_date")))]
    result: dict[str, Any] = {
        "orders": len(latencies),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "dag_runs": len(runs),
        "airflow_queued_to_start_p50_s": round(statistics.median(starts), 3) if starts else None,
        "goal": {"p50_s": 2.5, "p95_s": 5.0},
    }
    print(json.dumps(result, indent=2))
    print(
        f"webhook -> ERP order through Airflow: p50 {result['p50_s']} s, p95 {result['p95_s']} s "
        f"(goal p50 <= 2.5 s, p95 <= 5 s); Airflow queued -> running p50 "
        f"{result['airflow_queued_to_start_p50_s']} s"
    )


if __name__ == "__main__":
    main()
