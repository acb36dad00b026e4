"""``TrytonConnector``: parties, products, sales, shipments and invoices of a Tryton ERP.

Streams (records are Tryton's own, nested as ``feeds.py`` describes; keys are Tryton ids):

- ``parties``: read and write (addresses, e-mail and phone included); a write finds the party
  by ``code``, else by e-mail;
- ``products``: read and write, found by ``code``;
- ``sales``: read and write; a write finds the sale by ``reference`` (the web shop's order
  number), creates it as a draft, then quotes and confirms it as the record's ``state`` asks;
- ``shipments`` (customer shipments, ``stock.shipment.out``): read, and written when the
  warehouse shipped: the sale's shipment is assigned, picked, packed and done
  (``shipping.py``);
- ``invoices`` (customer invoices with a number): read only.

Reads are incremental (see ``changes.py``); writes are idempotent and retried as a whole on
transient errors; ``health()`` logs in and reads the user's preferences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack, Connector, Health, Outcome, Page, RawRecord, Stream, check_health
from connectors.connection import get_connection
from connectors.erp_tryton.changes import STAMP, ChangeReader, Feed
from connectors.erp_tryton.feeds import FEEDS
from connectors.erp_tryton.parties import PartyWriter
from connectors.erp_tryton.products import ProductWriter
from connectors.erp_tryton.rpc import Row, TrytonRpc, TrytonUserError
from connectors.erp_tryton.sales import SaleWriter
from connectors.erp_tryton.settings import TrytonSettings
from connectors.erp_tryton.shipping import ShipmentWriter
from connectors.transports.retry import with_retries

Writer = Callable[[Mapping[str, Any]], Ack]


class TrytonStream(Stream):
    """One model of Tryton read incrementally; written through ``writer`` when it has one."""

    def __init__(
        self,
        name: str,
        rpc: TrytonRpc,
        feed: Feed,
        settings: TrytonSettings,
        *,
        writer: Writer | None = None,
        key_of: Callable[[Mapping[str, Any]], str] | None = None,
    ) -> None:
        self.name = name
        self.feed = feed
        self._reader = ChangeReader(rpc, feed, settings.page_size, name)
        self._settings = settings
        self._writer = writer
        self._key_of = key_of

    def read(self, cursor: str | None) -> Iterator[Page]:
        for rows, next_cursor in self._reader.pages(cursor):
            yield Page(records=[self._record(row) for row in rows], cursor=next_cursor)

    def _record(self, row: Row) -> RawRecord:
        stamp = row.get(STAMP)
        return RawRecord(
            stream=self.name,
            key=str(row["id"]),
            data=row,
            version=stamp.isoformat() if stamp is not None else None,
            source=f"{self.feed.model} {row['id']}",
        )

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        if self._writer is None or self._key_of is None:
            raise PermanentError(f"Tryton stream {self.name} is read-only")
        key_of = self._key_of
        return [self.attempt(key_of(r), partial(self._write_one, r, key_of(r))) for r in records]

    def _write_one(self, record: Mapping[str, Any], key: str) -> Ack:
        """One record's whole write (look-up, create or change, workflow), retried as one
        while transient: it is idempotent."""
        writer = self._writer
        assert writer is not None
        try:
            return with_retries(
                lambda: writer(record), self._settings.retry, what=f"write {self.name} {key}"
            )
        except TrytonUserError as exc:  # Tryton names the field; we add the record
            raise TrytonUserError(
                f"Tryton {self.name} {key}: {exc.tryton_message}",
                description=exc.description,
                fields=exc.fields,
            ) from exc


def _key(*names: str) -> Callable[[Mapping[str, Any]], str]:
    def key_of(record: Mapping[str, Any]) -> str:
        for name in names:
            if record.get(name):
                return str(record[name])
        return "<no " + " or ".join(names) + ">"

    return key_of


class TrytonConnector(Connector):
    system = "erp_tryton"

    def __init__(self, settings: TrytonSettings) -> None:
        self.settings = settings
        self.rpc = TrytonRpc(settings)
        parties = PartyWriter(self.rpc)
        products = ProductWriter(self.rpc)
        sales = SaleWriter(self.rpc, parties)
        rpc = self.rpc
        super().__init__(
            [
                TrytonStream(
                    "parties", rpc, FEEDS["parties"], settings,
                    writer=parties.write, key_of=_key("code", "email", "name"),
                ),
                TrytonStream(
                    "products", rpc, FEEDS["products"], settings,
                    writer=products.write, key_of=_key("code"),
                ),
                TrytonStream(
                    "sales", rpc, FEEDS["sales"], settings,
                    writer=sales.write, key_of=_key("reference"),
                ),
                TrytonStream(
                    "shipments", rpc, FEEDS["shipments"], settings,
                    writer=ShipmentWriter(rpc).write, key_of=_key("sale"),
                ),
                TrytonStream("invoices", rpc, FEEDS["invoices"], settings),
            ]
        )  # fmt: skip

    @classmethod
    def from_connection_id(cls, conn_id: str = "erp_tryton", **overrides: Any) -> TrytonConnector:
        return cls(TrytonSettings.from_connection(get_connection(conn_id), **overrides))

    def health(self) -> Health:
        """Logs in (a new session) and reads the user's preferences; never raises."""
        return check_health(
            self.rpc.login, what=f"Tryton {self.settings.url} database {self.settings.database}"
        )

    def close(self) -> None:
        self.rpc.close()
