"""Web shop settings from a connection id: URI and JSON forms, secrets kept secret."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from canonical.errors import PermanentError
from connectors.connection import parse_connection
from connectors.webshop import WebshopConnector, WebshopSettings
from sandbox.webshop.peer import WebshopHandle, start_in_thread

SECRET = "cs_5e3f0c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"


def test_a_uri_gives_address_key_pair_and_options() -> None:
    conn = parse_connection(
        "webshop",
        f"https://ck_0a1b2c:{SECRET}@shop.example:8443/wp-json/wc/v3?auth=query&per_page=50",
    )
    settings = WebshopSettings.from_connection(conn)
    assert settings.base_url == "https://shop.example:8443/wp-json/wc/v3"
    assert settings.consumer_key.get_secret_value() == "ck_0a1b2c"
    assert settings.consumer_secret.get_secret_value() == SECRET
    assert (settings.auth, settings.per_page) == ("query", 50)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_json_form_defaults_to_https_basic_auth_and_the_v3_path() -> None:
    text = json.dumps(
        {"conn_type": "http", "host": "shop.example", "login": "ck_1", "password": SECRET}
    )
    settings = WebshopSettings.from_connection(parse_connection("webshop", text))
    assert settings.base_url == "https://shop.example/wp-json/wc/v3"
    assert settings.auth == "basic"
    overridden = WebshopSettings.from_connection(
        parse_connection("webshop", text), per_page=20, read_timeout=5
    )
    assert (overridden.per_page, overridden.read_timeout) == (20, 5)


def test_invalid_settings_name_the_fields_and_never_echo_a_value() -> None:
    conn = parse_connection(
        "webshop", f"https://ck_1:{SECRET}@shop.example?per_page=500&auth=oauth"
    )
    with pytest.raises(PermanentError) as caught:
        WebshopSettings.from_connection(conn)
    message = str(caught.value)
    assert "per_page" in message and "auth" in message
    assert SECRET not in message and "oauth" not in message
    with pytest.raises(PermanentError, match="consumer_secret"):
        WebshopSettings.from_connection(parse_connection("webshop", "https://ck_1@shop.example"))


@pytest.fixture
def shop() -> Iterator[WebshopHandle]:
    handle = start_in_thread(seed=2)
    yield handle
    handle.stop()


def test_a_connector_from_a_connection_id_reads_the_shop(
    shop: WebshopHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, port = shop.url.removeprefix("http://").split(":")
    uri = (
        f"http://{shop.consumer_key}:{shop.consumer_secret}@{host}:{port}/wp-json/wc/v3"
        "?scheme=http&auth=query"
    )
    monkeypatch.setenv("AIRFLOW_CONN_WEBSHOP_TEST", uri)
    with WebshopConnector.from_connection_id("webshop_test", per_page=100) as connector:
        assert connector.health().ok
        page = next(connector.read("orders", None))
        assert len(page.records) == 100
