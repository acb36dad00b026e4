"""The monitoring commands: ``tandem health``, ``tandem reconcile``, ``tandem customer show``,
``tandem alerts check`` and ``tandem monitor`` (the standalone dashboard).

Probing and reading connectors happens here, in the application layer; ``monitoring`` only
reads and writes the hub (health events, reconciliation reports, alert state).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from connectors.base import Connector
from flows.registry import FLOWS, RunOptions
from monitoring import alerts, customer360, reconcile
from monitoring.config import MonitorConfig
from monitoring.health import record_probe
from monitoring.masking import Masker
from monitoring.web.app import Dashboard, create_app
from monitoring.web.auth import PasswordLogin, hash_password
from tandem.runtime import ConfigurationError, Runtime
from tandem.settings import ReconcileScope, TandemSettings

out = Console()
err = Console(stderr=True)
RuntimeCm = Callable[[], AbstractContextManager[Runtime]]

REPORT_COLUMNS = ("report", "system", "entity", "state", "in system", "in hub",
                  "missing in hub", "missing in system", "drift")  # fmt: skip
customer_app = typer.Typer(help="Customer 360", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts: evaluate and notify", no_args_is_help=True)


def _systems_in(rt: Runtime, text: str) -> tuple[str, ...]:
    """The systems a flow's ``source`` names (free text such as ``webshop,crm,erp``)."""
    from tandem.connectors import FACTORIES

    known = {*FACTORIES, "erp", "drp"}
    return tuple(rt.system_name(t) for t in re.split(r"[^a-z0-9_]+", text) if t in known)


def monitor_config(rt: Runtime) -> MonitorConfig:
    s = rt.settings
    sources = {n: _systems_in(rt, f.source) for n, f in FLOWS.items() if f.source != "hub"}
    targets = {t for f in FLOWS.values() for t in _systems_in(rt, " ".join(f.targets))}
    return MonitorConfig(
        flow_sources=sources,
        freshness_sla=dict(s.monitor_freshness_sla),
        mask_fields=tuple(s.monitor_mask_fields),
        systems=tuple(sorted(targets)),
        page_size=s.monitor_page_size,
    )


def _probe_connector(rt: Runtime, system: str) -> Connector:
    if system in ("erp", rt.settings.erp_system) and rt.settings.erp_soap_url:
        erp = rt.erp()  # the ERP the web order slice writes to, from the erp_soap_* settings
        if isinstance(erp, Connector):
            return erp
    return rt.connector(system)


def probe_all(rt: Runtime, systems: Sequence[str], *, explicit: bool, actor: str) -> list[Any]:
    """Probe each system's connector and record a ``health_ok``/``health_failed`` event.
    Systems that are not configured are skipped unless named explicitly."""
    rows: list[tuple[str, str, str]] = []
    for system in systems:
        try:
            connector = _probe_connector(rt, system)
        except (ConfigurationError, ValueError, KeyError, OSError) as exc:
            detail = f"not configured: {' '.join(str(exc).split())[:300]}"
            if explicit:
                record_probe(rt.hub, system, ok=False, detail=detail, actor=actor)
                rows.append((system, "FAILED", detail))
            else:
                rows.append((system, "skipped", detail))
            continue
        health = connector.health()
        record_probe(rt.hub, system, ok=health.ok, detail=str(health)[:1000], actor=actor)
        rows.append((system, "ok" if health.ok else "FAILED", str(health)))
    return rows


def _default_systems(rt: Runtime) -> list[str]:
    from tandem.connectors import FACTORIES

    if rt.settings.monitor_health_systems:
        return list(rt.settings.monitor_health_systems)
    names = " ".join(f"{f.source} {' '.join(f.targets)}" for f in FLOWS.values())
    return sorted(set(re.split(r"[^a-z0-9_]+", names)) & {*FACTORIES, "erp", "drp"})


def read_keys(connector: Connector, stream: str) -> dict[str, str | None]:
    """Every key and version of a stream, read from the beginning."""
    found: dict[str, str | None] = {}
    for page in connector.read(stream, None):
        for record in page.records:
            found[record.key] = record.version
    return found


def _scopes(
    settings: TandemSettings, system: str | None, stream: str | None, entity: str | None,
    hub_system: str | None,
) -> list[ReconcileScope]:  # fmt: skip
    if system or stream or entity:
        if not (system and stream and entity):
            _usage("give --system, --stream and --entity together")
        assert system and stream and entity
        return [ReconcileScope(system=system, stream=stream, entity=entity, hub_system=hub_system)]
    if not settings.monitor_reconcile:
        _usage(
            "nothing to reconcile: give --system/--stream/--entity or set TANDEM_MONITOR_RECONCILE"
        )
    return list(settings.monitor_reconcile)


