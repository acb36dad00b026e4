"""The PDM connector: BMEcat 2005 and 1.2 product catalogues (full and delta) from a folder or
an SFTP server, read as a stream in bounded memory. See docs/connectors/pdm.md.

The names below are imported on first use, so the parse worker processes (which import
``connectors.pdm.fragments`` only) stay small.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.pdm.bmecat import CatalogReader
    from connectors.pdm.connector import PdmConnector, ProductsStream
    from connectors.pdm.settings import PdmSettings

__all__ = ["CatalogReader", "PdmConnector", "PdmSettings", "ProductsStream"]

_WHERE = {
    "CatalogReader": "connectors.pdm.bmecat",
    "PdmConnector": "connectors.pdm.connector",
    "ProductsStream": "connectors.pdm.connector",
    "PdmSettings": "connectors.pdm.settings",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
