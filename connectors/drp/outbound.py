"""The write streams: 855 PO acknowledgements and 810 invoices, uploaded once.

A record names its ``distributor`` and is built into an X12 body (``x12_out``), whose
digest identifies the document's content. The file name is deterministic,
``855_<PO number>_<digest>.edi`` / ``810_<invoice number>_<digest>.edi``, so:

1. a document already in the control database's sent log (``x12_sent``, same partner, set,
   document number and digest) is not sent again: the ack names the file it went out as;
2. a file of that name already in the distributor's inbound folder (sent, but the log was not
   written: a crash between upload and log) is logged and not sent again;
3. otherwise the next ISA13/GS06 of that distributor are drawn from the durable counter, the
   interchange is uploaded under a temporary name and renamed (never over an existing file),
   and the log is written.

A changed acknowledgement or invoice for the same PO has another digest: it is a new file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from canonical.errors import InvalidRecord, PermanentError
from connectors.base import Ack, Outcome, Stream
from connectors.drp.x12_out import Body, build_810, build_855
from connectors.formats.x12 import GroupOut, SentDocument, SetOut, build_interchange
from connectors.transports.sftp import RemoteExists, join

if TYPE_CHECKING:
    from connectors.drp.connector import DrpConnector, Partner

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def digest(body: Body) -> str:
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


def file_name(code: str, doc_key: str, content_digest: str) -> str:
    return f"{code}_{_UNSAFE.sub('-', doc_key)[:40]}_{content_digest[:12]}.edi"


class DocumentStream(Stream):
    """Writes one X12 transaction set per record to its distributor's inbound folder."""

    code = ""
    doc_field = ""
    build: Callable[[Mapping[str, Any]], Body]

    def __init__(self, connector: DrpConnector) -> None:
        self.connector = connector

    def read(self, cursor: str | None) -> Any:
        raise PermanentError(f"stream {self.name} is write-only (documents Tandem sends)")

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return [self.attempt(self._key(r), self._sender(r)) for r in records]

    def _sender(self, record: Mapping[str, Any]) -> Callable[[], Ack]:
        return lambda: self._send(record)

    def _key(self, record: Mapping[str, Any]) -> str:
        return str(record.get(self.doc_field) or "") if isinstance(record, Mapping) else ""

    def _partner(self, record: Mapping[str, Any]) -> Partner:
        key = str(record.get("distributor") or "")
        partner = self.connector.partner(key)
        if partner is None:
            known = ", ".join(sorted(p.key for p in self.connector.partners))
            raise InvalidRecord.single(
                "drp", self._key(record) or None, "distributor",
                f"{key!r} is not a configured distributor ({known})", entity=self.name,
            )  # fmt: skip
        return partner

    def _send(self, record: Mapping[str, Any]) -> Ack:
        if not isinstance(record, Mapping):
            raise InvalidRecord.single("drp", None, "", "a record must be an object")
        partner = self._partner(record)
        body = type(self).build(record)
        doc_key = self._key(record)
        content = digest(body)
        control = self.connector.control
        found = control.find_sent(partner.key, self.code, doc_key, content)
        if found is not None:
            return Ack(doc_key, found.file_name, detail={"isa13": found.isa13, "resent": False})
        name = file_name(self.code, doc_key, content)
        target = join(partner.settings.folder("inbound"), name)
        client = partner.client
        if client.exists(target):
            control.record_sent(
                SentDocument(partner.key, self.code, doc_key, content, 0, 0, 0, name)
            )
            return Ack(doc_key, name, detail={"already_uploaded": True})
        them = partner.settings.them
        isa13 = control.next(partner.key, "ISA13")
        gs06 = control.next(partner.key, "GS06")
        data = build_interchange(
            partner.settings.us,
            them,
            isa13,
            [GroupOut(gs06, [SetOut(self.code, "0001", list(body))])],
            usage=partner.settings.usage,
            version=partner.settings.x12_version,
            now=datetime.now(UTC),
            newline=True,
        )
        with contextlib.suppress(RemoteExists):  # another worker uploaded it a moment ago
            client.put_bytes(data, target, overwrite=False)
        control.record_sent(
            SentDocument(partner.key, self.code, doc_key, content, isa13, gs06, 1, name)
        )
        return Ack(doc_key, name, created=True, detail={"isa13": isa13, "path": target})


class PoAcks(DocumentStream):
    name = "po_acks"
    code = "855"
    doc_field = "po_number"
    build = staticmethod(build_855)


class Invoices(DocumentStream):
    name = "invoices"
    code = "810"
    doc_field = "invoice_number"
    build = staticmethod(build_810)