def _usage(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def notifiers_from(settings: TandemSettings) -> list[alerts.Notifier]:
    found: list[alerts.Notifier] = []
    if settings.alert_smtp_host and settings.alert_email_to:
        found.append(
            alerts.SmtpNotifier(
                host=settings.alert_smtp_host,
                port=settings.alert_smtp_port,
                sender=settings.alert_email_from,
                recipients=settings.alert_email_to,
                username=settings.alert_smtp_username,
                password=settings.alert_smtp_password,
                starttls=settings.alert_smtp_starttls,
            )
        )
    if settings.alert_webhook_url:
        found.append(
            alerts.WebhookNotifier(settings.alert_webhook_url, token=settings.alert_webhook_token)
        )
    return found


def alert_policy(settings: TandemSettings) -> alerts.AlertPolicy:
    from datetime import timedelta

    return alerts.AlertPolicy(
        repeat_after=timedelta(seconds=settings.alert_repeat_after),
        max_per_hour=settings.alert_max_per_hour,
        dead_letter_threshold=settings.alert_dead_letter_threshold,
    )


def dashboard_for(rt: Runtime, *, auth: Any) -> Dashboard:
    s = rt.settings

    def deliver_now(ids: Sequence[int]) -> None:
        FLOWS["deliver"].run(rt, RunOptions(delivery_ids=list(ids)))

    secret = s.monitor_session_secret.get_secret_value() if s.monitor_session_secret else None
    return Dashboard(
        hub=rt.hub,
        config=monitor_config(rt),
        auth=auth,
        on_replay=deliver_now,
        metrics_token=s.monitor_metrics_token.get_secret_value()
        if s.monitor_metrics_token
        else None,
        csrf_key=(secret or secrets.token_hex(32)).encode(),
    )


def password_login(settings: TandemSettings) -> PasswordLogin:
    if settings.monitor_password_hash is not None:
        encoded = settings.monitor_password_hash.get_secret_value()
    elif settings.monitor_password is not None:
        encoded = hash_password(settings.monitor_password.get_secret_value())
    else:
        raise ConfigurationError(
            "no dashboard password: set TANDEM_MONITOR_PASSWORD_HASH (from `tandem monitor "
            "--hash-password`) or TANDEM_MONITOR_PASSWORD"
        )
    secret = settings.monitor_session_secret
    return PasswordLogin(
        settings.monitor_username,
        encoded,
        secret.get_secret_value() if secret else secrets.token_hex(32),
        max_age=settings.monitor_session_max_age,
    )


def register(app: typer.Typer, runtime: RuntimeCm, actor: Callable[[], str]) -> None:  # noqa: PLR0915
    """Add the monitoring commands to the ``tandem`` command line."""
    app.add_typer(customer_app, name="customer")
    app.add_typer(alerts_app, name="alerts")

    @app.command()
    def health(
        systems: Annotated[list[str] | None, typer.Argument(help="systems (default: all)")] = None,
    ) -> None:
        """Probe each connector once and record the result for monitoring."""
        with runtime() as rt:
            rows = probe_all(
                rt, systems or _default_systems(rt), explicit=bool(systems), actor=actor()
            )
            table = Table("system", "state", "detail", title="connector health")
            for row in rows:
                table.add_row(*row)
            out.print(table)
            if any(state == "FAILED" for _s, state, _d in rows):
                raise typer.Exit(1)

    @app.command("reconcile")
    def reconcile_cmd(
        system: Annotated[str | None, typer.Option(help="connector system, e.g. erp_soap")] = None,
        stream: Annotated[str | None, typer.Option(help="its stream, e.g. sales_orders")] = None,
        entity: Annotated[str | None, typer.Option(help="hub entity, e.g. sales_order")] = None,
        hub_system: Annotated[
            str | None, typer.Option(help="the system's name in the hub's xrefs, if different")
        ] = None,
    ) -> None:
        """Compare a system's keys and versions with the hub's xrefs; keep the report."""
        with runtime() as rt:
            scopes = _scopes(rt.settings, system, stream, entity, hub_system)
            table = Table(*REPORT_COLUMNS, title="reconciliation")
            drift = False
            for scope in scopes:
                try:
                    keys = read_keys(_probe_connector(rt, scope.system), scope.stream)
                except Exception as exc:
                    rid = reconcile.save_report(
                        rt.hub, system=scope.system, entity=scope.entity, stream=scope.stream,
                        comparison=None, actor=actor(), error=f"{type(exc).__name__}: {exc}"[:2000],
                    )  # fmt: skip
                    table.add_row(
                        str(rid), scope.system, scope.entity, "failed", "", "", "", "", ""
                    )
                    drift = True
                    continue
                rid, cmp = reconcile.reconcile(
                    rt.hub, system=scope.system, entity=scope.entity, stream=scope.stream,
                    system_side=keys, actor=actor(), hub_system=scope.hub_system,
                )  # fmt: skip
                drift = drift or cmp.status != reconcile.IN_STEP
                table.add_row(str(rid), scope.system, scope.entity, cmp.status,
                              str(cmp.system_count), str(cmp.hub_count), str(cmp.missing_in_hub),
                              str(cmp.missing_in_system), str(cmp.version_drift))  # fmt: skip
            out.print(table)
            if drift:
                raise typer.Exit(3)

    @customer_app.command("show")
    def customer_show(
        key: Annotated[str, typer.Argument(help="canonical id or any system's customer id")],
    ) -> None:
        """One customer in every system, its golden record with field sources, its timeline."""
        with runtime() as rt:
            masker = Masker(rt.settings.monitor_mask_fields)
            cid = customer360.find_customer_id(rt.hub, key)
            found = customer360.customer_360(rt.hub, cid, masker) if cid else None
            if found is None:
                err.print(f"[red]error:[/red] no customer {key!r} in the hub")
                raise typer.Exit(1)
            for renderable in _customer_tables(found):
                out.print(renderable)

    @alerts_app.command("check")
    def alerts_check() -> None:
        """Evaluate the alert rules once and notify what is news (schedulable)."""
        with runtime() as rt:
            policy = alert_policy(rt.settings)
            holding = alerts.evaluate(rt.hub, monitor_config(rt), policy)
            notifiers = notifiers_from(rt.settings)
            if not notifiers:
                err.print(
                    "no notifier configured (TANDEM_ALERT_SMTP_HOST/_EMAIL_TO or _WEBHOOK_URL)"
                )
            run = alerts.run_alerts(rt.hub, holding, notifiers, policy, actor=actor())
            for label, keys in (("sent", run.sent), ("resolved", run.resolved),
                                ("already told", run.duplicates),
                                ("held back by the rate limit", run.rate_limited),
                                ("FAILED", run.failed)):  # fmt: skip
                if keys:
                    out.print(f"{label}: {', '.join(keys)}")
            if not holding and not run.resolved:
                out.print("all clear")
            if run.failed:
                raise typer.Exit(1)

    @app.command()
    def monitor(
        host: Annotated[str | None, typer.Option(help="bind address")] = None,
        port: Annotated[int | None, typer.Option(help="port")] = None,
        hash_pw: Annotated[
            bool, typer.Option("--hash-password", help="print a password hash for the settings")
        ] = False,
    ) -> None:
        """Run the monitoring dashboard with its own login (and /metrics for Prometheus)."""
        if hash_pw:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
            out.print(hash_password(password))
            return
        import uvicorn

        with runtime() as rt:
            asgi = create_app(dashboard_for(rt, auth=password_login(rt.settings)))
            bind_host, bind_port = (
                host or rt.settings.monitor_host,
                port or rt.settings.monitor_port,
            )
            err.print(f"monitoring dashboard at http://{bind_host}:{bind_port}/")
            uvicorn.run(asgi, host=bind_host, port=bind_port, log_level="warning")


def _customer_tables(found: customer360.Customer360) -> Iterator[Table]:
    golden = Table("field", "value", "from", "rule", title=f"customer {found.record.id}")
    for f in found.golden:
        golden.add_row(f.name, str(f.value), f.system, f.rule)
    yield golden
    ids = Table("system", "customer id", "version", title="in every system")
    for x in found.xrefs:
        ids.add_row(x.system, x.external_id, x.external_version or "")
    yield ids
    timeline = Table("when", "what", "status", "from", "canonical id", title="timeline")
    for t in found.timeline:
        timeline.add_row(
            f"{t.at:%Y-%m-%d %H:%M}", t.label, t.status, t.source_system, t.canonical_id
        )
    yield timeline
