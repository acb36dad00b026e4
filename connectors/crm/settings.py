"""Settings of the CRM connector (SuiteCRM 8, API V8, OAuth2 client credentials)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.connection import Connection, settings_error
from connectors.transports.retry import RetryPolicy

DEFAULT_API_PATH = "/legacy/Api"  # SuiteCRM 8; SuiteCRM 7 serves the same API under /Api
DEFAULT_KEY_FIELD = "tandem_key_c"


class CrmSettings(BaseModel):
    """``base_url`` is the API root that holds ``access_token`` and ``V8/``, e.g.
    ``https://crm.example.com/legacy/Api``.

    ``key_field`` is the custom text field (created in SuiteCRM's Studio, which appends ``_c``)
    that holds Tandem's key of each record it writes; writes find records by it, so a record
    written twice stays one record. ``page_size`` is the number of records per list request.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    base_url: str
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    key_field: str = Field(default=DEFAULT_KEY_FIELD, pattern=r"^\w+$")
    page_size: int = Field(default=100, ge=1, le=1000)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    token_margin: float = Field(default=30.0, ge=0)  # renew this long before a token expires
    # a second this far behind the CRM's clock gets no more records (see cursor.py)
    clock_margin: float = Field(default=10.0, ge=0)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> CrmSettings:
        """From an Airflow-style connection: host/port (+ schema as the API path, default
        ``legacy/Api``), login = client id, password = client secret; extras ``api_path``,
        ``key_field``, ``page_size``, ``connect_timeout``, ``read_timeout``."""
        extra = conn.extra
        values: dict[str, Any] = {}
        try:
            scheme = conn.conn_type if conn.conn_type in ("http", "https") else "http"
            server = Connection(conn.conn_id, conn.conn_type, conn.host, conn.port, extra=extra)
            root = server.base_url(default_scheme=scheme)
            path = str(extra.get("api_path") or conn.schema or DEFAULT_API_PATH)
            values["base_url"] = root + "/" + path.strip("/")
            values["client_id"] = conn.login or ""
            if conn.password is not None:
                values["client_secret"] = conn.password
            for name in ("key_field", "page_size", "connect_timeout", "read_timeout"):
                if extra.get(name) not in (None, ""):
                    values[name] = extra[name]
            values.update(overrides)
            return cls(**values)
        except ValidationError as exc:
            raise settings_error(f"connection {conn.conn_id} (crm)", exc) from None
