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


class WebhookSourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    scheme: Literal["woocommerce", "shopify"]
    secret: SecretStr


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

    retry_max_attempts: int = 6
    retry_base_delay: float = 5.0
    retry_max_delay: float = 900.0
    worker_interval: float = 2.0

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
