"""Codeunit web services of the sandbox ERP: business actions that are not page CRUD.

NAV publishes a codeunit's global functions at ``/WS/<Company>/Codeunit/<Name>`` (namespace
``urn:microsoft-dynamics-schemas/codeunit/<Name>``): one request element per function with its
parameters (camelCase, all required), and a ``<Function>_Result`` with ``return_value``.
A list parameter is an XMLport in NAV; here its type lives in the codeunit's own namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

XS_STRING, XS_DECIMAL = "string", "decimal"


@dataclass(frozen=True)
class Param:
    name: str
    xs_type: str  # an XSD built-in ("string") or a type of this codeunit ("tns:ShipLines")


@dataclass(frozen=True)
class Operation:
    name: str
    params: tuple[Param, ...]
    returns: str | None = XS_STRING


@dataclass(frozen=True)
class CodeunitSpec:
    name: str
    operations: tuple[Operation, ...]
    types: str = ""  # extra xsd types, written with the ``xsd:``/``tns:`` prefixes

    @property
    def namespace(self) -> str:
        return f"urn:microsoft-dynamics-schemas/codeunit/{self.name}"


_SHIP_LINE_TYPES = (
    '<xsd:complexType name="ShipLine"><xsd:sequence>'
    '<xsd:element minOccurs="1" maxOccurs="1" name="lineNo" type="xsd:int"/>'
    '<xsd:element minOccurs="1" maxOccurs="1" name="quantity" type="xsd:decimal"/>'
    "</xsd:sequence></xsd:complexType>"
    '<xsd:complexType name="ShipLines"><xsd:sequence>'
    '<xsd:element minOccurs="0" maxOccurs="unbounded" name="ShipLine" type="tns:ShipLine"/>'
    "</xsd:sequence></xsd:complexType>"
)

SALES_ORDER_POSTING = CodeunitSpec(
    name="SalesOrderPosting",
    types=_SHIP_LINE_TYPES,
    operations=(
        Operation(
            "PostShipment",
            (
                Param("orderNo", XS_STRING),
                Param("shipLines", "tns:ShipLines"),
                Param("shippingAgentCode", XS_STRING),
                Param("packageTrackingNo", XS_STRING),
            ),
        ),
        Operation("PostInvoice", (Param("orderNo", XS_STRING),)),
        Operation(
            "RegisterPayment",
            (Param("invoiceNo", XS_STRING), Param("amount", XS_DECIMAL)),
            returns=XS_DECIMAL,
        ),
    ),
)

CODEUNITS: dict[str, CodeunitSpec] = {c.name: c for c in (SALES_ORDER_POSTING,)}
