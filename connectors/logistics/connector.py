"""The 3PL connector: shipping orders out, shipping advices, inventory and acks in."""

from __future__ import annotations

from typing import Any

from connectors.base import Connector, Health
from connectors.connection import get_connection
from connectors.formats.x12 import ControlNumbers
from connectors.logistics.settings import LogisticsSettings
from connectors.logistics.streams import Acks, Inventory, ShippingAdvices, ShippingOrders
from connectors.transports.sftp import SftpClient


class LogisticsConnector(Connector):
    """A 3PL over SFTP (X12 940/945/846/997 or the XML profile)."""

    system = "logistics"

    def __init__(self, settings: LogisticsSettings, *, store: ControlNumbers | None = None) -> None:
        self.settings = settings
        self.client = SftpClient(settings.sftp)
        self.store = store or ControlNumbers(settings.control_db_url)
        super().__init__(
            [
                ShippingAdvices(self.client, settings),
                Inventory(self.client, settings),
                Acks(self.client, settings, self.store),
                ShippingOrders(self.client, settings, self.store),
            ]
        )

    @classmethod
    def from_connection_id(
        cls, conn_id: str = "threepl_sftp", **overrides: Any
    ) -> LogisticsConnector:
        return cls(LogisticsSettings.from_connection(get_connection(conn_id), **overrides))

    def __enter__(self) -> LogisticsConnector:
        return self

    def health(self) -> Health:
        return self.client.ping()

    def close(self) -> None:
        self.client.close()
        self.store.close()
