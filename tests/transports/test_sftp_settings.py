"""SFTP settings come from an Airflow-style connection URI or env var, never from code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canonical.errors import PermanentError
from connectors.transports.sftp import SftpSettings


def test_uri_with_encoded_password_and_extras() -> None:
    settings = SftpSettings.from_uri(
        "sftp://tp%40corp:p%2Fss%3Aw0rd@files.example.com:2222/%2Fdrop/3pl"
        "?known_hosts=%2Fetc%2Ftandem%2Fknown_hosts&conn_timeout=7&retry_attempts=2"
        "&stability=marker&marker_suffix=.ok"
    )
    assert settings.username == "tp@corp"
    assert settings.password is not None
    assert settings.password.get_secret_value() == "p/ss:w0rd"
    assert (settings.host, settings.port) == ("files.example.com", 2222)
    assert settings.root == "/drop/3pl"
    assert settings.known_hosts == Path("/etc/tandem/known_hosts")
    assert settings.connect_timeout == 7.0
    assert settings.retry.attempts == 2
    assert (settings.stability, settings.marker_suffix) == ("marker", ".ok")
    assert "p/ss:w0rd" not in repr(settings)


def test_env_var_in_airflow_json_form(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = {
        "conn_type": "sftp",
        "host": "10.0.0.5",
        "login": "drp",
        "port": 22,
        "extra": {"key_file": "/keys/drp", "host_key_fingerprint": "SHA256:abc"},
    }
    monkeypatch.setenv("TANDEM_CONN_DRP", json.dumps(connection))
    settings = SftpSettings.from_env("TANDEM_CONN_DRP")
    assert settings.key_file == Path("/keys/drp")
    assert settings.host_key_fingerprint == "SHA256:abc"
    assert settings.port == 22


def test_bad_settings_are_named_without_echoing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TANDEM_CONN_X", "sftp://u:Secret-99@h/?known_hosts=/k&conn_timeout=-1")
    with pytest.raises(PermanentError) as caught:
        SftpSettings.from_env("TANDEM_CONN_X")
    assert "TANDEM_CONN_X" in str(caught.value)
    assert "connect_timeout" in str(caught.value)
    assert "Secret-99" not in str(caught.value)
    with pytest.raises(PermanentError, match="not set"):
        SftpSettings.from_env("TANDEM_CONN_MISSING")


def test_credentials_are_required() -> None:
    with pytest.raises(PermanentError, match="no credentials"):
        SftpSettings.from_uri("sftp://u@h/?known_hosts=/k")


def test_retry_extras_keep_the_sftp_defaults_they_do_not_name() -> None:
    settings = SftpSettings.from_uri("sftp://u:p@h/?known_hosts=/k&retry_attempts=6")
    assert settings.retry.attempts == 6
    assert settings.retry.initial_wait == SftpSettings.model_fields["retry"].default.initial_wait
