"""The distribution chain: distributors' DRP/SCM systems over their SFTP servers.

Streams:

- ``sell_through`` (read): X12 852 product activity and CSV stock/sell-through reports from
  each distributor's ``outbound/`` folder, one record per product/location/period row;
- ``purchase_orders`` (read): X12 850 purchase orders from the same folders;
- ``po_acks`` (write): X12 855 acknowledgements to the distributor's ``inbound/`` folder;
- ``invoices`` (write): X12 810 invoices, likewise.

One SFTP connection per distributor (``DistributorSettings.from_connection``); X12 control
numbers and the log of sent documents live in a SQL database (``control_db_url``) so every
worker draws from the same counter and a document is sent once.
"""

from __future__ import annotations

import logging
from functools import cached_property

from canonical.errors import PermanentError
from connectors.base import Connector, Health
from connectors.drp.files import Cursor, listing, move_aside
from connectors.drp.inbound import FileStream, PurchaseOrders, SellThrough
from connectors.drp.outbound import Invoices, PoAcks
from connectors.drp.settings import DistributorSettings, DrpSettings
from connectors.formats.x12 import ControlNumbers
from connectors.transports.sftp import SftpClient

log = logging.getLogger(__name__)


class Partner:
    """One distributor: its settings and its SFTP client (connected on first use)."""

    def __init__(self, settings: DistributorSettings) -> None:
        self.settings = settings
        self.key = settings.key
        self.client = SftpClient(settings.sftp)

    def close(self) -> None:
        self.client.close()


class DrpConnector(Connector):
    system = "drp"

    def __init__(self, settings: DrpSettings) -> None:
        self.settings = settings
        self.partners = [Partner(d) for d in settings.distributors]
        super().__init__(
            [
                SellThrough(self.partners, settings.page_rows),
                PurchaseOrders(self.partners, settings.page_rows),
                PoAcks(self),
                Invoices(self),
            ]
        )

    def partner(self, key: str) -> Partner | None:
        return next((p for p in self.partners if p.key == key), None)

    @cached_property
    def control(self) -> ControlNumbers:
        """The X12 control numbers and sent log (opened on the first write)."""
        return ControlNumbers(self.settings.control_db_url)

    def archive(self, stream: str, cursor: str | None) -> int:
        """Housekeeping after the flow stored ``cursor`` (the hub holds what it covers):
        moves every file of ``stream`` that the cursor says was read, unchanged since, to
        the distributor's ``processed_dir`` (distributors without one are left alone).
        Never overwrites: a name taken there gets a UTC timestamp suffix. Returns how many
        files moved."""
        reader = self.stream(stream)
        if not isinstance(reader, FileStream):
            raise PermanentError(f"drp stream {stream} reads no files")
        state = Cursor.decode(cursor)
        moved = 0
        for partner in self.partners:
            if not partner.settings.processed_dir or partner.key not in state.folders:
                continue
            seen = state.folders[partner.key].seen
            source = partner.settings.folder("outbound")
            target = partner.settings.folder("processed")
            for file in listing(partner.client, source).values():
                if reader.wants(partner, file.name) and seen.get(file.name) == (
                    f"{file.mtime}:{file.size}"
                ):
                    moved += move_aside(partner.client, file.name, source, target)
        return moved

    def health(self) -> Health:
        """Every distributor's SFTP server answers; the first that does not is reported."""
        results = [(p.key, p.client.ping()) for p in self.partners]
        failed = [(key, h) for key, h in results if not h.ok]
        seconds = sum(h.seconds for _, h in results)
        if failed:
            detail = "; ".join(f"{k}: {h.detail}" for k, h in failed)
            return Health(False, detail, seconds, transient=all(h.transient for _, h in failed))
        return Health(True, f"{len(results)} distributor(s) reachable", seconds)

    def close(self) -> None:
        for partner in self.partners:
            partner.close()
        if "control" in self.__dict__:
            self.control.close()
