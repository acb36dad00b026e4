"""``CrmConnector``: accounts, contacts, cases, notes and opportunities of a SuiteCRM 8.

Reads are incremental by ``date_modified`` (see ``cursor.py``); writes are idempotent by a
key field (see ``writes.py``); the OAuth2 token is renewed before it expires and after a 401
(see ``auth.py``). docs/connectors/crm.md describes settings and limits.
"""

from __future__ import annotations

import httpx

from connectors.base import Connector, Health
from connectors.crm.client import CrmClient
from connectors.crm.settings import CrmSettings
from connectors.crm.streams import STREAMS, ModuleStream


class CrmConnector(Connector):
    system = "crm"

    def __init__(
        self, settings: CrmSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.client = CrmClient(settings, transport=transport)
        super().__init__(
            [ModuleStream(name, module, self.client) for name, module in STREAMS.items()]
        )

    def health(self) -> Health:
        return self.client.health()

    def close(self) -> None:
        self.client.close()
