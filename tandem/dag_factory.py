"""One Airflow DAG per Tandem flow, generated from the flow definitions (``flows.registry``).

The DAGs are thin: a task builds the ``Runtime`` (settings, hub, connectors), runs the flow
with the run's parameters and returns its summary; a second task delivers what the flow
queued, one mapped task instance per target system (dynamic task mapping), so more workers
deliver to more systems at once. No business logic lives here.

- **Schedules** come from the environment, not from code: ``TANDEM_SCHEDULE_<FLOW>`` (the flow
  name upper-cased, ``-`` as ``_``; a cron expression, a preset such as ``@hourly``, or
  ``none`` for on-demand only), else the flow's default. Reading the environment is the only
  thing the DAG file does at parse time: no database, no network, no files.
- **On-demand runs** get a form in the trigger dialog: full resync, since, entity ids, target
  systems, dry run (typed, validated ``Param``\\ s).
- **Retries** only for transient errors: an ``ExceptionRetryPolicy`` retries
  ``TransientError`` and fails ``PermanentError`` (and anything unexpected) at once, with the
  reason in the log.
- **Credentials** come from Airflow Connections (``AIRFLOW_CONN_*`` or the secrets backend):
  tasks register a resolver that asks Airflow for connection ids; no secret is in a DAG file.
- **Partitioned work**: a flow with independent parts (``FlowSpec.partitions``, or
  ``TANDEM_PARTITIONS_<FLOW>``) runs as one mapped task instance per part (``i/n``), so more
  workers finish it sooner; deliveries are mapped per target system.
- **Failures** call ``on_failure``, which records a ``task_failed`` event in the hub for
  monitoring.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

from flows.registry import FLOWS
from flows.spec import FlowSpec, RunOptions

log = logging.getLogger(__name__)

START = datetime(2026, 1, 1)
RETRIES = 3
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception="canonical.errors.TransientError",
            action=RetryAction.RETRY,
            reason="a peer or the hub was unavailable: worth another try",
        ),
        RetryRule(  # the hub's own database: a lost connection, a lock, a pool timeout
            exception=[
                "sqlalchemy.exc.OperationalError",
                "sqlalchemy.exc.InterfaceError",
                "sqlalchemy.exc.DisconnectionError",
                "sqlalchemy.exc.TimeoutError",
            ],
            action=RetryAction.RETRY,
            reason="the hub's database was unreachable or busy: worth another try",
        ),
        RetryRule(
            exception="canonical.errors.PermanentError",
            action=RetryAction.FAIL,
            reason="a fix is needed (settings, data, credentials): not retried",
        ),
    ],
    default=RetryAction.FAIL,
)


def dag_id(flow: str) -> str:
    return "tandem_" + flow.replace("-", "_")


def schedule_for(spec: FlowSpec, environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get("TANDEM_SCHEDULE_" + spec.name.upper().replace("-", "_"))
    if value is None:
        return spec.schedule
    return None if value.strip().lower() in ("", "none", "off") else value.strip()


def params_for(spec: FlowSpec) -> dict[str, Param]:
    targets = sorted(set(spec.targets))
    return {
        "full_resync": Param(
            False, type="boolean", title="Full resync",
            description="read everything from the sources again (the hub skips what it has)",
        ),
        "since": Param(
            None, type=["null", "string"], format="date-time", title="Since",
            description="only input received at or after this time (ISO 8601, UTC)",
        ),
        "entity_ids": Param(
            [], type="array", items={"type": "string"}, title="Entity ids",
            description="only the input about these records (the source system's ids, "
            "e.g. a web order's number); the rest waits for a later run; empty: all",
        ),
        "targets": Param(
            targets, type="array",
            items={"type": "string", "enum": targets or ["none"]}, title="Target systems",
            description="deliver only to these systems; what is due to the others stays "
            "queued for a later run",
        ),
        "dry_run": Param(
            False, type="boolean", title="Dry run",
            description="map and report what would happen; change nothing",
        ),
    }  # fmt: skip


def partitions_for(spec: FlowSpec, environ: dict[str, str] | None = None) -> int:
    """How many parts the flow's run is split into (``TANDEM_PARTITIONS_<FLOW>``)."""
    env = os.environ if environ is None else environ
    value = env.get("TANDEM_PARTITIONS_" + spec.name.upper().replace("-", "_"))
    return max(1, int(value)) if value else spec.partitions


def options_from(params: dict[str, Any], partition: str | None = None) -> RunOptions:
    since = params.get("since")
    return RunOptions(
        partition=partition,
        full=bool(params.get("full_resync")),
        since=datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None,
        # no entity ids: every record; no targets chosen at all is an error the flow reports
        entity_ids=list(params.get("entity_ids") or []) or None,
        targets=None if params.get("targets") is None else list(params["targets"]),
        dry_run=bool(params.get("dry_run")),
    )


def doc_for(spec: FlowSpec) -> str:
    targets = ", ".join(spec.targets) or "the hub"
    return (
        f"### {spec.name}\n\n{spec.description}\n\n"
        f"**From** {spec.source} **to** {targets}.\n\n"
        "Trigger with parameters for a full resync, a time window, single records, some "
        "targets or a dry run. Transient failures are retried; permanent ones fail at once "
        "with the reason (and show up as dead letters in Tandem's monitoring)."
    )


def on_failure(context: Any) -> None:
    """Record the failure in the hub's message log, for monitoring and alerts."""
    from tandem.airflow_runtime import record_failure

    record_failure(context)


def build_dag(spec: FlowSpec) -> DAG:
    with DAG(
        dag_id=dag_id(spec.name),
        description=spec.description[:200],
        doc_md=doc_for(spec),
        schedule=schedule_for(spec),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        params=params_for(spec),
        tags=["tandem", *spec.tags],
        default_args={
            "retries": RETRIES,
            "retry_delay": timedelta(seconds=30),
            "retry_exponential_backoff": True,
            "retry_policy": RETRY_POLICY,
            "on_failure_callback": on_failure,
        },
    ) as dag:

        @task(task_id="run_flow")
        def run_flow(
            partition: str | None = None, params: dict[str, Any] | None = None
        ) -> dict[str, Any]:
            from tandem.airflow_runtime import run_flow as run

            return run(spec.name, options_from(params or {}, partition))

        @task(task_id="targets")
        def targets(params: dict[str, Any] | None = None) -> list[str]:
            chosen = (params or {}).get("targets") or list(spec.targets)
            return [t for t in chosen if t in spec.targets]

        @task(task_id="deliver")
        def deliver(target: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            from tandem.airflow_runtime import deliver_to

            return deliver_to(target, dry_run=bool((params or {}).get("dry_run")))

        parts = partitions_for(spec)
        if parts > 1:  # independent parts: as many task instances, on as many workers
            ran = run_flow.expand(partition=[f"{i}/{parts}" for i in range(parts)])
        else:
            ran = run_flow()
        if spec.targets and spec.name != "deliver":
            chosen = targets()
            ran >> chosen
            deliver.expand(target=chosen)
    return dag


def build_all() -> dict[str, DAG]:
    return {dag_id(name): build_dag(spec) for name, spec in FLOWS.items()}
