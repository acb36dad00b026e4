"""The 3PL (third-party logistics) connector: X12 940/945/846/997 or XML over SFTP.

See docs/connectors/logistics.md.
"""

from connectors.logistics.connector import LogisticsConnector
from connectors.logistics.settings import LogisticsSettings

__all__ = ["LogisticsConnector", "LogisticsSettings"]
