"""``ErpSoapConnector``: a NAV / Business Central ERP over its SOAP page web services.

Streams (pages and incremental fields come from ``ErpSoapSettings.streams``):

- ``customers``: Customer, by last-modified; writes upsert by No, else E_Mail;
- ``items``: Item, by last-modified, and again when its ``Inventory`` changes; writes
  create-or-update by No (``item_writes.py``);
- ``sales_orders``: Sales_Order with its lines, by last-modified; writes upsert by
  External_Document_No;
- ``posted_shipments``: Posted_Sales_Shipment with its lines, new ones by number;
- ``shipment_postings``: write only: posts a shipment through the SalesOrderPosting codeunit
  (``posting.py``), once per tracking number;
- ``posted_invoices``: Posted_Sales_Invoice with its lines, new ones by number, and again
  when an open invoice's payment status (Remaining_Amount, Closed) changes.

The write methods (``write_customer``, ``write_sales_order``, ``cancel_sales_order``) are
also called directly by the order delivery flow; see ``writes.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from connectors.base import Ack, Connector, Health, check_health
from connectors.erp_soap.client import NavPageClient, Record
from connectors.erp_soap.item_writes import ItemWriter
from connectors.erp_soap.posting import ShipmentPoster, ShipmentPostings
from connectors.erp_soap.settings import ErpSoapSettings, StreamSettings
from connectors.erp_soap.streams import KeyOf, PageStream, Writer
from connectors.erp_soap.writes import NavWriter
from connectors.transports.soap import RetryPolicy, SoapClientFactory


def _customer_key(record: Mapping[str, Any]) -> str:
    return str(record.get("No") or record.get("E_Mail") or "")


def _item_key(record: Mapping[str, Any]) -> str:
    return str(record.get("No") or "")


def _order_key(record: Mapping[str, Any]) -> str:
    return str(record.get("External_Document_No") or "")


class ErpSoapConnector(Connector):
    system = "erp_soap"

    def __init__(
        self, settings: ErpSoapSettings, *, factory: SoapClientFactory | None = None
    ) -> None:
        self.settings = settings
        self._factory = factory or SoapClientFactory()
        self.writer = NavWriter(settings, self.page)
        self.item_writer = ItemWriter(settings, self.page)
        writers: dict[str, tuple[Writer, KeyOf]] = {
            "customers": (self.writer.write_customer, _customer_key),
            "sales_orders": (self.writer.write_sales_order, _order_key),
            "items": (self.item_writer.write_item, _item_key),
        }
        super().__init__(
            [
                self._stream(name, config, *writers.get(name, (None, None)))
                for name, config in settings.streams.items()
            ]
        )
        single = RetryPolicy(attempts=1)  # the poster retries its whole write
        self.poster = ShipmentPoster(
            settings,
            self.page("sales_order", read_retry=single),
            self.page("posted_shipment", read_retry=single),
            self._factory,
        )
        self.streams["shipment_postings"] = ShipmentPostings(self.poster)

    def _stream(
        self, name: str, config: StreamSettings, writer: Writer | None, key_of: KeyOf | None
    ) -> PageStream:
        return PageStream(
            name,
            self.page(config.page),
            config,
            page_size=self.settings.page_size,
            lookback=timedelta(seconds=self.settings.lookback_seconds),
            since_criteria=self.settings.since_criteria,
            writer=writer,
            key_of=key_of,
        )

    def page(self, page: str, *, read_retry: RetryPolicy | None = None) -> NavPageClient:
        """A client for one page (logical name such as ``customer`` or a NAV page name)."""
        return NavPageClient(
            self.settings.soap(page),
            self.settings.page_name(page),
            factory=self._factory,
            read_retry=read_retry,
        )

    # -- the page clients the writes use (single attempts) --------------------------------

    @property
    def customers(self) -> NavPageClient:
        return self.writer.customers

    @property
    def sales_orders(self) -> NavPageClient:
        return self.writer.sales_orders

    # -- writes ----------------------------------------------------------------------------

    def write_customer(self, record: Mapping[str, Any]) -> Ack:
        return self.writer.write_customer(record)

    def write_sales_order(self, record: Mapping[str, Any]) -> Ack:
        return self.writer.write_sales_order(record)

    def write_item(self, record: Mapping[str, Any]) -> Ack:
        return self.item_writer.write_item(record)

    def cancel_sales_order(self, external_document_no: str) -> Ack | None:
        """Delete an ``Open`` order (a web shop cancellation); None if the ERP never had it."""
        return self.writer.cancel_sales_order(external_document_no)

    def find_sales_order(self, external_document_no: str) -> Record | None:
        return self.writer.find_sales_order(external_document_no)

    def find_posted_order(self, external_document_no: str) -> Ack | None:
        return self.writer.find_posted_order(external_document_no)

    # -- health ----------------------------------------------------------------------------

    def health(self) -> Health:
        """One cheap read (a single customer); never raises."""
        return check_health(
            lambda: self.customers.read_multiple((), None, 1),
            what=f"ERP {self.settings.base_url}",
        )

    def close(self) -> None:
        self._factory.clear()
