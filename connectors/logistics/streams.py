"""The four streams: shipping_orders (write 940), shipping_advices (945), inventory (846),
acks (997)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, BinaryIO

from canonical.errors import PermanentError
from connectors.base import Ack, Outcome, Page, Quarantined, RawRecord, Stream
from connectors.formats.x12 import (
    ControlNumbers,
    GroupOut,
    SentDocument,
    SetOut,
    TransactionSet,
    X12Error,
    X12Reader,
    build_interchange,
    read_functional_ack,
)
from connectors.logistics.files import Item, read_pages
from connectors.logistics.settings import LogisticsSettings
from connectors.logistics.x12_docs import build_940, parse_846, parse_945
from connectors.logistics.xml_profile import (
    XmlDocumentError,
    build_order_xml,
    parse_advices,
    parse_inventory,
)
from connectors.transports.sftp import RemoteExists, RemoteFile, SftpClient, join

log = logging.getLogger(__name__)
WHOLE_FILE_LIMIT = 64 * 1024 * 1024  # larger files are streamed, never held in memory


def _quarantine(stream: str, error: X12Error | XmlDocumentError, file: RemoteFile) -> Quarantined:
    if isinstance(error, X12Error):
        where = (
            f"{file.name}: interchange {error.interchange or '?'}, set {error.set_control or '-'}"
        )
        return Quarantined(stream, where, str(error), error.raw)
    return Quarantined(stream, file.name, str(error))


class _Reader(Stream):
    """A read stream over files matching ``patterns`` in the 3PL's outbound folder."""

    def __init__(self, client: SftpClient, settings: LogisticsSettings) -> None:
        self.client = client
        self.settings = settings

    patterns: tuple[str, ...] = ()

    def read(self, cursor: str | None) -> Iterator[Page]:
        s = self.settings
        return read_pages(
            self.client,
            s.outbound_dir,
            self.patterns,
            cursor,
            self._parse,
            page_size=s.page_size,
            lag=s.lag_seconds,
        )

    whole_files = True  # small documents: an envelope error quarantines the whole file
    xml_profile = True  # the stream follows the ``format`` setting (acks are always X12)

    def _parse(self, file: RemoteFile, stream: BinaryIO) -> Iterator[Item]:
        if self.settings.format == "xml" and self.xml_profile:
            yield from self._parse_xml(file, stream)
            return
        encoding = self.settings.encoding
        if not self.whole_files or file.size > WHOLE_FILE_LIMIT:
            yield from self._items(X12Reader(stream, file.name, encoding=encoding), file)
            return
        data = stream.read()
        items = list(X12Reader(io.BytesIO(data), file.name, encoding=encoding))
        envelope = [i for i in items if isinstance(i, X12Error) and i.level != "set"]
        if envelope:  # the group or interchange is unusable: none of its sets is trusted
            reason = "; ".join(str(e) for e in envelope)
            yield Quarantined(self.name, file.name, reason, data)
            return
        yield from self._items(iter(items), file)

    def _items(
        self, items: Iterable[TransactionSet | X12Error], file: RemoteFile
    ) -> Iterator[Item]:
        for item in items:
            if isinstance(item, X12Error):
                yield _quarantine(self.name, item, file)
                continue
            try:
                yield from self._records(item, file)
            except X12Error as exc:
                yield _quarantine(self.name, exc, file)

    def _records(self, ts: TransactionSet, file: RemoteFile) -> Iterator[Item]:
        raise NotImplementedError

    def _parse_xml(self, file: RemoteFile, stream: BinaryIO) -> Iterator[Item]:
        yield Quarantined(self.name, file.name, f"{self.name} has no XML profile")


class ShippingAdvices(_Reader):
    name = "shipping_advices"

    @property
    def patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.settings.advice_patterns

    def _records(self, ts: TransactionSet, file: RemoteFile) -> Iterator[Item]:
        data = parse_945(ts)
        yield RawRecord(
            self.name,
            data["shipment_id"],
            data,
            version=None,
            source=f"{file.name}: {ts.where.partition(': ')[2]}",
            raw=ts.raw,
        )

    def _parse_xml(self, file: RemoteFile, stream: BinaryIO) -> Iterator[Item]:
        for item in parse_advices(stream, file.name):
            if isinstance(item, XmlDocumentError):
                yield _quarantine(self.name, item, file)
            else:
                yield RawRecord(self.name, item["shipment_id"], item, source=file.name)


