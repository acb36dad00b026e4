"""Connector for an ERP with Dynamics NAV / Business Central SOAP page web services."""

from connectors.erp_soap.client import NavPageClient, exact
from connectors.erp_soap.connector import Ack, ErpSoapConnector, Health
from connectors.erp_soap.settings import ErpSoapSettings

__all__ = ["Ack", "ErpSoapConnector", "ErpSoapSettings", "Health", "NavPageClient", "exact"]
