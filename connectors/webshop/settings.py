"""Settings of the web shop connector (WooCommerce REST API v3), from a connection id.

A connection (``AIRFLOW_CONN_WEBSHOP``) gives the shop's address and its REST API key pair::

    AIRFLOW_CONN_WEBSHOP='https://ck_1234:cs_5678@shop.example/wp-json/wc/v3?auth=basic'

- host, port, schema (the path, default ``wp-json/wc/v3``) and ``extra.scheme`` (default
  ``https``) make ``base_url``;
- login is the consumer key, password the consumer secret (both kept as ``SecretStr``);
- ``extra.auth``: ``basic`` (HTTP Basic over HTTPS, the default) or ``query`` (the key pair as
  ``consumer_key``/``consumer_secret`` query parameters, for hosts that strip the
  Authorization header);
- any other field of ``WebshopSettings`` may come as an extra (``per_page``, ``read_timeout``,
  ``customer_role``, ``tracking_carrier_key``...) or as a keyword override.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from connectors.connection import Connection, settings_error
from connectors.transports.http import HttpAuth, HttpSettings
from connectors.transports.retry import RetryPolicy

DEFAULT_API_PATH = "wp-json/wc/v3"


class WebshopSettings(BaseModel):
    """Where the shop's REST API is, its key pair, and how the connector pages and writes."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    base_url: str  # .../wp-json/wc/v3
    consumer_key: SecretStr
    consumer_secret: SecretStr
    auth: Literal["basic", "query"] = "basic"
    per_page: int = Field(default=100, ge=1, le=100)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    retry: RetryPolicy = RetryPolicy()
    customer_role: str = "all"  # WooCommerce lists role=customer only unless told
    tracking_carrier_key: str = "tracking_carrier"  # order meta keys written with a shipment
    tracking_number_key: str = "tracking_number"
    tracking_url_key: str = "tracking_url"

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> WebshopSettings:
        """Settings from an Airflow-style connection; ``overrides`` win over its extras."""
        values: dict[str, Any] = {
            k: v for k, v in conn.extra.items() if k in cls.model_fields and k != "base_url"
        }
        if conn.host:
            path = conn.schema or DEFAULT_API_PATH
            values["base_url"] = Connection(
                conn.conn_id, host=conn.host, port=conn.port, schema=path, extra=conn.extra
            ).base_url(default_scheme="https")
        if conn.login:
            values["consumer_key"] = SecretStr(conn.login)
        if conn.password is not None:
            values["consumer_secret"] = conn.password
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise settings_error(f"web shop connection {conn.conn_id!r}", exc) from None

    def http(self) -> HttpSettings:
        """The transport settings: base URL, timeouts, retries and the chosen authentication."""
        key = self.consumer_key.get_secret_value()
        if self.auth == "query":
            auth = HttpAuth.query(
                consumer_key=self.consumer_key, consumer_secret=self.consumer_secret
            )
        else:
            auth = HttpAuth.basic(key, self.consumer_secret)
        return HttpSettings(
            base_url=self.base_url,
            auth=auth,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            verify_tls=self.verify_tls,
            retry=self.retry,
            user_agent="tandem-webshop",
        )
