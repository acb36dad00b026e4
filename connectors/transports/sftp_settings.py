"""How to reach one SFTP server: typed settings read from a connection URI, never from code.

The URI is the one Airflow uses for ``AIRFLOW_CONN_*`` variables (Airflow itself is not
imported)::

    sftp://USER:PASSWORD@HOST:PORT/ROOT?known_hosts=/etc/tandem/known_hosts&key_file=/k/id

User and password are percent-encoded; query parameters are the connection's extras (also
accepted as a JSON object in ``__extra__``). ``from_env`` also reads Airflow's JSON form
(``{"conn_type": "sftp", "host": ..., "login": ..., "password": ..., "extra": {...}}``).
Airflow's SFTP extras ``key_file``, ``private_key``, ``private_key_passphrase``,
``conn_timeout``, ``timeout`` and ``host_key`` are understood; ``no_host_key_check=true`` is
refused: host key verification is always on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from canonical.errors import PermanentError
from connectors.transports.retry import RetryPolicy

# transient network failures: reconnect after 0.2 s, 0.4 s, 0.8 s (+ jitter)
SFTP_RETRY = RetryPolicy(attempts=4, initial_wait=0.2, max_wait=5.0, jitter=0.2)

# extras named as Airflow's SFTP/SSH connections name them -> our field names
_EXTRA_ALIASES = {
    "private_key_passphrase": "key_passphrase",
    "conn_timeout": "connect_timeout",
    "timeout": "operation_timeout",
    "fingerprint": "host_key_fingerprint",
    "host_key_sha256": "host_key_fingerprint",
}
_TRUE = {"1", "true", "yes", "on"}


class SftpSettings(BaseModel):
    """One SFTP endpoint. Secrets are ``SecretStr`` and never appear in messages or logs.

    Host key verification is mandatory: give ``known_hosts`` (a file in OpenSSH format; for a
    port other than 22 the host is written ``[host]:port``), a pinned ``host_key_fingerprint``
    (``SHA256:...`` as ``ssh-keygen -l`` prints it), or the full ``host_key``
    (``ssh-ed25519 AAAA...``). Every one given must match.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    port: int = Field(default=22, gt=0, lt=65536)
    username: str
    password: SecretStr | None = None
    key_file: Path | None = None
    private_key: SecretStr | None = None  # the key text (OpenSSH or PEM)
    key_passphrase: SecretStr | None = None
    known_hosts: Path | None = None
    host_key_fingerprint: str | None = None
    host_key: str | None = None
    root: str = ""  # remote base directory; relative paths resolve against it
    connect_timeout: float = Field(default=10.0, gt=0)
    operation_timeout: float = Field(default=60.0, gt=0)
    keepalive_seconds: int = Field(default=30, ge=0)
    temp_name: str = "{name}.part"  # upload temp name in the same directory
    stability: Literal["listing", "marker"] = "listing"
    settle_seconds: float = Field(default=2.0, ge=0)
    marker_suffix: str = ".ready"
    inbound_dir: str = "inbound"
    processing_dir: str = "processing"
    archive_dir: str = "archive"
    failed_dir: str = "failed"
    retry: RetryPolicy = SFTP_RETRY

    @model_validator(mode="after")
    def _check(self) -> SftpSettings:
        if not (self.known_hosts or self.host_key_fingerprint or self.host_key):
            raise ValueError(
                f"sftp {self.endpoint}: host key verification is required: set known_hosts, "
                "host_key_fingerprint (SHA256:...) or host_key"
            )
        if self.host_key_fingerprint and not self.host_key_fingerprint.startswith("SHA256:"):
            raise ValueError("host_key_fingerprint must look like 'SHA256:<base64>'")
        if not (self.password or self.key_file or self.private_key):
            raise ValueError(
                f"sftp {self.endpoint}: no credentials: set a password, key_file or private_key"
            )
        if "{name}" not in self.temp_name or "/" in self.temp_name:
            raise ValueError("temp_name must contain '{name}' and no '/'")
        return self

    @property
    def endpoint(self) -> str:
        """``user@host:port``, for messages."""
        return f"{self.username}@{self.host}:{self.port}"

    def temp_path(self, final_path: str) -> str:
        """The upload temp name for ``final_path``, in the same directory."""
        head, _, name = final_path.rpartition("/")
        temp = self.temp_name.format(name=name)
        return f"{head}/{temp}" if head or final_path.startswith("/") else temp

    def is_temp_name(self, name: str) -> bool:
        prefix, _, suffix = self.temp_name.partition("{name}")
        return len(name) > len(prefix) + len(suffix) and (
            name.startswith(prefix) and name.endswith(suffix)
        )

    # -- construction from a connection URI / environment -----------------------------------

    @classmethod
    def from_uri(cls, uri: str, **overrides: Any) -> SftpSettings:
        """Settings from an Airflow-style connection URI; ``overrides`` win over it."""
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError as exc:
            raise PermanentError(f"sftp connection URI is malformed: {exc}") from None
        if parts.scheme not in {"sftp", "ssh"}:
            raise PermanentError(f"sftp connection URI must start with sftp://, not {parts.scheme}")
        values: dict[str, Any] = {
            "host": unquote(parts.hostname or ""),
            "username": unquote(parts.username or ""),
        }
        if port is not None:
            values["port"] = port
        if parts.password is not None:
            values["password"] = unquote(parts.password)
        if len(parts.path) > 1:
            values["root"] = unquote(parts.path[1:])
        extras: dict[str, Any] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "__extra__":
                extras.update(_json_object(value, "__extra__"))
            else:
                extras[key] = value
        values.update(_from_extras(extras))
        return cls._build({**values, **overrides})

    @classmethod
    def from_airflow_json(cls, text: str, **overrides: Any) -> SftpSettings:
        """Settings from Airflow's JSON connection form."""
        data = _json_object(text, "connection")
        values: dict[str, Any] = {"host": data.get("host") or "", "username": data.get("login")}
        if data.get("port"):
            values["port"] = data["port"]
        if data.get("password"):
            values["password"] = data["password"]
        if data.get("schema"):
            values["root"] = data["schema"]
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = _json_object(extra, "extra")
        values.update(_from_extras(extra))
        return cls._build({**values, **overrides})

    @classmethod
    def from_env(cls, name: str, **overrides: Any) -> SftpSettings:
        """Settings from the environment variable ``name`` (a URI or Airflow's JSON form)."""
        raw = os.environ.get(name)
        if not raw:
            raise PermanentError(f"environment variable {name} is not set (an sftp:// URI)")
        try:
            if raw.lstrip().startswith("{"):
                return cls.from_airflow_json(raw, **overrides)
            return cls.from_uri(raw, **overrides)
        except PermanentError as exc:
            raise PermanentError(f"{name}: {exc}") from None

    @classmethod
    def _build(cls, values: dict[str, Any]) -> SftpSettings:
        try:
            if isinstance(values.get("retry"), dict):
                values["retry"] = RetryPolicy(**{**SFTP_RETRY.model_dump(), **values["retry"]})
            return cls(**values)
        except ValidationError as exc:
            # pydantic's message would echo input values (the password among them)
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
                for err in exc.errors(include_input=False, include_url=False)
            )
            raise PermanentError(f"sftp connection settings invalid: {problems}") from None


def _from_extras(extras: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in extras.items():
        if key == "no_host_key_check":
            if str(value).lower() in _TRUE:
                raise PermanentError(
                    "sftp connection: no_host_key_check is not allowed; host keys are always "
                    "verified (set known_hosts or host_key_fingerprint)"
                )
            continue
        if key in {"retry_attempts", "retry_initial_wait", "retry_max_wait", "retry_jitter"}:
            values.setdefault("retry", {})[key.removeprefix("retry_")] = value
            continue
        values[_EXTRA_ALIASES.get(key, key)] = value
    return values


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise PermanentError(f"sftp connection {what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise PermanentError(f"sftp connection {what} must be a JSON object")
    return data
