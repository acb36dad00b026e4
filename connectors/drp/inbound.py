"""The read streams: files the distributors drop, turned into records with a file cursor.

``sell_through``: X12 852 product activity and CSV stock/sell-through reports, one record
per product/location/period row (``records.ActivityRow``); ``purchase_orders``: X12 850, one
record per purchase order. A file is read whole (X12 interchanges are checked to their IEA
before any set counts); its records come in pages of ``page_rows``; the cursor moves after
the file's last page, so a crash re-reads at most that file (its keys are deterministic:
the hub absorbs the overlap). Within one read a record whose key and version were already
returned (the CSV twin of an 852, a resent file) is not returned again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from canonical.errors import TransientError
from connectors.base import Page, Quarantined, RawRecord, Stream
from connectors.drp.csv_dialect import CsvFormatError
from connectors.drp.csv_report import ReportContext, RowProblem, read_report
from connectors.drp.files import Cursor, matches, settled_listings
from connectors.drp.x12_850 import order_version, read_850
from connectors.drp.x12_852 import RowError, SetError, read_852
from connectors.drp.x12_in import SetProblem, envelope_checked
from connectors.transports.sftp import RemoteFile, join

if TYPE_CHECKING:
    from connectors.drp.connector import Partner

log = logging.getLogger(__name__)
Item = RawRecord | Quarantined


def x12_encoding(data: bytes, configured: str) -> str:
    """The configured encoding; for the default UTF-8, Windows-1252 (or Latin-1) when the
    file is not UTF-8 (a distributor's umlauts in N1/PID), rather than refusing the file."""
    if configured.replace("-", "").lower() != "utf8":
        return configured
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def looks_like_x12(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n\x00")[:3] == b"ISA"


class FileStream(Stream):
    """Reads new stable files of every distributor's outbound folder, in mtime order."""

    def __init__(self, partners: list[Partner], page_rows: int) -> None:
        self.partners = partners
        self.page_rows = page_rows

    def wants(self, partner: Partner, name: str) -> bool:
        raise NotImplementedError

    def parse(self, partner: Partner, file: str, data: bytes) -> Iterator[Item]:
        raise NotImplementedError

    def read(self, cursor: str | None) -> Iterator[Page]:
        state = Cursor.decode(cursor)
        folders = [(p.client, p.settings.folder("outbound")) for p in self.partners]
        settle = max(p.settings.sftp.settle_seconds for p in self.partners)
        listings = settled_listings(folders, settle)
        returned: dict[str, str | None] = {}
        failed = [r for r in listings if isinstance(r, TransientError)]
        if failed and len(failed) == len(listings):
            raise failed[0]  # no distributor reachable: the read as a whole failed
        for partner, files in zip(self.partners, listings, strict=True):
            if isinstance(files, TransientError):
                log.warning("drp %s: skipped in this read: %s", partner.key, files)
                continue  # the others go on; this one's cursor stays where it was
            folder = state.folder(partner.key)
            window = partner.settings.cursor_window_seconds
            for file in files:
                if not self.wants(partner, file.name) or not folder.is_new(file, window):
                    continue
                last = Page()
                for page in self._file(partner, file, returned):
                    if last.records or last.quarantined:
                        yield last
                    last = page
                folder.mark(file, window)  # the file's last page carries the cursor after it
                yield Page(last.records, state.encode(), last.quarantined)

    def _file(
        self,
        partner: Partner,
        file: RemoteFile,
        returned: dict[str, str | None],
    ) -> Iterator[Page]:
        """The file's pages without cursors; the caller puts the cursor on the last one."""
        remote = join(partner.settings.folder("outbound"), file.name)
        data = partner.client.read_bytes(remote)
        records: list[RawRecord] = []
        quarantined: list[Quarantined] = []
        for item in self.parse(partner, file.name, data):
            if isinstance(item, Quarantined):
                quarantined.append(item)
                continue
            if item.key in returned and returned[item.key] == item.version:
                continue  # the same figures again in this read (CSV twin, resent file)
            returned[item.key] = item.version
            records.append(item)
            if len(records) >= self.page_rows:
                yield Page(records=records, quarantined=quarantined)
                records, quarantined = [], []
        if quarantined:
            log.warning(
                "drp %s/%s: %d item(s) quarantined", partner.key, file.name, len(quarantined)
            )
        if records or quarantined:
            yield Page(records=records, quarantined=quarantined)


class SellThrough(FileStream):
    name = "sell_through"

    def wants(self, partner: Partner, name: str) -> bool:
        s = partner.settings
        return matches(name, s.activity_x12_patterns) or matches(name, s.activity_csv_patterns)

    def parse(self, partner: Partner, file: str, data: bytes) -> Iterator[Item]:
        if looks_like_x12(data):
            yield from self._x12(partner, file, data)
        else:
            yield from self._csv(partner, file, data)

    def _x12(self, partner: Partner, file: str, data: bytes) -> Iterator[Item]:
        s = partner.settings
        sender = s.their_id if s.check_sender else None
        for item in envelope_checked(
            data,
            file,
            codes=("852",),
            sender_id=sender,
            encoding=x12_encoding(data, s.x12_encoding),
        ):
            if isinstance(item, SetProblem):
                yield Quarantined(self.name, f"{partner.key}/{item.where}", item.reason, item.raw)
                continue
            try:
                for row in read_852(item, partner.key, file, s.location):
                    if isinstance(row, RowError):
                        yield Quarantined(
                            self.name, f"{partner.key}/{row.where}", row.reason, row.raw
                        )
                    else:
                        yield RawRecord(
                            self.name, row.key, row.data(), row.version, row.source, None
                        )
            except SetError as exc:
                where = f"{partner.key}/{item.where}"
                yield Quarantined(self.name, where, str(exc), item.raw)

    def _csv(self, partner: Partner, file: str, data: bytes) -> Iterator[Item]:
        s = partner.settings
        source = f"{partner.key}/{file}"
        context = ReportContext(partner.key, file, s.location, s.uom)
        try:
            dialect, rows = read_report(data, context, s.csv_options, s.csv_columns)
        except CsvFormatError as exc:
            yield Quarantined(self.name, source, f"{file}: {exc}", data)
            return
        log.debug("drp %s: %s", source, dialect)
        for row in rows:
            if isinstance(row, RowProblem):
                yield Quarantined(
                    self.name, f"{source} {row.position}", f"{file} {row.reason}", row.raw
                )
            else:
                yield RawRecord(self.name, row.key, row.data(), row.version, row.source, None)


class PurchaseOrders(FileStream):
    name = "purchase_orders"

    def wants(self, partner: Partner, name: str) -> bool:
        return matches(name, partner.settings.order_patterns)

    def parse(self, partner: Partner, file: str, data: bytes) -> Iterator[Item]:
        s = partner.settings
        sender = s.their_id if s.check_sender else None
        for item in envelope_checked(
            data,
            file,
            codes=("850",),
            sender_id=sender,
            encoding=x12_encoding(data, s.x12_encoding),
        ):
            if isinstance(item, SetProblem):
                yield Quarantined(self.name, f"{partner.key}/{item.where}", item.reason, item.raw)
                continue
            try:
                record = read_850(item, partner.key, file)
            except SetError as exc:
                yield Quarantined(self.name, f"{partner.key}/{item.where}", str(exc), item.raw)
                continue
            key = f"{partner.key}|{record['po_number']}"
            yield RawRecord(
                self.name,
                key,
                record,
                order_version(record),
                f"{partner.key}/{item.where}",
                item.raw,
            )
