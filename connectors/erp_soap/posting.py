"""Posting a warehouse's shipment in the ERP through its ``SalesOrderPosting`` codeunit.

NAV posts documents through codeunits, not page CRUD. A posting record (stream
``shipment_postings``, write only)::

    {"External_Document_No": "1042", "Package_Tracking_No": "1Z999AA10123456784",
     "Shipping_Agent_Code": "UPSN", "lines": [{"No": "TDM-ESP-100", "Quantity": "2"}]}

names the order by the web shop's number and the items shipped by item No; the writer finds
the order's lines (``Line_No``) for each item, up to their outstanding quantity, and calls
``PostShipment(orderNo, shipLines, shippingAgentCode, packageTrackingNo)``. Posting is not
idempotent in the ERP (a second call ships again), so the writer first looks for a posted
shipment of that order with that ``Package_Tracking_No``: found, it is acknowledged again
(``created=False``) without posting. The whole write (look-up + post) is retried on transient
errors: a post whose answer was lost is found by its tracking number on the next attempt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from canonical.errors import PermanentError
from connectors.base import Ack, Outcome, Page, Stream
from connectors.erp_soap.client import NavPageClient, Record, exact
from connectors.erp_soap.settings import ErpSoapSettings
from connectors.transports.soap import SoapClientFactory, SoapSettings, call, with_retries

CODEUNIT = "SalesOrderPosting"


def codeunit_settings(settings: ErpSoapSettings, name: str = CODEUNIT) -> SoapSettings:
    """Where the codeunit is: next to the pages (``.../WS/<Company>/Codeunit/<name>``)."""
    base = settings.base_url
    if not base.endswith("/Page/"):
        raise PermanentError(
            f"ERP base_url {base!r} does not end in /Page/: the codeunit address cannot be derived"
        )
    endpoint = f"{base[: -len('Page/')]}Codeunit/{name}"
    wsdl = f"{endpoint}?wsdl"
    if settings.wsdl_dir:
        wsdl = str(settings.wsdl_dir / f"{name}.codeunit.wsdl")
    return SoapSettings(
        wsdl=wsdl,
        endpoint=endpoint,
        binding=f"{{urn:microsoft-dynamics-schemas/codeunit/{name}}}{name}_Binding",
        username=settings.username,
        password=settings.password,
        connect_timeout=settings.connect_timeout,
        operation_timeout=settings.operation_timeout,
        retry=settings.retry,
        strict=settings.strict,
    )


def _quantity(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise PermanentError(f"{what}: {value!r} is not a quantity") from exc
    if not number.is_finite() or number < 0:
        raise PermanentError(f"{what}: {value!r} is not a quantity")
    return number


class ShipmentPoster:
    """Posts shipments of sales orders, once per tracking number."""

    def __init__(
        self,
        settings: ErpSoapSettings,
        sales_orders: NavPageClient,
        posted_shipments: NavPageClient,
        factory: SoapClientFactory,
    ) -> None:
        self.settings = settings
        self.sales_orders = sales_orders
        self.posted_shipments = posted_shipments
        self._factory = factory

    def write(self, record: Mapping[str, Any]) -> Ack:
        ext = str(record.get("External_Document_No") or "").strip()
        tracking = str(record.get("Package_Tracking_No") or "").strip()
        what = f"ERP shipment posting {ext or '<no External_Document_No>'}"
        if not ext or not tracking:
            raise PermanentError(
                f"{what}: External_Document_No and Package_Tracking_No are required "
                "(they make the posting idempotent)"
            )
        return with_retries(
            lambda: self._post(record, ext, tracking, what), self.settings.retry, what=what
        )

    def find_posted(self, ext: str, tracking: str) -> Record | None:
        found = self.posted_shipments.read_multiple(
            [("External_Document_No", exact(ext)), ("Package_Tracking_No", exact(tracking))],
            None,
            1,
        )
        return found[0] if found else None

    def _post(self, record: Mapping[str, Any], ext: str, tracking: str, what: str) -> Ack:
        posted = self.find_posted(ext, tracking)
        if posted is not None:
            return Ack(ext, str(posted["No"]), None, created=False,
                       detail={"order_no": posted.get("Order_No")})  # fmt: skip
        orders = self.sales_orders.read_multiple([("External_Document_No", exact(ext))], None, 1)
        if not orders:
            raise PermanentError(f"{what}: the ERP has no open Sales_Order for it")
        order = orders[0]
        ship_lines = self._ship_lines(order, record.get("lines") or [], what)
        service = self._factory.service(codeunit_settings(self.settings))
        answer = call(
            service.PostShipment,
            orderNo=order["No"],
            shipLines={"ShipLine": ship_lines},
            shippingAgentCode=str(record.get("Shipping_Agent_Code") or "")[:10],
            packageTrackingNo=tracking,
            what=f"{CODEUNIT}.PostShipment {order['No']}",
        )
        return Ack(ext, str(answer), None, created=True, detail={"order_no": order["No"]})

    @staticmethod
    def _ship_lines(order: Record, lines: Any, what: str) -> list[dict[str, Any]]:
        """Line_No and quantity per order line: each item's quantity spread over the order's
        lines of that item, up to what is outstanding on each."""
        outstanding: list[list[Any]] = []
        for line in (order.get("SalesLines") or {}).get("Sales_Order_Line") or []:
            if line.get("Type") != "Item":
                continue
            left = _quantity(line.get("Quantity") or 0, what) - _quantity(
                line.get("Quantity_Shipped") or 0, what
            )
            outstanding.append([str(line.get("No")), int(line["Line_No"]), left])
        given: dict[int, Decimal] = {}
        for index, line in enumerate(lines):
            sku = str(line.get("No") or "")
            wanted = _quantity(line.get("Quantity"), f"{what}: lines[{index}].Quantity")
            for entry in outstanding:
                if wanted <= 0:
                    break
                if entry[0] != sku or entry[2] <= 0:
                    continue
                take = min(wanted, entry[2])
                given[entry[1]] = given.get(entry[1], Decimal(0)) + take
                entry[2] -= take
                wanted -= take
            if wanted > 0:
                raise PermanentError(
                    f"{what}: lines[{index}]: {wanted} of item {sku!r} more than the order "
                    f"{order['No']} has outstanding"
                )
        if not any(given.values()):
            raise PermanentError(f"{what}: nothing to post (no quantity shipped)")
        return [{"lineNo": no, "quantity": q} for no, q in sorted(given.items()) if q]


class ShipmentPostings(Stream):
    """``shipment_postings``: write only; one ``ShipmentPoster.write`` per record."""

    name = "shipment_postings"

    def __init__(self, poster: ShipmentPoster) -> None:
        self.poster = poster

    def read(self, cursor: str | None) -> Iterator[Page]:
        raise PermanentError("ERP shipment_postings is write-only (read posted_shipments)")

    def write(self, records: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return [
            self.attempt(str(r.get("External_Document_No") or ""), partial(self.poster.write, r))
            for r in records
        ]
