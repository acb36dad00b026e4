"""Alerts to a local SMTP server and a local webhook: what is news is told once, growth is
told again, the rate limit holds across processes, and a cleared alert is resolved."""

from __future__ import annotations

from datetime import timedelta

from hub.store import Hub
from hub.types import utcnow
from monitoring.alerts import Alert, AlertPolicy, run_alerts
from tests.monitoring.conftest import Seeded, invoke, set_erp
from tests.monitoring.sinks import smtp_sink, webhook_sink


def _alert_env(seeded: Seeded, smtp_port: int, hook: str, **extra: str) -> None:
    seeded.env.update(
        {
            "TANDEM_ALERT_SMTP_HOST": "127.0.0.1",
            "TANDEM_ALERT_SMTP_PORT": str(smtp_port),
            "TANDEM_ALERT_EMAIL_TO": '["ops@example.com"]',
            "TANDEM_ALERT_EMAIL_FROM": "tandem@example.com",
            "TANDEM_ALERT_WEBHOOK_URL": hook,
            "TANDEM_ALERT_WEBHOOK_TOKEN": "hook-token",
            "TANDEM_MONITOR_FRESHNESS_SLA": '{"webshop-orders": 900, "inventory": 900}',
            **extra,
        }
    )


def test_alerts_reach_email_and_webhook_once_and_resolve(seeded: Seeded) -> None:
    with smtp_sink() as (port, inbox), webhook_sink() as (hook, posts, auth):
        _alert_env(seeded, port, hook)
        first = invoke(seeded, "alerts", "check")
        assert first.exit_code == 0, first.output
        subjects = sorted(m["Subject"] for m in inbox.mails)
        assert subjects == [
            "[tandem] 2 dead letters waiting",
            "[tandem] inventory is stale: no data yet (SLA 900 s)",
        ]
        assert inbox.envelopes[0] == ("tandem@example.com", ["ops@example.com"])
        assert sorted(p["subject"] for p in posts) == subjects
        assert set(auth) == {"Bearer hook-token"}

        # a new process: nothing changed, nothing is sent again (state kept in the hub)
        again = invoke(seeded, "alerts", "check")
        assert "already told: dead_letters, sla:inventory" in again.output
        assert len(inbox.mails) == 2 and len(posts) == 2

        # the ERP goes down: a probe says so and it is news
        set_erp(seeded.erp, down=True)
        assert invoke(seeded, "health", "erp").exit_code == 1
        down = invoke(seeded, "alerts", "check")
        assert "sent: down:erp" in down.output
        assert inbox.mails[-1]["Subject"] == "[tandem] erp is unreachable"

        # fixed, probed and replayed: the dead-letter and down alerts are resolved
        set_erp(seeded.erp, down=False)
        assert invoke(seeded, "health", "erp").exit_code == 0
        assert invoke(seeded, "deadletters", "replay", "--all").exit_code == 0
        cleared = invoke(seeded, "alerts", "check")
        assert "resolved: dead_letters, down:erp" in cleared.output
        assert {m["Subject"] for m in inbox.mails[-2:]} == {
            "[tandem] resolved: dead_letters",
            "[tandem] resolved: down:erp",
        }


def test_rate_limit_holds_across_processes(seeded: Seeded) -> None:
    with smtp_sink() as (port, inbox), webhook_sink() as (hook, posts, _auth):
        _alert_env(seeded, port, hook, TANDEM_ALERT_MAX_PER_HOUR="1")
        first = invoke(seeded, "alerts", "check")
        assert "held back by the rate limit" in first.output
        assert len(inbox.mails) == 1 and len(posts) == 1
        second = invoke(seeded, "alerts", "check")
        assert "held back by the rate limit: " in second.output
        assert len(inbox.mails) == 1  # the hour's budget is spent, whichever process asks


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, subject: str, body: str) -> None:
        self.sent.append(subject)


def test_growth_repeat_and_dedupe_rules(hub: Hub) -> None:
    policy = AlertPolicy(repeat_after=timedelta(hours=1), max_per_hour=100)
    note = Recorder()

    def dead(n: int) -> Alert:
        return Alert("dead_letters", f"{n} dead", "", fingerprint=str(n), level=float(n))

    now = utcnow()
    run = run_alerts(hub, [dead(2)], [note], policy, actor="t", now=now)
    assert run.sent == ["dead_letters"]
    assert run_alerts(hub, [dead(2)], [note], policy, actor="t", now=now).duplicates == [
        "dead_letters"
    ]
    assert run_alerts(hub, [dead(1)], [note], policy, actor="t", now=now).duplicates  # fewer
    assert run_alerts(hub, [dead(2)], [note], policy, actor="t", now=now).sent  # grew again
    later = now + timedelta(hours=1, minutes=1)
    assert run_alerts(hub, [dead(2)], [note], policy, actor="t", now=later).sent  # reminder
    assert note.sent == ["2 dead", "2 dead", "2 dead"]
    resolved = run_alerts(hub, [], [note], policy, actor="t", now=later)
    assert resolved.resolved == ["dead_letters"] and note.sent[-1].endswith(
        "resolved: dead_letters"
    )
    assert run_alerts(hub, [], [note], policy, actor="t", now=later).resolved == []


class Broken:
    name = "broken"

    def send(self, subject: str, body: str) -> None:
        raise OSError("connection refused")


def test_a_failed_notification_is_tried_again(hub: Hub) -> None:
    policy = AlertPolicy(max_per_hour=100)
    alert = Alert("down:erp", "erp down", "", fingerprint="down")
    failed = run_alerts(hub, [alert], [Broken()], policy, actor="t")
    assert failed.failed == ["down:erp"] and failed.sent == []
    note = Recorder()
    assert run_alerts(hub, [alert], [note], policy, actor="t").sent == ["down:erp"]


def test_a_failed_airflow_task_raises_an_alert_until_it_is_an_hour_old(hub: Hub) -> None:
    """Airflow's failure callback writes a ``task_failed`` event (``record_failure``): the
    alerting tells it with the DAG, task and error, and a second failure is news again."""
    from monitoring.alerts import evaluate
    from monitoring.config import MonitorConfig

    config, policy = MonitorConfig(), AlertPolicy()
    assert not [a for a in evaluate(hub, config, policy) if a.key == "task_failures"]
    with hub.begin() as hs:
        hs.event("task_failed", actor="airflow", detail="tandem_inventory.run_flow: ERP down")
    (alert,) = [a for a in evaluate(hub, config, policy) if a.key == "task_failures"]
    assert "1 Airflow task failure " in alert.subject
    assert "tandem_inventory.run_flow: ERP down" in alert.body
    with hub.begin() as hs:
        hs.event("task_failed", actor="airflow", detail="tandem_catalog.run_flow: bad file")
    (again,) = [a for a in evaluate(hub, config, policy) if a.key == "task_failures"]
    assert again.fingerprint != alert.fingerprint and "2 Airflow task failures" in again.subject
    later = utcnow() + timedelta(hours=1, minutes=1)
    assert not [a for a in evaluate(hub, config, policy, now=later) if a.key == "task_failures"]
