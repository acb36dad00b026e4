"""Connector for an ERP with Dynamics NAV / Business Central SOAP page web services."""

from connectors.erp_soap.client import NavPageClient, exact
from connectors.erp_soap.connector import ErpSoapConnector
from connectors.erp_soap.settings import ErpSoapSettings, StreamSettings

__all__ = ["ErpSoapConnector", "ErpSoapSettings", "NavPageClient", "StreamSettings", "exact"]
