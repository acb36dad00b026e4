"""Settings: the file and the environment, mistakes caught, several webhook senders."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from hub.engine import upgrade
from tandem.runtime import ConfigurationError, Runtime
from tandem.settings import TandemSettings
from tests.support import serve_asgi


def test_a_typo_in_the_settings_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tandem.toml").write_text('webhook_prot = 9000\nerp_soap_password = "s3cr3t"\n')
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", str(tmp_path / "tandem.toml"))
    with pytest.raises(ValidationError, match="webhook_prot") as caught:
        TandemSettings()
    assert "s3cr3t" not in str(caught.value)


def test_a_named_settings_file_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_SETTINGS_FILE", "/nonexistent/tandem.toml")
    with pytest.raises(ValueError, match="not a file"):
        TandemSettings()


def test_erp_credentials_in_the_url_are_refused() -> None:
    rt = Runtime(TandemSettings(erp_soap_url="http://svc:pa55@erp:7047/WS/CRONUS/Page/"))
    with pytest.raises(ConfigurationError) as caught:
        rt.erp()
    assert "TANDEM_ERP_SOAP_PASSWORD" in str(caught.value) and "pa55" not in str(caught.value)


def test_each_configured_sender_has_its_own_path_and_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    upgrade(url)
    rt = Runtime(
        TandemSettings(
            database_url=url,
            webshop_webhook_secret="woo-secret",
            webhook_sources={"shopify": {"scheme": "shopify", "secret": "shop-secret"}},
        )
    )
    body = b'{"id": 450789469, "name": "#1001"}'
    good = base64.b64encode(hmac.new(b"shop-secret", body, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Hmac-Sha256": good,
    }
    try:
        with serve_asgi(rt.webhook_app()) as base:
            accepted = httpx.post(f"{base}/webhooks/shopify", content=body, headers=headers)
            # the web shop's secret does not open the Shopify door
            wrong = base64.b64encode(hmac.new(b"woo-secret", body, hashlib.sha256).digest())
            refused = httpx.post(
                f"{base}/webhooks/shopify",
                content=body,
                headers=headers | {"X-Shopify-Hmac-Sha256": wrong.decode()},
            )
    finally:
        rt.close()
    assert (accepted.status_code, refused.status_code) == (200, 401)
