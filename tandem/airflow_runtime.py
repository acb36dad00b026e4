"""What Tandem's DAG tasks run inside an Airflow worker: flows with connections from Airflow.

Imported only by tasks (never at DAG parse time). ``use_airflow_connections`` makes every
connector's ``get_connection(conn_id)`` ask Airflow first (``AIRFLOW_CONN_*`` variables, the
metadata database, or the configured secrets backend); the password stays a ``SecretStr``.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr

from connectors.connection import Connection, register_resolver
from flows.registry import FLOWS, delivery_worker
from flows.spec import RunOptions
from flows.summary import FlowSummary
from tandem.runtime import Runtime

log = logging.getLogger(__name__)


def _from_airflow(conn_id: str) -> Connection | None:
    from airflow.sdk import Connection as AirflowConnection

    try:
        found = AirflowConnection.get(conn_id)
    except Exception:  # not defined in Airflow: let the environment answer
        return None
    extra = found.extra_dejson if hasattr(found, "extra_dejson") else {}
    return Connection(
        conn_id=conn_id,
        conn_type=found.conn_type or "",
        host=found.host or None,
        port=found.port or None,
        login=found.login or None,
        password=SecretStr(found.password) if found.password else None,
        schema=found.schema or None,
        extra=dict(extra or {}),
    )


def use_airflow_connections() -> None:
    register_resolver(_from_airflow)


def run_flow(name: str, options: RunOptions) -> dict[str, Any]:
    use_airflow_connections()
    runtime = Runtime()
    try:
        # the flow checks the options (an unknown target fails at once, not retried) and
        # takes a target by its role (``erp``) or its system's name (``erp_soap``)
        summary = FLOWS[name].run(runtime, options)
    finally:
        runtime.close()
    log.info("%s: %s", name, summary.counts())
    return {"flow": name, **summary.counts(), "notes": summary.notes[:20]}


def deliver_to(target: str, *, dry_run: bool = False) -> dict[str, Any]:
    if dry_run:
        return {"target": target, "delivered": 0, "notes": ["dry run: nothing delivered"]}
    use_airflow_connections()
    runtime = Runtime()
    try:
        # deliveries to the ERP are queued by its role (``erp``: the web order slice) and by
        # its system name (``erp_soap``: customer sync): this task delivers both
        worker = delivery_worker(runtime)
        summary = FlowSummary("deliver")
        for system in dict.fromkeys((target, runtime.system_name(target))):
            summary.merge(worker.run(target_system=system))
    finally:
        runtime.close()
    return {"target": target, **summary.counts()}


def record_failure(context: Any) -> None:
    """A ``task_failed`` event in the hub: monitoring shows it and alerts on it."""
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    where = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
    try:
        runtime = Runtime()
        try:
            with runtime.hub.begin() as hs:
                hs.event("task_failed", actor="airflow", detail=f"{where}: {error}"[:2000])
        finally:
            runtime.close()
    except Exception:  # a failing callback must not hide the task failure
        log.exception("could not record the failure of %s in the hub", where)
