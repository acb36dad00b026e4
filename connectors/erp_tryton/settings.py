"""Settings of the Tryton connector, from a connection id.

A connection (``AIRFLOW_CONN_ERP_TRYTON``) names the server, the database and the user::

    AIRFLOW_CONN_ERP_TRYTON='http://admin:secret@erp.example:8000/tandem'

- host, port and ``extra.scheme`` (default ``http``) make ``url``; the schema (the URL path) is
  the database name, or ``extra.database`` when the path is empty;
- login is the Tryton user, password its password (a ``SecretStr``);
- any other field of ``TrytonSettings`` may come as an extra (``page_size``,
  ``read_timeout``...) or as a keyword override.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.connection import Connection, settings_error
from connectors.transports.retry import RetryPolicy


class TrytonSettings(BaseModel):
    """Where trytond answers JSON-RPC, which database, who logs in, how pages are cut."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    url: str  # http://host:8000 (the server root; calls go to <url>/<database>/rpc/)
    database: str = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr
    page_size: int = Field(default=100, ge=1, le=10_000)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=60.0, gt=0)
    verify_tls: bool = True
    retry: RetryPolicy = RetryPolicy()
    company: int | None = None  # the company to work in; default: the user's current one

    @field_validator("url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> TrytonSettings:
        """Settings from an Airflow-style connection; ``overrides`` win over its extras."""
        values: dict[str, Any] = {
            k: v for k, v in conn.extra.items() if k in cls.model_fields and k != "password"
        }
        if conn.host:
            values["url"] = Connection(
                conn.conn_id, host=conn.host, port=conn.port, extra=conn.extra
            ).base_url(default_scheme="http")
        if conn.schema:
            values["database"] = conn.schema.strip("/")
        if conn.login:
            values["username"] = conn.login
        if conn.password is not None:
            values["password"] = conn.password
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise settings_error(f"Tryton connection {conn.conn_id!r}", exc) from None
