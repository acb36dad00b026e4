"""Settings of the PDM connector: where the BMEcat catalogues are and how to read them.

A connection names the source (``from_connection``):

- a folder: ``conn_type`` ``fs`` (Airflow's File connection) with ``extra.path`` (or the
  schema) = the folder, e.g. ``AIRFLOW_CONN_PDM='fs://?path=/data/pdm/outbound'``;
- an SFTP server: ``conn_type`` ``sftp`` with the usual SFTP fields and extras (host key
  checks are mandatory, see ``connectors.transports.sftp_settings``), ``extra.directory`` =
  the folder below the login root, e.g.
  ``sftp://pdm:PW@pdm.example:22/home/pdm?known_hosts=/etc/tandem/known_hosts&directory=outbound``;
- or ``extra.sftp_conn_id`` naming another (SFTP) connection, so one SFTP connection can
  serve several connectors.

Our extras: ``directory``, ``pattern`` (``*.xml``), ``settle_seconds`` (2), ``page_size``
(1000 products per page), ``keep_raw`` (false; true: each record also keeps its product's
XML bytes; a quarantined product always does), ``workers`` (processes parsing a large file:
``min(2, cpu count)``; 1 parses in the reader's process with the fast parser, 0 with the
sequential one only).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from canonical.errors import PermanentError
from connectors.connection import Connection, get_connection, settings_error
from connectors.transports.sftp import SftpSettings

OWN_EXTRAS = ("directory", "pattern", "settle_seconds", "page_size", "keep_raw", "workers")
FOLDER_TYPES = {"fs", "file", "folder", "local"}
SFTP_TYPES = {"sftp", "ssh"}


def default_workers() -> int:
    """Parse processes per file: two where the machine has two cores or more, else one."""
    return min(2, os.cpu_count() or 1)


class PdmSettings(BaseModel):
    """Exactly one of ``folder`` and ``sftp``; ``directory`` is the folder on the SFTP server."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    folder: Path | None = None
    sftp: SftpSettings | None = None
    directory: str = ""
    pattern: str = "*.xml"
    settle_seconds: float = Field(default=2.0, ge=0)
    page_size: int = Field(default=1000, ge=1)
    keep_raw: bool = False
    workers: int = Field(default_factory=default_workers, ge=0, le=64)

    @model_validator(mode="after")
    def _one_source(self) -> PdmSettings:
        if (self.folder is None) == (self.sftp is None):
            raise ValueError("give exactly one source: folder or sftp")
        return self

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> PdmSettings:
        """Settings from a connection (see the module doc); ``overrides`` win."""
        extra = dict(conn.extra)
        values: dict[str, Any] = {k: extra.pop(k) for k in OWN_EXTRAS if k in extra}
        kind = conn.conn_type.lower()
        if "sftp_conn_id" in extra:
            values["sftp"] = sftp_settings(get_connection(str(extra.pop("sftp_conn_id"))))
        elif kind in FOLDER_TYPES:
            folder = extra.get("path") or conn.schema or conn.host
            if not folder:
                raise PermanentError(f"connection {conn.conn_id}: a folder source needs extra.path")
            values["folder"] = Path(str(folder))
        elif kind in SFTP_TYPES:
            values["sftp"] = sftp_settings(conn, extra)
        else:
            raise PermanentError(
                f"connection {conn.conn_id}: conn_type {conn.conn_type!r} is not a PDM source "
                "(use fs with extra.path, sftp, or extra.sftp_conn_id)"
            )
        try:
            return cls(**{**values, **overrides})
        except ValidationError as exc:
            raise settings_error("pdm", exc) from None


def sftp_settings(conn: Connection, extra: dict[str, Any] | None = None) -> SftpSettings:
    """SFTP settings from a connection's fields and (SFTP) extras."""
    if conn.conn_type.lower() not in SFTP_TYPES:
        raise PermanentError(f"connection {conn.conn_id}: expected an sftp connection")
    rest = {
        k: v for k, v in (conn.extra if extra is None else extra).items() if k not in OWN_EXTRAS
    }
    form = {
        "conn_type": "sftp",
        "host": conn.host,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password.get_secret_value() if conn.password else None,
        "schema": conn.schema,
        "extra": rest,
    }
    try:
        return SftpSettings.from_airflow_json(json.dumps(form))
    except PermanentError as exc:
        raise PermanentError(f"connection {conn.conn_id}: {exc}") from None
