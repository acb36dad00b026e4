"""Connectors by system name, built from connection ids (Airflow Connections or env).

Which connection each system uses is a setting (``TANDEM_CONNECTIONS`` as JSON, or the
``[connections]`` table of ``tandem.toml``); by default a system's connection id is its own
name (``AIRFLOW_CONN_WEBSHOP`` for ``webshop``). The distribution channel has one connection per
distributor (``drp_distributors``).

Roles name what a flow needs, not a product: the ``erp`` role is played by ``erp_soap``,
``erp_tryton`` or ``erp_sql`` (setting ``erp_system``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.base import Connector
from connectors.connection import get_connection

Factory = Callable[[str], Connector]


def _erp_soap(conn_id: str) -> Connector:
    from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings

    return ErpSoapConnector(ErpSoapSettings.from_connection(get_connection(conn_id)))


def _erp_tryton(conn_id: str) -> Connector:
    from connectors.erp_tryton.connector import TrytonConnector

    return TrytonConnector.from_connection_id(conn_id)


def _erp_sql(conn_id: str) -> Connector:
    from connectors.erp_sql import ErpSqlConnector

    return ErpSqlConnector.from_connection_id(conn_id)


def _webshop(conn_id: str) -> Connector:
    from connectors.webshop.connector import WebshopConnector

    return WebshopConnector.from_connection_id(conn_id)


def _crm(conn_id: str) -> Connector:
    from connectors.crm.connector import CrmConnector
    from connectors.crm.settings import CrmSettings

    return CrmConnector(CrmSettings.from_connection(get_connection(conn_id)))


def _logistics(conn_id: str) -> Connector:
    from connectors.logistics.connector import LogisticsConnector

    return LogisticsConnector.from_connection_id(conn_id)


def _pdm(conn_id: str) -> Connector:
    from connectors.pdm.connector import PdmConnector
    from connectors.pdm.settings import PdmSettings

    return PdmConnector(PdmSettings.from_connection(get_connection(conn_id)))


FACTORIES: dict[str, Factory] = {
    "erp_soap": _erp_soap,
    "erp_tryton": _erp_tryton,
    "erp_sql": _erp_sql,
    "webshop": _webshop,
    "crm": _crm,
    "logistics": _logistics,
    "pdm": _pdm,
}


def build_drp(conn_ids: Sequence[str], **overrides: Any) -> Connector:
    from connectors.drp.connector import DrpConnector
    from connectors.drp.settings import DrpSettings

    return DrpConnector(DrpSettings.from_connections(conn_ids, **overrides))


def build(system: str, conn_id: str) -> Connector:
    try:
        factory = FACTORIES[system]
    except KeyError:
        known = ", ".join(sorted([*FACTORIES, "drp"]))
        raise ValueError(f"no connector for system {system!r} (known: {known})") from None
    return factory(conn_id)
