"""Settings from the environment (``TANDEM_*``) or a TOML file; secrets are SecretStr."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from monitoring.config import DEFAULT_MASK_FIELDS


class WebhookSourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    scheme: Literal["woocommerce", "shopify"]
    secret: SecretStr


class ReconcileScope(BaseModel):
    """One reconciliation: a connector stream's keys and versions against the hub's xrefs
    of ``entity`` (under ``hub_system`` when the hub names the system by its role)."""

    model_config = ConfigDict(extra="forbid")

    system: str
    stream: str
    entity: str
    hub_system: str | None = None


class TandemSettings(BaseSettings):
    """Every knob of a Tandem process. Env vars win over the file ``TANDEM_SETTINGS_FILE``
    (default ``tandem.toml`` in the working directory, if present)."""

    model_config = SettingsConfigDict(
        env_prefix="TANDEM_", extra="forbid", hide_input_in_errors=True
    )

    home: Path = Path("var")
    database_url: str | None = None
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8088
    webhook_max_body_bytes: int = 1_048_576
    webshop_webhook_scheme: str = "woocommerce"
    webshop_webhook_secret: SecretStr | None = None
    webhook_sources: dict[str, WebhookSourceSettings] = Field(default_factory=dict)
    """More senders besides the web shop: ``{name: {scheme, secret}}`` (TOML table
    ``[webhook_sources.<name>]`` or JSON in ``TANDEM_WEBHOOK_SOURCES``); each posts to
    ``/webhooks/<name>``."""

    erp_soap_url: str | None = None
    erp_soap_username: str | None = None
    erp_soap_password: SecretStr | None = None
    erp_connect_timeout: float = 5.0
    erp_operation_timeout: float = 30.0

    connections: dict[str, str] = Field(default_factory=dict)
    """Connection id per system (default: the system's name): ``{"webshop": "shop_prod"}``
    (TOML table ``[connections]`` or JSON in ``TANDEM_CONNECTIONS``)."""
    erp_system: Literal["erp_soap", "erp_tryton", "erp_sql"] = "erp_soap"
    """Which ERP plays the ``erp`` role in the flows."""
    drp_distributors: list[str] = Field(default_factory=list)
    """Connection ids of the distributors (one SFTP connection each)."""

    airflow_api_url: str | None = None
    """Airflow's API server: when set, each stored webhook triggers ``trigger_dag`` there."""
    airflow_username: str = "admin"
    airflow_password: SecretStr | None = None
    trigger_dag: str = "tandem_webshop_orders"

    retry_max_attempts: int = 6
    retry_base_delay: float = 5.0
    retry_max_delay: float = 900.0
    worker_interval: float = 2.0

    # --- monitoring (docs/monitoring.md) ---
    monitor_host: str = "127.0.0.1"
    monitor_port: int = 8089
    monitor_username: str = "admin"
    monitor_password: SecretStr | None = None
    """The standalone dashboard's password (hashed in memory); or give the hash instead."""
    monitor_password_hash: SecretStr | None = None
    """``pbkdf2_sha256$...`` from ``tandem monitor --hash-password``."""
    monitor_session_secret: SecretStr | None = None
    """Signs session cookies and form tokens; without it they last one process."""
    monitor_session_max_age: int = 8 * 3600
    monitor_mask_fields: list[str] = Field(default_factory=lambda: list(DEFAULT_MASK_FIELDS))
    monitor_freshness_sla: dict[str, float] = Field(default_factory=dict)
    """Seconds per flow (or system, or cursor name): ``{"inventory": 900}``."""
    monitor_metrics_token: SecretStr | None = None
    """When set, /metrics needs ``Authorization: Bearer <token>``."""
    monitor_page_size: int = 50
    monitor_health_systems: list[str] = Field(default_factory=list)
    """Systems ``tandem health`` probes (default: every flow's source and targets)."""
    monitor_reconcile: list[ReconcileScope] = Field(default_factory=list)

    alert_email_to: list[str] = Field(default_factory=list)
    alert_email_from: str = "tandem@localhost"
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 25
    alert_smtp_username: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_smtp_starttls: bool = False
    alert_webhook_url: str | None = None
    alert_webhook_token: SecretStr | None = None
    alert_repeat_after: float = 4 * 3600
    """Seconds before an unchanged alert is sent again."""
    alert_max_per_hour: int = 20
    alert_dead_letter_threshold: int = 1

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get("TANDEM_SETTINGS_FILE")
        if named and not Path(named).is_file():
            raise ValueError(f"TANDEM_SETTINGS_FILE names {named}, which is not a file")
        toml_file = Path(named or "tandem.toml")
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
            file_secret_settings,
        )

    @property
    def hub_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'tandem.sqlite').resolve()}"
