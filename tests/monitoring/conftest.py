"""A hub seeded by a real flow run: the web order slice against the sandbox SOAP ERP, one
order delivered and one order dead-lettered while the ERP was down (a peer fault)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from flows.registry import FLOWS, RunOptions
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender
from tandem.cli import app as cli
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.support import serve_asgi

SECRET = "wc-secret-for-monitoring"
PASSWORD = "correct horse battery staple"
DELIVERED_ORDER, DEAD_ORDER = 1042, 3001
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@dataclass
class Seeded:
    runtime: Runtime
    erp: ErpHandle
    delivered: dict[str, Any]
    dead: dict[str, Any]
    env: dict[str, str]


def paid_order(order_id: int) -> dict[str, Any]:
    order = make_order(seed=7, order_id=order_id)
    order["status"] = "processing"
    return order


def set_erp(erp: ErpHandle, **knobs: Any) -> None:
    httpx.post(f"{erp.url}/_control", json=knobs).raise_for_status()


def settings_for(hub_url: str, erp: ErpHandle, **extra: Any) -> TandemSettings:
    return TandemSettings(
        database_url=hub_url,
        erp_soap_url=erp.base_url,
        webshop_webhook_secret=SECRET,
        retry_max_attempts=2,
        retry_base_delay=0.0,
        erp_operation_timeout=5.0,
        monitor_password=PASSWORD,
        monitor_session_secret="session-secret-for-tests",
        monitor_freshness_sla={"webshop-orders": 900, "inventory": 900},
        **extra,
    )


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[ErpHandle]:
    handle = start_in_thread(state_path=tmp_path / "erp.json")
    yield handle
    handle.stop()


@pytest.fixture
def seeded(tmp_path: Path, erp: ErpHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seeded]:
    hub_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(tmp_path / "empty.toml"))
    rt = Runtime(settings_for(hub_url, erp))
    rt.upgrade_db()
    delivered, dead = paid_order(DELIVERED_ORDER), paid_order(DEAD_ORDER)
    with (
        serve_asgi(rt.webhook_app()) as base,
        WebhookSender(f"{base}/webhooks/webshop", SECRET, retries=0) as shop,
    ):
        assert shop.send("order.created", delivered) == [200]
        summary = FLOWS["webshop-orders"].run(rt, RunOptions())
        assert (summary.delivered, summary.dead) == (2, 0)
        set_erp(erp, down=True)  # the peer fault
        assert shop.send("order.created", dead) == [200]
        summary = FLOWS["webshop-orders"].run(rt, RunOptions())
        assert summary.dead == 2
    env = {
        "TANDEM_DATABASE_URL": hub_url,
        "TANDEM_ERP_SOAP_URL": erp.base_url,
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": SECRET,
        "TANDEM_RETRY_MAX_ATTEMPTS": "2",
        "TANDEM_RETRY_BASE_DELAY": "0",
        "TANDEM_SETTINGS_FILE": str(tmp_path / "empty.toml"),
        "COLUMNS": "250",
    }
    yield Seeded(rt, erp, delivered, dead, env)
    rt.close()


def invoke(seeded: Seeded, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=seeded.env)
