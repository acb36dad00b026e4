"""Settings of the DRP connector: one entry per distributor, each from its own connection.

A distributor is an SFTP connection (Airflow style) whose extras also say who the
distributor is in X12 and how its CSV reports are written::

    AIRFLOW_CONN_DRP_KAFFEEHANDEL_NORD='{"conn_type": "sftp", "host": "sftp.khn.example",
        "login": "tandem", "password": "...", "extra": {
            "known_hosts": "/etc/tandem/known_hosts",
            "distributor": "kaffeehandel-nord", "base_dir": "drp/kaffeehandel-nord",
            "their_id": "KHNORD", "their_qualifier": "ZZ", "our_id": "TANDEM",
            "csv_encoding": "cp1252", "csv_delimiter": ";", "csv_decimal_sep": ",",
            "csv_columns": {"Lagerort": "location", "Abverkauf Stk": "QS"}}}'

    settings = DrpSettings.from_connections(["drp_kaffeehandel_nord", "drp_pacific_brew"],
                                            control_db_url="postgresql+psycopg://...")

Extras not named here are the SFTP transport's (``known_hosts``, ``key_file``,
``host_key_fingerprint``, ``settle_seconds``, ``retry_attempts``...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from canonical.errors import PermanentError
from connectors.connection import Connection, get_connection, settings_error
from connectors.drp.csv_dialect import DELIMITERS, CsvOptions
from connectors.formats.x12 import Party, default_url
from connectors.transports.sftp import SftpSettings


class DistributorSettings(BaseModel):
    """One distributor: where its files are, who it is in X12, how its CSV is written."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    key: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # names the source everywhere
    sftp: SftpSettings
    base_dir: str = ""  # this distributor's folder, relative to the SFTP root
    outbound_dir: str = "outbound"  # the distributor writes here, we read
    inbound_dir: str = "inbound"  # we upload here
    processed_dir: str | None = None  # where archive() moves files read (None: left alone)
    activity_x12_patterns: tuple[str, ...] = ("852*", "*.852")
    activity_csv_patterns: tuple[str, ...] = ("*.csv", "*.txt", "*.tsv")
    order_patterns: tuple[str, ...] = ("850*", "*.850")
    # X12 partners: the distributor (ISA06/GS02 of its files) and us
    their_id: str = ""
    their_qualifier: str = "ZZ"
    their_gs_id: str = ""
    our_id: str = "TANDEM"
    our_qualifier: str = "ZZ"
    our_gs_id: str = ""
    usage: Literal["P", "T"] = "P"
    x12_version: str = "00401"
    x12_encoding: str = "utf-8"
    check_sender: bool = True  # refuse interchanges whose ISA06 is not their_id (when set)
    # CSV: None = detect
    csv_encoding: str | None = None
    csv_delimiter: str | None = None
    csv_decimal_sep: Literal[",", "."] | None = None
    csv_day_first: bool | None = None
    csv_columns: dict[str, str] = Field(default_factory=dict)  # header -> field or code
    location: str = ""  # the location of reports that name none
    uom: str = "EA"
    # a file whose mtime is this much older than the newest one read counts as read
    cursor_window_seconds: float = Field(default=7 * 86400.0, gt=0)

    @field_validator("csv_delimiter")
    @classmethod
    def _delimiter(cls, value: str | None) -> str | None:
        if value in ("tab", "\\t"):
            return "\t"
        if value is not None and value not in DELIMITERS:
            raise ValueError(f"must be one of ; , tab |, not {value!r}")
        return value

    @property
    def csv_options(self) -> CsvOptions:
        return CsvOptions(
            self.csv_encoding, self.csv_delimiter, self.csv_decimal_sep, self.csv_day_first
        )

    @property
    def them(self) -> Party:
        if not self.their_id:
            raise PermanentError(
                f"drp distributor {self.key}: their_id (the distributor's X12 ISA id) is not "
                "set, so nothing can be sent to it"
            )
        return Party(self.their_qualifier, self.their_id, self.their_gs_id)

    @property
    def us(self) -> Party:
        return Party(self.our_qualifier, self.our_id, self.our_gs_id)

    def folder(self, which: str) -> str:
        names = {"outbound": self.outbound_dir, "inbound": self.inbound_dir,
                 "processed": self.processed_dir or ""}  # fmt: skip
        name = names[which]
        return f"{self.base_dir.rstrip('/')}/{name}" if self.base_dir else name

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> DistributorSettings:
        """A distributor from one SFTP connection; ``overrides`` win over its extras."""
        extra = dict(conn.extra)
        own = {k: v for k, v in extra.items() if k in _OWN_EXTRAS}
        sftp_extra = {k: v for k, v in extra.items() if k not in _OWN_EXTRAS}
        if isinstance(own.get("csv_columns"), str):
            own["csv_columns"] = _json(own["csv_columns"], "csv_columns")
        for name in ("activity_x12_patterns", "activity_csv_patterns", "order_patterns"):
            if isinstance(own.get(name), str):
                own[name] = tuple(p.strip() for p in own[name].split(",") if p.strip())
        sftp_overrides = overrides.pop("sftp", {})
        airflow = {
            "conn_type": "sftp",
            "host": conn.host,
            "port": conn.port,
            "login": conn.login,
            "password": conn.password.get_secret_value() if conn.password else None,
            "schema": conn.schema,
            "extra": sftp_extra,
        }
        try:
            sftp = SftpSettings.from_airflow_json(json.dumps(airflow), **sftp_overrides)
        except PermanentError as exc:
            raise PermanentError(f"connection {conn.conn_id}: {exc}") from None
        values = {"key": own.pop("distributor", conn.conn_id), **own, **overrides}
        try:
            return cls(sftp=sftp, **values)
        except ValidationError as exc:
            raise settings_error(f"drp connection {conn.conn_id}", exc) from None


class DrpSettings(BaseModel):
    """Every distributor, and where the X12 control numbers are kept (a SQL database shared
    by every worker; SQLite for one machine)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    distributors: tuple[DistributorSettings, ...] = Field(min_length=1)
    control_db_url: str = Field(default_factory=default_url)
    page_rows: int = Field(default=2000, ge=1)  # a large file is read in pages of this many

    @field_validator("distributors")
    @classmethod
    def _unique(cls, value: tuple[DistributorSettings, ...]) -> tuple[DistributorSettings, ...]:
        keys = [d.key for d in value]
        if len(set(keys)) != len(keys):
            raise ValueError(f"distributor keys must be unique: {keys}")
        return value

    @classmethod
    def from_connections(cls, conn_ids: Sequence[str], **overrides: Any) -> DrpSettings:
        """One distributor per connection id (resolved through ``get_connection``)."""
        distributors = tuple(
            DistributorSettings.from_connection(get_connection(conn_id)) for conn_id in conn_ids
        )
        try:
            return cls(distributors=distributors, **overrides)
        except ValidationError as exc:
            raise settings_error("drp", exc) from None


# connection extras that are this connector's settings; every other extra is the SFTP one's
_OWN_EXTRAS = (frozenset(DistributorSettings.model_fields) - {"key", "sftp"}) | {"distributor"}


def _json(text: str, what: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        raise PermanentError(f"drp connection extra {what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise PermanentError(f"drp connection extra {what} must be a JSON object")
    return {str(k): str(v) for k, v in value.items()}
