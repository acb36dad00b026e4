"""The connections every Tandem connector reads, for the peers of a running sandbox landscape.

Tandem's runtime finds a system's connection by id (``AIRFLOW_CONN_<ID>``, the system's own name
by default: ``webshop``, ``crm``, ``erp_soap``, ``erp_tryton``, ``logistics``, ``pdm``), the
distributors through ``TANDEM_DRP_DISTRIBUTORS`` (one SFTP connection each) and the web order
slice's ERP through ``TANDEM_ERP_SOAP_URL``. ``flow_connections`` writes all of them in
Airflow's JSON form, so the same variables serve the CLI and Airflow's workers alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# the sandbox distributors (sandbox/drp/distributors.py): folder key -> their X12 ISA id
DISTRIBUTORS = {
    "kaffeehandel-nord": "KHNORD",
    "alpenkaffee": "ALPENKAFFEE",
    "pacific-brew": "PACBREW",
}
THREEPL_ID = "NORTHWAY3PL"  # the sandbox 3PL's ISA id (sandbox/threepl/engine.py)


@dataclass(frozen=True)
class SftpPeer:
    """The landscape's sshd and the partners' area (the SFTP root of every file partner)."""

    host: str
    port: int
    user: str
    key_file: Path
    known_hosts: Path
    area: Path


def distributor_conn_id(key: str) -> str:
    return "drp_" + key.replace("-", "_")


def _json(conn_type: str, **fields: Any) -> str:
    return json.dumps({"conn_type": conn_type, **{k: v for k, v in fields.items() if v}})


def _http(url: str, login: str | None = None, password: str | None = None, **extra: Any) -> str:
    parts = urlsplit(url)
    return _json(
        "http",
        host=parts.hostname,
        port=parts.port,
        schema=parts.path.lstrip("/"),
        login=login,
        password=password,
        extra={"scheme": parts.scheme, **extra},
    )


def _sftp(sftp: SftpPeer, **extra: Any) -> str:
    keys = {"key_file": str(sftp.key_file), "known_hosts": str(sftp.known_hosts)}
    return _json(
        "sftp",
        host=sftp.host,
        port=sftp.port,
        login=sftp.user,
        schema=str(sftp.area),
        extra={**keys, "settle_seconds": 0, **extra},
    )


def flow_connections(
    directory: Path,
    *,
    erp_url: str,
    shop_url: str,
    shop_key: str,
    shop_secret: str,
    crm_url: str,
    crm_client: str,
    crm_secret: str,
    sftp: SftpPeer,
    tryton: tuple[str, str, str] | None = None,
) -> dict[str, str]:
    """Every connection the connectors and the runtime read, as environment variables.
    ``tryton``: (URL with the database as its path, login, password) when Tryton runs."""
    crm = urlsplit(crm_url)
    env = {
        "TANDEM_ERP_SOAP_URL": erp_url,
        "AIRFLOW_CONN_ERP_SOAP": _http(erp_url),
        "AIRFLOW_CONN_WEBSHOP": _http(shop_url, shop_key, shop_secret),
        "AIRFLOW_CONN_CRM": _json(
            "http",
            host=crm.hostname,
            port=crm.port,
            login=crm_client,
            password=crm_secret,
            extra={"api_path": crm.path.strip("/")},
        ),
        "AIRFLOW_CONN_LOGISTICS": _sftp(
            sftp,
            their_id=THREEPL_ID,
            control_db_url=f"sqlite:///{directory / 'x12-logistics.sqlite'}",
        ),
        "AIRFLOW_CONN_PDM": _sftp(sftp, directory="pdm/outbound", workers=0),
    }
    for key, their_id in DISTRIBUTORS.items():
        env[f"AIRFLOW_CONN_{distributor_conn_id(key).upper()}"] = _sftp(
            sftp, distributor=key, base_dir=f"drp/{key}", their_id=their_id
        )
    env["TANDEM_DRP_DISTRIBUTORS"] = json.dumps([distributor_conn_id(k) for k in DISTRIBUTORS])
    if tryton is not None:
        url, login, password = tryton
        env["AIRFLOW_CONN_ERP_TRYTON"] = _http(url, login, password)
    return env


def from_landscape(directory: Path, env: dict[str, str]) -> dict[str, str]:
    """``flow_connections`` from the ``TANDEM_*`` values the landscape wrote for its peers."""
    tryton = None
    if "TANDEM_TRYTON_URL" in env:
        password = Path(env["TANDEM_TRYTON_PASSWORD_FILE"]).read_text().strip()
        database = env["TANDEM_TRYTON_DATABASE"]
        tryton = (f"{env['TANDEM_TRYTON_URL']}/{database}", "admin", password)
    return flow_connections(
        directory,
        erp_url=env["TANDEM_ERP_SOAP_URL"],
        shop_url=env["TANDEM_WEBSHOP_URL"],
        shop_key=env["TANDEM_WEBSHOP_CONSUMER_KEY"],
        shop_secret=env["TANDEM_WEBSHOP_CONSUMER_SECRET"],
        crm_url=env["TANDEM_CRM_URL"],
        crm_client=env["TANDEM_CRM_CLIENT_ID"],
        crm_secret=env["TANDEM_CRM_CLIENT_SECRET"],
        sftp=SftpPeer(
            host=env["TANDEM_SFTP_HOST"],
            port=int(env["TANDEM_SFTP_PORT"]),
            user=env["TANDEM_SFTP_USER"],
            key_file=Path(env["TANDEM_SFTP_KEY_FILE"]),
            known_hosts=Path(env["TANDEM_SFTP_KNOWN_HOSTS"]),
            area=Path(env["TANDEM_SFTP_ROOT"]),
        ),
        tryton=tryton,
    )
