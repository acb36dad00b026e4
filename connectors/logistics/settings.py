"""Settings of the 3PL connector: one SFTP connection, the X12 identities, the format.

From an Airflow-style connection (``from_connection``): host, port, login, password and
schema (the remote root) make the SFTP endpoint; extras named in ``OWN_EXTRAS`` are ours,
every other extra goes to ``SftpSettings`` (``known_hosts``, ``key_file``...).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from canonical.errors import PermanentError
from connectors.connection import Connection, settings_error
from connectors.formats.x12 import Delimiters, Party, default_url
from connectors.transports.sftp import SftpSettings

OWN_EXTRAS = {
    "format",
    "our_qualifier",
    "our_id",
    "our_gs_id",
    "their_qualifier",
    "their_id",
    "their_gs_id",
    "usage",
    "inbound_dir",
    "outbound_dir",
    "control_db_url",
    "location",
    "advice_patterns",
    "inventory_patterns",
    "ack_patterns",
    "page_size",
    "lag_seconds",
    "encoding",
}


class LogisticsSettings(BaseModel):
    """A 3PL reached over SFTP, speaking X12 004010 (940/945/846/997) or the XML profile."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    sftp: SftpSettings
    format: Literal["x12", "xml"] = "x12"
    our_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    our_id: str = Field(default="TANDEM", min_length=1, max_length=15)
    our_gs_id: str = ""
    their_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    their_id: str = Field(default="NORTHWAY3PL", min_length=1, max_length=15)
    their_gs_id: str = ""
    usage: Literal["T", "P"] = "T"  # ISA15: test or production
    inbound_dir: str = "3pl/inbound"  # where we upload 940s (the 3PL's inbound)
    outbound_dir: str = "3pl/outbound"  # where the 3PL leaves 945/846/997
    control_db_url: str = Field(default_factory=default_url)
    location: str = ""  # the warehouse's location code for inventory; default their_id
    advice_patterns: tuple[str, ...] = ("945*",)
    inventory_patterns: tuple[str, ...] = ("846*",)
    ack_patterns: tuple[str, ...] = ("997*",)
    page_size: int = Field(default=500, ge=1)
    lag_seconds: int = Field(default=3600, ge=0)  # files older than the newest minus this are done
    encoding: str = "utf-8"
    element_separator: str = "*"
    component_separator: str = ">"
    segment_terminator: str = "~"

    @field_validator("advice_patterns", "inventory_patterns", "ack_patterns", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @property
    def us(self) -> Party:
        return Party(self.our_qualifier, self.our_id, self.our_gs_id)

    @property
    def them(self) -> Party:
        return Party(self.their_qualifier, self.their_id, self.their_gs_id)

    @property
    def partner_key(self) -> str:
        """Control numbers and sent documents are kept per this key."""
        return f"{self.their_qualifier}:{self.their_id}"

    @property
    def delimiters(self) -> Delimiters:
        return Delimiters(
            self.element_separator, self.component_separator, None, self.segment_terminator
        )

    @property
    def warehouse(self) -> str:
        return self.location or self.their_id

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> LogisticsSettings:
        """Settings from one SFTP connection; ``overrides`` win over its extras
        (``sftp={...}`` overrides SFTP fields)."""
        extra = dict(conn.extra)
        own = {k: v for k, v in extra.items() if k in OWN_EXTRAS}
        sftp_extra = {k: v for k, v in extra.items() if k not in OWN_EXTRAS}
        airflow = {
            "conn_type": "sftp",
            "host": conn.host,
            "port": conn.port,
            "login": conn.login,
            "password": conn.password.get_secret_value() if conn.password else None,
            "schema": conn.schema,
            "extra": sftp_extra,
        }
        sftp_overrides = overrides.pop("sftp", {})
        try:
            sftp = SftpSettings.from_airflow_json(json.dumps(airflow), **sftp_overrides)
        except PermanentError as exc:
            raise PermanentError(f"connection {conn.conn_id}: {exc}") from None
        try:
            return cls(sftp=sftp, **{**own, **overrides})
        except ValidationError as exc:
            raise settings_error(f"logistics connection {conn.conn_id}", exc) from None
