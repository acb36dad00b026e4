"""Connections by id: code names a connection, never a secret.

A connection id (``erp_soap``, ``webshop``, ``threepl_sftp``...) resolves, in order, through

1. resolvers registered with ``register_resolver`` — inside Airflow the DAG layer registers
   one that asks Airflow (and so its secrets backend);
2. the environment variable ``AIRFLOW_CONN_<ID>`` (the id upper-cased, ``-`` as ``_``), in
   either of Airflow's two forms: a URI (``scheme://login:password@host:port/schema?extra=v``,
   percent-encoded) or the JSON object (``{"conn_type": ..., "host": ..., "extra": {...}}``).

Connectors turn a ``Connection`` into their own typed settings (``from_connection``), with
the password and any secret extras as ``SecretStr``. ``settings_error`` turns a pydantic
``ValidationError`` into a ``PermanentError`` that never echoes an input value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import SecretStr, ValidationError

from canonical.errors import PermanentError

Resolver = Callable[[str], "Connection | None"]
_resolvers: list[Resolver] = []


@dataclass(frozen=True)
class Connection:
    """Airflow's connection fields, with the password kept secret."""

    conn_id: str
    conn_type: str = ""
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: SecretStr | None = None
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def base_url(self, default_scheme: str = "http") -> str:
        """``scheme://host:port/schema`` for HTTP-style peers (no credentials in it)."""
        scheme = str(self.extra.get("scheme") or default_scheme)
        if not self.host:
            raise PermanentError(f"connection {self.conn_id}: no host")
        port = f":{self.port}" if self.port else ""
        path = f"/{self.schema.lstrip('/')}" if self.schema else ""
        return f"{scheme}://{self.host}{port}{path}"


def register_resolver(resolver: Resolver) -> None:
    """Ask ``resolver`` first (e.g. Airflow's connection lookup); it returns None when it
    does not know the id."""
    if resolver not in _resolvers:
        _resolvers.insert(0, resolver)


def env_name(conn_id: str) -> str:
    return "AIRFLOW_CONN_" + conn_id.upper().replace("-", "_")


def get_connection(conn_id: str) -> Connection:
    for resolver in _resolvers:
        found = resolver(conn_id)
        if found is not None:
            return found
    raw = os.environ.get(env_name(conn_id))
    if not raw:
        raise PermanentError(
            f"connection {conn_id!r} is not defined: set {env_name(conn_id)} "
            "(a connection URI or Airflow's JSON form) or define it in Airflow"
        )
    try:
        return parse_connection(conn_id, raw)
    except PermanentError as exc:
        raise PermanentError(f"{env_name(conn_id)}: {exc}") from None


def parse_connection(conn_id: str, text: str) -> Connection:
    """A connection from Airflow's URI or JSON form."""
    text = text.strip()
    return _from_json(conn_id, text) if text.startswith("{") else _from_uri(conn_id, text)


def _from_uri(conn_id: str, uri: str) -> Connection:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise PermanentError(f"connection URI is malformed: {exc}") from None
    if not parts.scheme:
        raise PermanentError("connection URI has no scheme (like http://, sftp://)")
    extra: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "__extra__":
            extra.update(_json_object(value, "__extra__"))
        else:
            extra[key] = value
    return Connection(
        conn_id=conn_id,
        conn_type=parts.scheme.replace("-", "_"),
        host=unquote(parts.hostname) if parts.hostname else None,
        port=port,
        login=unquote(parts.username) if parts.username else None,
        password=SecretStr(unquote(parts.password)) if parts.password is not None else None,
        schema=unquote(parts.path[1:]) if len(parts.path) > 1 else None,
        extra=extra,
    )


def _from_json(conn_id: str, text: str) -> Connection:
    data = _json_object(text, "connection")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = _json_object(extra, "extra")
    port = data.get("port")
    return Connection(
        conn_id=conn_id,
        conn_type=str(data.get("conn_type") or ""),
        host=data.get("host") or None,
        port=int(port) if port else None,
        login=data.get("login") or None,
        password=SecretStr(str(data["password"])) if data.get("password") else None,
        schema=data.get("schema") or None,
        extra=dict(extra),
    )


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PermanentError(f"{what} is not valid JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(value, dict):
        raise PermanentError(f"{what} must be a JSON object")
    return value


def settings_error(what: str, exc: ValidationError) -> PermanentError:
    """A ``PermanentError`` listing each invalid field and why, without any input value (a
    password would otherwise be echoed)."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)
    )
    return PermanentError(f"{what} settings invalid: {problems}")
