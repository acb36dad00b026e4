"""``ErpSoapConnector``: idempotent writes of customers and sales orders to a NAV-style ERP.

Writes take NAV-shaped dicts (field names as in the page WSDL; order lines as
``{"SalesLines": {"Sales_Order_Line": [...]}}``) and return an ``Ack``. Every write first
looks for the record it would create, so a retried or replayed write changes nothing twice:

- sales order: found by ``External_Document_No`` (the web shop order number) -> not created again;
- customer: by ``No`` when given, else by ``E_Mail`` (exact) -> updated; otherwise created.

A whole write (look-up + create/update) is retried on transient errors; a stale ``Key`` on
update is answered by re-reading the record and trying once more.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from canonical.errors import PermanentError, TandemError
from connectors.erp_soap.client import NavPageClient, Record, exact
from connectors.erp_soap.settings import ErpSoapSettings
from connectors.transports.soap import RetryPolicy, SoapClientFactory, StaleKeyError, with_retries

_NOT_WRITABLE = frozenset({"Key", "Last_Date_Modified", "Last_Modified_Date_Time"})


@dataclass(frozen=True)
class Ack:
    """What the ERP answered: its number for the record, its current Key, and whether it is new."""

    external_id: str
    version: str | None
    created: bool


@dataclass(frozen=True)
class Health:
    ok: bool
    latency_ms: float
    detail: str = ""


def _same(current: Any, wanted: Any) -> bool:
    if current == wanted or str(current) == str(wanted):
        return True
    try:
        return Decimal(str(current)) == Decimal(str(wanted))
    except (InvalidOperation, ValueError):
        return False


def changed_fields(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Fields of ``wanted`` (header level) whose value differs from ``current``."""
    return [
        name
        for name, value in wanted.items()
        if name not in _NOT_WRITABLE and value is not None and not _same(current.get(name), value)
    ]


class ErpSoapConnector:
    name = "erp_soap"

    def __init__(
        self, settings: ErpSoapSettings, *, factory: SoapClientFactory | None = None
    ) -> None:
        self.settings = settings
        self._factory = factory or SoapClientFactory()
        single = RetryPolicy(attempts=1)  # writes retry as a whole, not call by call
        self.customers = self.page("customer", read_retry=single)
        self.sales_orders = self.page("sales_order", read_retry=single)

    def page(self, page: str, *, read_retry: RetryPolicy | None = None) -> NavPageClient:
        """A client for one page (logical name such as ``customer`` or a NAV page name)."""
        return NavPageClient(
            self.settings.soap(page),
            self.settings.page_name(page),
            factory=self._factory,
            read_retry=read_retry,
        )

    # -- customers -----------------------------------------------------------------------

    def write_customer(self, record: Mapping[str, Any]) -> Ack:
        wanted = dict(record)
        return with_retries(
            lambda: self._write_customer(wanted), self.settings.retry, what="write_customer"
        )

    def _write_customer(self, wanted: Record) -> Ack:
        current = self._find_customer(wanted)
        if current is None:
            created = self.customers.create({k: v for k, v in wanted.items() if k != "Key"})
            return Ack(created["No"], created.get("Key"), created=True)
        return self._update_customer(current, wanted)

    def _find_customer(self, wanted: Record) -> Record | None:
        if wanted.get("No"):
            return self.customers.read(str(wanted["No"]))
        if wanted.get("E_Mail"):
            found = self.customers.read_multiple(
                [("E_Mail", exact(str(wanted["E_Mail"])))], None, 1
            )
            return found[0] if found else None
        return None

    def _update_customer(self, current: Record, wanted: Record) -> Ack:
        for attempt in (1, 2):
            changes = changed_fields(current, wanted)
            if not changes:
                return Ack(current["No"], current.get("Key"), created=False)
            update = {name: wanted[name] for name in changes}
            update.update(No=current["No"], Key=current["Key"])
            try:
                updated = self.customers.update(update)
                return Ack(updated["No"], updated.get("Key"), created=False)
            except StaleKeyError:
                if attempt == 2:
                    raise
                fresh = self.customers.read(current["No"])
                if fresh is None:
                    raise PermanentError(
                        f"Customer {current['No']} was deleted while being updated"
                    ) from None
                current = fresh
        raise AssertionError("unreachable")  # pragma: no cover

    # -- sales orders --------------------------------------------------------------------

    def write_sales_order(self, record: Mapping[str, Any]) -> Ack:
        wanted = dict(record)
        if not wanted.get("External_Document_No"):
            raise PermanentError(
                "Sales_Order: External_Document_No is required (it makes the write idempotent)"
            )
        return with_retries(
            lambda: self._write_sales_order(wanted), self.settings.retry, what="write_sales_order"
        )

    def _write_sales_order(self, wanted: Record) -> Ack:
        existing = self.find_sales_order(str(wanted["External_Document_No"]))
        if existing is not None:
            return Ack(existing["No"], existing.get("Key"), created=False)
        created = self.sales_orders.create({k: v for k, v in wanted.items() if k != "Key"})
        return Ack(created["No"], created.get("Key"), created=True)

    def find_sales_order(self, external_document_no: str) -> Record | None:
        found = self.sales_orders.read_multiple(
            [("External_Document_No", exact(external_document_no))], None, 1
        )
        return found[0] if found else None

    # -- health --------------------------------------------------------------------------

    def health(self) -> Health:
        """One cheap read (a single customer); never raises."""
        started = time.perf_counter()
        try:
            self.customers.read_multiple((), None, 1)
        except TandemError as exc:
            return Health(False, (time.perf_counter() - started) * 1000, str(exc))
        return Health(True, (time.perf_counter() - started) * 1000, "ok")
