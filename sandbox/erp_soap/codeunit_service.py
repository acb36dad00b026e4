"""The SalesOrderPosting codeunit web service: SOAP requests in, ``posting.Posting`` calls out."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from sandbox.erp_soap.codeunits import CodeunitSpec
from sandbox.erp_soap.posting import Posting
from sandbox.erp_soap.rules import BusinessError
from sandbox.erp_soap.service import SoapService


class SalesOrderPostingService(SoapService):
    """PostShipment, PostInvoice and RegisterPayment (see ``codeunits.SALES_ORDER_POSTING``)."""

    kind = "Codeunit"

    def __init__(self, spec: CodeunitSpec, posting: Posting, wsdl_file: Path) -> None:
        super().__init__(spec.name, spec.namespace, wsdl_file)
        self.posting = posting
        self.handlers = {
            "PostShipment": self._post_shipment,
            "PostInvoice": self._post_invoice,
            "RegisterPayment": self._register_payment,
        }

    def _return(self, op: str, value: str) -> etree._Element:
        result = self._result(op)
        etree.SubElement(result, self._q("return_value")).text = value
        return result

    def _text(self, req: etree._Element, name: str) -> str:
        return (self._child_text(req, name) or "").strip()

    def _post_shipment(self, req: etree._Element) -> etree._Element:
        container = req.find(self._q("shipLines"))
        lines: list[tuple[int, Decimal]] | None = None
        if container is not None and len(container):
            lines = [
                (int(self._text(el, "lineNo")), _decimal(self._text(el, "quantity")))
                for el in container.findall(self._q("ShipLine"))
            ]
        no = self.posting.post_shipment(
            self._text(req, "orderNo"),
            lines,
            shipping_agent_code=self._text(req, "shippingAgentCode"),
            package_tracking_no=self._text(req, "packageTrackingNo"),
        )
        return self._return("PostShipment", no)

    def _post_invoice(self, req: etree._Element) -> etree._Element:
        return self._return("PostInvoice", self.posting.post_invoice(self._text(req, "orderNo")))

    def _register_payment(self, req: etree._Element) -> etree._Element:
        amount = _decimal(self._text(req, "amount"))
        left = self.posting.register_payment(self._text(req, "invoiceNo"), amount)
        return self._return("RegisterPayment", str(left))


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # the schema lets only decimals through; belt and braces
        raise BusinessError(f"'{text}' is not a decimal.") from exc
