"""Idempotent writes of items (the product master) to the ERP's Item page.

A write takes an Item-shaped dict (field names as in the page WSDL, ``No`` required: the SKU is
the item number) and looks the item up by ``No`` first: a missing item is created with that
number, an existing one gets only the fields that differ (``Update`` with its current ``Key``);
an item that already holds every given value is not written at all (an ``Ack`` with
``detail["changed"] == []``). FlowFields (``Inventory``, ``Qty_on_Sales_Order``) and stamps are
never sent. A stale ``Key`` (someone changed the item meanwhile) is answered by re-reading it
and trying once more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack
from connectors.erp_soap.client import NavPageClient, Record
from connectors.erp_soap.settings import ErpSoapSettings
from connectors.erp_soap.writes import changed_fields
from connectors.transports.soap import RetryPolicy, StaleKeyError, with_retries

READ_ONLY = frozenset(
    {"Key", "Inventory", "Qty_on_Sales_Order", "Last_Date_Modified", "Last_DateTime_Modified"}
)


def _ack(key: str, item: Mapping[str, Any], created: bool, changed: list[str]) -> Ack:
    version = item.get("Key")
    return Ack(
        key,
        str(item["No"]),
        None if version is None else str(version),
        created,
        detail={"changed": changed},
    )


class ItemWriter:
    """Create-or-update of Item records by ``No``; the whole write is retried on transient
    errors (the page client makes single attempts)."""

    def __init__(self, settings: ErpSoapSettings, page: Callable[..., NavPageClient]) -> None:
        self.settings = settings
        self.items = page("item", read_retry=RetryPolicy(attempts=1))

    def write_item(self, record: Mapping[str, Any]) -> Ack:
        wanted = {k: v for k, v in record.items() if k not in READ_ONLY}
        no = str(wanted.get("No") or "").strip()
        if not no:
            raise PermanentError("Item: No is required (the SKU; it makes the write idempotent)")
        return with_retries(lambda: self._write(no, wanted), self.settings.retry, what="write_item")

    def _write(self, no: str, wanted: Record) -> Ack:
        current = self.items.read(no)
        if current is None:
            created = self.items.create(wanted)
            return _ack(no, created, True, sorted(wanted))
        try:
            return self._update(no, current, wanted)
        except StaleKeyError:
            fresh = self.items.read(no)
            if fresh is None:
                raise PermanentError(f"Item {no} was deleted while being updated") from None
            return self._update(no, fresh, wanted)

    def _update(self, no: str, current: Record, wanted: Record) -> Ack:
        changes = changed_fields(current, wanted)
        if not changes:
            return _ack(no, current, False, [])
        update = {name: wanted[name] for name in changes}
        update.update(No=current["No"], Key=current["Key"])
        return _ack(no, self.items.update(update), False, changes)
