"""Alerts on dead-letter growth, freshness SLA breaches and connectors down, sent through
pluggable notifiers (SMTP e-mail, a generic webhook), de-duplicated and rate-limited with
their state in the hub (``alert_state``; ``alert_sent`` events), so restarts forget nothing.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from hub.schema import AlertState, Delivery, DeliveryStatus, Event
from hub.store import Hub
from hub.types import utcnow
from monitoring.config import MonitorConfig
from monitoring.health import flow_freshness, target_health

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Alert:
    key: str  # what is wrong, stable across evaluations: "dead_letters", "sla:inventory"
    subject: str
    body: str
    fingerprint: str  # a change means news worth telling again
    level: float | None = None  # when set, only a higher level is news (growth)


class Notifier(Protocol):
    name: str

    def send(self, subject: str, body: str) -> None: ...


@dataclass
class SmtpNotifier:
    host: str
    port: int
    sender: str
    recipients: Sequence[str]
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout: float = 10.0
    name: str = "email"

    def send(self, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, ", ".join(self.recipients), subject
        msg.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password is not None:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(msg)


@dataclass
class WebhookNotifier:
    url: str
    token: SecretStr | None = None
    timeout: float = 10.0
    name: str = "webhook"

    def send(self, subject: str, body: str) -> None:
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}
        answer = httpx.post(
            self.url,
            json={"subject": subject, "text": body, "source": "tandem"},
            headers=headers,
            timeout=self.timeout,
        )
        answer.raise_for_status()


@dataclass(frozen=True)
class AlertPolicy:
    repeat_after: timedelta = timedelta(hours=4)  # an unchanged alert is told again after this
    max_per_hour: int = 20  # notifications of all kinds per hour, across processes
    dead_letter_threshold: int = 1
    task_failure_window: timedelta = timedelta(hours=1)  # failed Airflow tasks counted within


@dataclass
class AlertRun:
    sent: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rate_limited: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def evaluate(
    hub: Hub, config: MonitorConfig, policy: AlertPolicy, now: datetime | None = None
) -> list[Alert]:
    """The alerts that hold now."""
    now = now or utcnow()
    found: list[Alert] = []
    with hub.begin() as hs:
        dead = int(
            hs.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DEAD)
            )
            or 0
        )
    if dead >= policy.dead_letter_threshold:
        found.append(
            Alert(
                "dead_letters",
                f"[tandem] {dead} dead letter{'s' if dead != 1 else ''} waiting",
                f"{dead} deliveries failed for good and wait for a replay or a discard.\n"
                "Dashboard: Dead letters; CLI: tandem deadletters list",
                fingerprint=str(dead),
                level=float(dead),
            )
        )
    failures = task_failures(hub, now - policy.task_failure_window)
    if failures:
        count, latest = len(failures), failures[0]
        found.append(
            Alert(
                "task_failures",
                f"[tandem] {count} Airflow task failure{'s' if count != 1 else ''} "
                f"in the last {policy.task_failure_window.total_seconds() / 3600:g} h",
                "Latest first (DAG.task: error):\n"
                + "\n".join(f"{e.at:%Y-%m-%d %H:%M:%S}Z {e.detail}" for e in failures[:5])
                + "\nAirflow: the DAG's grid view; Dashboard: Events",
                fingerprint=str(latest.id),  # a new failure is news, the same ones are not
            )
        )
    for f in flow_freshness(hub, config, now):
        if f.breached:
            lag = "no data yet" if f.lag_seconds is None else f"{f.lag_seconds:.0f} s behind"
            found.append(
                Alert(
                    f"sla:{f.name}",
                    f"[tandem] {f.name} is stale: {lag} (SLA {f.sla_seconds:.0f} s)",
                    f"{f.name} (source {f.system}) last moved at {f.last_activity or 'never'}; "
                    f"its freshness SLA is {f.sla_seconds:.0f} seconds.",
                    fingerprint="breach",
                )
            )
    for t in target_health(hub, config, now):
        if t.reachable is False:
            found.append(
                Alert(
                    f"down:{t.system}",
                    f"[tandem] {t.system} is unreachable",
                    f"The latest health probe of {t.system} at {t.probed_at} failed: "
                    f"{t.probe_detail}",
                    fingerprint="down",
                )
            )
    return found


def task_failures(hub: Hub, since: datetime) -> list[Event]:
    """The ``task_failed`` events Airflow's failure callback recorded since ``since``, newest
    first."""
    with hub.begin() as hs:
        return list(
            hs.session.scalars(
                select(Event)
                .where(Event.kind == "task_failed", Event.at >= since)
                .order_by(Event.id.desc())
                .limit(100)
            )
        )


def _is_news(alert: Alert, state: AlertState | None, now: datetime, policy: AlertPolicy) -> bool:
    if state is None or not state.active or state.last_sent_at is None:
        return True
    if alert.level is not None:
        grew = alert.level > float(state.fingerprint or 0)
        return grew or now - state.last_sent_at >= policy.repeat_after
    return alert.fingerprint != state.fingerprint or now - state.last_sent_at >= policy.repeat_after


def _deliver(notifiers: Sequence[Notifier], subject: str, body: str) -> list[str]:
    """Send through every notifier; returns the names that failed (errors logged)."""
    failed = []
    for notifier in notifiers:
        try:
            notifier.send(subject, body)
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            log.warning("alert via %s failed: %s", notifier.name, exc)
            failed.append(f"{notifier.name}: {type(exc).__name__}: {exc}")
    return failed


def _sent_last_hour(hub: Hub, now: datetime) -> int:
    with hub.begin() as hs:
        return int(
            hs.session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.kind == "alert_sent", Event.at >= now - timedelta(hours=1))
            )
            or 0
        )


def run_alerts(
    hub: Hub,
    alerts: Sequence[Alert],
    notifiers: Sequence[Notifier],
    policy: AlertPolicy,
    *,
    actor: str,
    now: datetime | None = None,
) -> AlertRun:
    """Notify what is news, within the rate limit; tell when an alert clears."""
    now = now or utcnow()
    run = AlertRun()
    budget = policy.max_per_hour - _sent_last_hour(hub, now)
    with hub.begin() as hs:
        states = {s.key: s for s in hs.session.scalars(select(AlertState))}
    outgoing: list[tuple[str, str, str, Alert | None]] = []
    for alert in alerts:
        if _is_news(alert, states.get(alert.key), now, policy):
            outgoing.append((alert.key, alert.subject, alert.body, alert))
        else:
            run.duplicates.append(alert.key)
    holding = {a.key for a in alerts}
    for key, previous in states.items():
        if previous.active and key not in holding:
            outgoing.append(
                (key, f"[tandem] resolved: {key}", f"{previous.message}\n\nResolved.", None)
            )
    with hub.begin() as hs:
        for key, subject, body, news in outgoing:
            state = hs.session.get(AlertState, key)
            if budget <= 0:
                run.rate_limited.append(key)
                if state is not None:
                    state.suppressed_count += 1
                continue
            failures = _deliver(notifiers, subject, body)
            if notifiers and len(failures) == len(notifiers):
                run.failed.append(key)
                hs.event("alert_failed", actor=actor, detail=f"{key}: {'; '.join(failures)}"[:2000])
                continue
            budget -= 1
            hs.event("alert_sent", actor=actor, detail=json.dumps({"key": key, "subject": subject}))
            if news is None:
                run.resolved.append(key)
                if state is not None:
                    state.active = False
                continue
            run.sent.append(key)
            fingerprint = str(news.level) if news.level is not None else news.fingerprint
            if state is None:
                hs.session.add(
                    AlertState(
                        key=key,
                        fingerprint=fingerprint,
                        active=True,
                        message=news.subject,
                        first_seen_at=now,
                        last_sent_at=now,
                        sent_count=1,
                        suppressed_count=0,
                    )
                )
            else:
                if not state.active:
                    state.first_seen_at = now
                state.fingerprint, state.active, state.message = fingerprint, True, news.subject
                state.last_sent_at, state.sent_count = now, state.sent_count + 1
        for held in alerts:
            kept = hs.session.get(AlertState, held.key)
            if held.key in run.duplicates and kept is not None:
                kept.suppressed_count += 1
                if held.level is not None and held.level < float(kept.fingerprint or 0):
                    kept.fingerprint = str(held.level)  # growth counts from the new low
    return run


def alert_states(hub: Hub) -> list[AlertState]:
    with hub.begin() as hs:
        return list(
            hs.session.scalars(
                select(AlertState).order_by(AlertState.active.desc(), AlertState.key).limit(200)
            )
        )
