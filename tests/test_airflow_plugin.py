"""The Airflow plugin: Airflow's own mounting code puts the receiver at /tandem, over a real socket.

Airflow itself is not started: ``airflow.api_fastapi.app.init_plugins`` (what the API server
runs at start-up) mounts the plugin's ``fastapi_apps`` on a FastAPI parent app, which uvicorn
serves on loopback.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

from connectors.webhooks import hmac_sha256_base64
from hub.engine import upgrade
from tests.support import serve_asgi

SECRET = "plugin-secret-Zq8"
BODY = b'{"id": 4711, "number": "4711", "status": "processing"}'
HEADERS = {
    "Content-Type": "application/json",
    "X-WC-Webhook-Topic": "order.created",
    "X-WC-Webhook-Resource": "order",
    "X-WC-Webhook-Event": "created",
    "X-WC-Webhook-ID": "3",
    "X-WC-Webhook-Delivery-ID": "d41d8cd98f00b204e9800998ecf8427e",
}


@pytest.fixture(scope="module")
def plugin_module() -> Iterator[ModuleType]:
    # Airflow reads AIRFLOW_HOME when first imported; keep it out of the user's home.
    with tempfile.TemporaryDirectory() as home:
        previous = os.environ.get("AIRFLOW_HOME")
        os.environ.setdefault("AIRFLOW_HOME", home)
        try:
            yield importlib.import_module("tandem.airflow_plugin")
        finally:
            if previous is None and os.environ.get("AIRFLOW_HOME") == home:
                del os.environ["AIRFLOW_HOME"]


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    upgrade(url)
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    monkeypatch.setenv("TANDEM_WEBSHOP_WEBHOOK_SECRET", SECRET)
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(tmp_path / "empty.toml"))
    return url


def airflow_api_server(plugin_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """A parent app with the plugin mounted the way Airflow's API server mounts plugins."""
    from airflow import plugins_manager
    from airflow.api_fastapi.app import init_plugins

    plugin = plugin_module.TandemPlugin
    plugin.validate()
    monkeypatch.setattr(
        plugins_manager,
        "get_fastapi_plugins",
        lambda: (plugin.fastapi_apps, plugin.fastapi_root_middlewares),
    )
    parent = FastAPI()
    init_plugins(parent)
    # as Airflow's core API app does, compression in front of everything mounted (there its
    # other middlewares stream the answers, so even short ones get compressed: minimum 1 here)
    parent.add_middleware(GZipMiddleware, minimum_size=1, compresslevel=5)
    return parent


def test_signed_delivery_through_the_plugin_mount_is_stored(
    plugin_module: ModuleType, configured: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = airflow_api_server(plugin_module, monkeypatch)
    signed = {**HEADERS, "X-WC-Webhook-Signature": hmac_sha256_base64(BODY, SECRET)}

    with serve_asgi(parent) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        health = client.get("/tandem/webhooks/_health")
        accepted = client.post("/tandem/webhooks/webshop", content=BODY, headers=signed)
        again = client.post(
            "/tandem/webhooks/webshop",
            content=BODY,
            headers={**signed, "Accept-Encoding": "identity"},
        )
        forged = client.post(
            "/tandem/webhooks/webshop",
            content=BODY,
            headers={**HEADERS, "X-WC-Webhook-Signature": hmac_sha256_base64(BODY, "wrong")},
        )
        ping = client.post(
            "/tandem/webhooks/webshop",
            content=b"webhook_id=3",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert health.json() == {"status": "ok"}
    # a compressed answer must not leave its Content-Encoding on the next, plain one
    assert accepted.headers.get("content-encoding") == "gzip"
    assert (accepted.status_code, accepted.json()) == (200, {"status": "accepted"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert forged.status_code == 401
    assert (ping.status_code, ping.json()) == (200, {"status": "pong"})
    engine = sa.create_engine(configured)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT raw_body, kind FROM inbox")).all()
    engine.dispose()
    assert [(bytes(body), kind) for body, kind in rows] == [(BODY, "order.created")]


def test_unconfigured_receiver_answers_503_until_configured(
    plugin_module: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("TANDEM_WEBSHOP_WEBHOOK_SECRET", raising=False)
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(tmp_path / "empty.toml"))
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    app = plugin_module.create_plugin_app()  # importing and building the app needs no settings
    signed = {**HEADERS, "X-WC-Webhook-Signature": hmac_sha256_base64(BODY, SECRET)}

    with serve_asgi(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        refused = client.post("/webhooks/webshop", content=BODY, headers=signed)
        upgrade(url)
        monkeypatch.setenv("TANDEM_WEBSHOP_WEBHOOK_SECRET", SECRET)
        accepted = client.post("/webhooks/webshop", content=BODY, headers=signed)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "60"
    assert "TANDEM_WEBSHOP_WEBHOOK_SECRET" in caplog.text
    assert accepted.json() == {"status": "accepted"}
