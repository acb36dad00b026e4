"""Distributors' DRP/SCM systems: 852 and CSV sell-through and 850 in, 855 and 810 out."""

from connectors.drp.connector import DrpConnector
from connectors.drp.settings import DistributorSettings, DrpSettings

__all__ = ["DistributorSettings", "DrpConnector", "DrpSettings"]