class Inventory(_Reader):
    """846 items, streamed: a large file is never held in memory, so envelope (GE/IEA)
    errors are quarantined after the sets they cover were passed on."""

    name = "inventory"
    whole_files = False

    @property
    def patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.settings.inventory_patterns

    def _records(self, ts: TransactionSet, file: RemoteFile) -> Iterator[Item]:
        source = f"{file.name}: set {ts.control_number}"
        for item in parse_846(ts, self.settings.warehouse):
            if not item["sku"]:
                yield Quarantined(self.name, source, "LIN without a VN/SK item id")
                continue
            yield RawRecord(self.name, item["sku"], item, version=item["report_id"], source=source)

    def _parse_xml(self, file: RemoteFile, stream: BinaryIO) -> Iterator[Item]:
        for item in parse_inventory(stream, file.name, self.settings.warehouse):
            if isinstance(item, XmlDocumentError):
                yield _quarantine(self.name, item, file)
            else:
                yield RawRecord(
                    self.name, item["sku"], item, version=item["report_id"], source=file.name
                )


class Acks(_Reader):
    """997s, each matched to the 940s sent (their ack status is kept in the control store)."""

    name = "acks"
    xml_profile = False

    def __init__(
        self, client: SftpClient, settings: LogisticsSettings, store: ControlNumbers
    ) -> None:
        super().__init__(client, settings)
        self.store = store

    @property
    def patterns(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.settings.ack_patterns

    def _records(self, ts: TransactionSet, file: RemoteFile) -> Iterator[Item]:
        if ts.code != "997":
            return
        ack = read_functional_ack(ts)
        partner = self.settings.partner_key
        matched = 0
        for tx in ack.sets:
            if tx.control_number.isdigit() and ack.group_control.isdigit():
                matched += self.store.record_ack(
                    partner, int(ack.group_control), int(tx.control_number), tx.status
                )
        if not ack.sets and ack.group_control.isdigit():
            matched += self.store.record_ack(partner, int(ack.group_control), None, ack.status)
        data = {
            "functional_id": ack.functional_id,
            "group_control": ack.group_control,
            "status": ack.status,
            "sets": [
                {
                    "code": t.code,
                    "control_number": t.control_number,
                    "status": t.status,
                    "errors": list(t.errors),
                }
                for t in ack.sets
            ],
            "matched": matched,
        }
        yield RawRecord(
            self.name,
            f"{ack.functional_id}-{ack.group_control}",
            data,
            version=ack.status,
            source=f"{file.name}: {ts.control_number}",
            raw=ts.raw,
        )


class ShippingOrders(Stream):
    """Writes 940s (or XML orders): one file per order, named by order number and content
    digest; a document already sent (same order, same content) is not sent again."""

    name = "shipping_orders"

    def __init__(
        self, client: SftpClient, settings: LogisticsSettings, store: ControlNumbers
    ) -> None:
        self.client = client
        self.settings = settings
        self.store = store

    def read(self, cursor: str | None) -> Iterator[Page]:
        raise PermanentError("logistics shipping_orders is write-only (read shipping_advices)")

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return [
            self.attempt(str(r.get("order_number") or f"#{i}"), partial(self._send, r))
            for i, r in enumerate(records)
        ]

    def _send(self, record: Mapping[str, Any]) -> Ack:
        s = self.settings
        body = build_940(record)  # InvalidRecord (permanent) before anything is sent
        order = str(record["order_number"]).strip()
        digest = hashlib.sha256(
            json.dumps(record, sort_keys=True, default=str).encode()
        ).hexdigest()
        sent = self.store.find_sent(s.partner_key, "940", order, digest)
        if sent is not None:
            return Ack(
                order,
                sent.file_name,
                digest[:12],
                created=False,
                detail={"isa13": sent.isa13, "gs06": sent.gs06, "st02": sent.st02},
            )
        suffix = "xml" if s.format == "xml" else "x12"
        name = f"940_{_safe(order)}_{digest[:12]}.{suffix}"
        path = join(s.inbound_dir, name)
        if self.client.exists(path):  # sent before the store learnt of it (a crash between)
            return Ack(order, name, digest[:12], created=False)
        partner = s.partner_key
        isa13, gs06, st02 = (self.store.next(partner, k) for k in ("ISA13", "GS06", "ST02"))
        if s.format == "xml":
            data = build_order_xml(record)
        else:
            data = build_interchange(
                s.us,
                s.them,
                isa13,
                [GroupOut(gs06, [SetOut("940", f"{st02:04d}", list(body))])],
                delimiters=s.delimiters,
                usage=s.usage,
                newline=True,
            )
        try:
            self.client.put_bytes(data, path, overwrite=False)
        except RemoteExists:
            return Ack(order, name, digest[:12], created=False)
        doc = self.store.record_sent(
            SentDocument(partner, "940", order, digest, isa13, gs06, st02, name)
        )
        log.info("logistics sent 940 %s as %s (ISA13 %s)", order, name, isa13)
        return Ack(
            order,
            name,
            digest[:12],
            created=True,
            detail={"isa13": doc.isa13, "gs06": doc.gs06, "st02": doc.st02},
        )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:40]
