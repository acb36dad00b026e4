"""The CRM connector: SuiteCRM 8's V8 JSON:API with OAuth2 client credentials."""

from connectors.crm.connector import CrmConnector
from connectors.crm.settings import CrmSettings

__all__ = ["CrmConnector", "CrmSettings"]
