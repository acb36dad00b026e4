"""The canonical business model every system is translated into and out of.

Each top-level model carries ``schema_version`` so stored payloads can be migrated, an
``id`` (the canonical id, assigned by the hub) and ``updated_at`` (when the source says the
record last changed; used by the conflict policy: an older update never wins).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from canonical.types import (
    CanonicalModel,
    CountryCode,
    CurrencyCode,
    EmailAddress,
    Money,
    NonEmptyStr,
    NonNegativeMoney,
    UtcDatetime,
)


class Entity(StrEnum):
    CUSTOMER = "customer"
    PRODUCT = "product"
    SALES_ORDER = "sales_order"
    SHIPMENT = "shipment"
    INVENTORY_LEVEL = "inventory_level"
    INVOICE = "invoice"
    SERVICE_REQUEST = "service_request"
    DEMAND_SIGNAL = "demand_signal"
    LEAD = "lead"
    CAMPAIGN_RESPONSE = "campaign_response"


class Record(CanonicalModel):
    """Fields every top-level canonical record has."""

    entity: ClassVar[Entity]
    schema_version: int = 1
    id: str | None = None
    updated_at: UtcDatetime | None = None


# --- customers -------------------------------------------------------------------------


class AddressKind(StrEnum):
    BILLING = "billing"
    SHIPPING = "shipping"
    BOTH = "both"


class Address(CanonicalModel):
    kind: AddressKind = AddressKind.BOTH
    name: str | None = None
    company: str | None = None
    street: NonEmptyStr
    street2: str | None = None
    city: NonEmptyStr
    postal_code: str | None = None
    subdivision: str | None = Field(
        default=None, description="ISO 3166-2 code without the country prefix, e.g. 'CA', 'BY'"
    )
    country: CountryCode


class Contact(CanonicalModel):
    first_name: str | None = None
    last_name: str | None = None
    email: EmailAddress | None = None
    phone: str | None = None
    role: str | None = None


class CustomerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class Customer(Record):
    entity: ClassVar[Entity] = Entity.CUSTOMER
    kind: CustomerKind
    name: NonEmptyStr
    first_name: str | None = None
    last_name: str | None = None
    email: EmailAddress | None = None
    phone: str | None = None
    vat_number: str | None = None
    gln: str | None = Field(default=None, pattern=r"^\d{13}$")
    addresses: tuple[Address, ...] = ()
    contacts: tuple[Contact, ...] = ()
    credit_limit: Money | None = None
    payment_terms: str | None = None
    marketing_consent: bool | None = None
    currency: CurrencyCode | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _lower_email(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


# --- products --------------------------------------------------------------------------


class LifecycleStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PHASE_OUT = "phase_out"
    DISCONTINUED = "discontinued"


class Product(Record):
    entity: ClassVar[Entity] = Entity.PRODUCT
    sku: NonEmptyStr
    gtin: str | None = Field(default=None, pattern=r"^\d{8}$|^\d{12,14}$")
    name: NonEmptyStr
    description: str | None = None
    long_description: str | None = None
    unit_of_measure: str = Field(default="EA", description="UN/ECE Rec 20 or X12 unit code")
    attributes: dict[str, str] = Field(default_factory=dict)
    lifecycle_status: LifecycleStatus = LifecycleStatus.ACTIVE
    list_price: NonNegativeMoney | None = None


# --- orders ----------------------------------------------------------------------------


class OrderStatus(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    ALLOCATED = "allocated"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    INVOICED = "invoiced"
    PAID = "paid"
    CANCELLED = "cancelled"


class OrderLine(CanonicalModel):
    line_number: int = Field(ge=1)
    sku: NonEmptyStr
    description: str | None = None
    quantity: Decimal = Field(gt=0)
    unit_of_measure: str = "EA"
    unit_price: NonNegativeMoney
    discount: Money | None = Field(
        default=None, description="discount on the line: quantity x unit price - line total"
    )
    line_total: NonNegativeMoney
    tax: NonNegativeMoney | None = None


class SalesOrder(Record):
    entity: ClassVar[Entity] = Entity.SALES_ORDER
    order_number: NonEmptyStr = Field(description="the number the customer knows (web shop no.)")
    customer_id: str | None = Field(default=None, description="canonical customer id")
    customer_ref: str | None = Field(
        default=None, description="the source system's customer key when not yet resolved"
    )
    status: OrderStatus = OrderStatus.RECEIVED
    ordered_at: UtcDatetime
    currency: CurrencyCode
    lines: tuple[OrderLine, ...] = Field(min_length=1)
    billing_address: Address | None = None
    shipping_address: Address | None = None
    shipping_total: NonNegativeMoney | None = None
    discount_total: Money | None = None
    tax_total: NonNegativeMoney | None = None
    total: NonNegativeMoney
    payment_method: str | None = None
    customer_note: str | None = None
    coupon_codes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_currency(self) -> SalesOrder:
        amounts = [self.total, self.shipping_total, self.discount_total, self.tax_total]
        amounts += [line.line_total for line in self.lines]
        for amount in amounts:
            if amount is not None and amount.currency != self.currency:
                raise ValueError(f"amount in {amount.currency} on an order in {self.currency}")
        return self


# --- fulfilment ------------------------------------------------------------------------


class ShipmentLine(CanonicalModel):
    order_line_number: int | None = None
    sku: NonEmptyStr
    quantity_shipped: Decimal = Field(ge=0)
    quantity_backordered: Decimal = Field(default=Decimal(0), ge=0)
    unit_of_measure: str = "EA"


class Shipment(Record):
    entity: ClassVar[Entity] = Entity.SHIPMENT
    shipment_number: NonEmptyStr
    order_number: NonEmptyStr
    carrier: str | None = None
    service_level: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    shipped_at: UtcDatetime | None = None
    lines: tuple[ShipmentLine, ...] = Field(min_length=1)
    ship_to: Address | None = None


class InventoryLevel(Record):
    entity: ClassVar[Entity] = Entity.INVENTORY_LEVEL
    sku: NonEmptyStr
    location: NonEmptyStr
    on_hand: Decimal
    allocated: Decimal = Decimal(0)
    available: Decimal
    unit_of_measure: str = "EA"
    as_of: UtcDatetime


# --- billing ---------------------------------------------------------------------------


class PaymentStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class Invoice(Record):
    entity: ClassVar[Entity] = Entity.INVOICE
    invoice_number: NonEmptyStr
    order_number: str | None = None
    customer_id: str | None = None
    invoice_date: date
    due_date: date | None = None
    currency: CurrencyCode
    net_amount: Money
    tax_amount: Money
    total_amount: Money
    amount_paid: Money | None = None
    payment_status: PaymentStatus = PaymentStatus.OPEN


# --- service ---------------------------------------------------------------------------


class ServiceRequest(Record):
    entity: ClassVar[Entity] = Entity.SERVICE_REQUEST
    case_number: NonEmptyStr
    customer_id: str | None = None
    subject: NonEmptyStr
    description: str | None = None
    status: Literal["new", "open", "pending", "resolved", "closed"] = "new"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    order_number: str | None = None
    sku: str | None = None
    opened_at: UtcDatetime | None = None


# --- demand and marketing ----------------------------------------------------------------


class DemandSignal(Record):
    """What a distributor sold and holds of one product at one location over one period
    (X12 852 product activity or a sell-through report)."""

    entity: ClassVar[Entity] = Entity.DEMAND_SIGNAL
    distributor: NonEmptyStr
    location: NonEmptyStr = Field(description="'<distributor>' or '<distributor>/<location>'")
    sku: NonEmptyStr
    gtin: str | None = None
    period_start: date
    period_end: date
    unit_of_measure: str = "EA"
    sold: Decimal | None = None
    returned: Decimal | None = None
    received: Decimal | None = None
    on_hand: Decimal | None = None
    available: Decimal | None = None
    on_order: Decimal | None = None
    in_transit: Decimal | None = None
    lost_sales: Decimal | None = None
    report_id: str | None = None
    source_format: str | None = None

    @model_validator(mode="after")
    def _period(self) -> DemandSignal:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class Lead(Record):
    """Someone who showed interest without ordering: a sign-up, a newsletter consent."""

    entity: ClassVar[Entity] = Entity.LEAD
    email: EmailAddress
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    source: NonEmptyStr = Field(description="where: 'webshop-signup', 'newsletter', ...")
    marketing_consent: bool | None = None
    customer_id: str | None = Field(default=None, description="the golden customer, once known")
    status: Literal["new", "contacted", "qualified", "converted", "dead"] = "new"

    @field_validator("email", mode="before")
    @classmethod
    def _lower_email(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class CampaignResponse(Record):
    """A customer or lead answered a campaign (a coupon used at checkout, a click)."""

    entity: ClassVar[Entity] = Entity.CAMPAIGN_RESPONSE
    campaign: NonEmptyStr = Field(description="the campaign's code (coupon code or UTM name)")
    customer_id: str | None = None
    lead_id: str | None = None
    email: EmailAddress | None = None
    order_number: str | None = None
    responded_at: UtcDatetime
    channel: str = "webshop"


MODELS: dict[Entity, type[Record]] = {
    m.entity: m
    for m in (
        Customer, Product, SalesOrder, Shipment, InventoryLevel, Invoice, ServiceRequest,
        DemandSignal, Lead, CampaignResponse,
    )
}  # fmt: skip


def model_for(entity: Entity | str) -> type[Record]:
    return MODELS[Entity(entity)]


__all__ = [
    "MODELS",
    "Address",
    "AddressKind",
    "Contact",
    "Customer",
    "CustomerKind",
    "Entity",
    "InventoryLevel",
    "Invoice",
    "LifecycleStatus",
    "Money",
    "OrderLine",
    "OrderStatus",
    "PaymentStatus",
    "Product",
    "Record",
    "SalesOrder",
    "ServiceRequest",
    "Shipment",
    "ShipmentLine",
    "model_for",
]
