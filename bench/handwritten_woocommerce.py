"""The hand-written WooCommerce order mapping the engine replaced: the benchmark's baseline.

Kept as it was (field helpers included) so ``bench.bench_mapping`` can compare the engine with
plain Python doing the same mapping, in the same run. Not used by the product.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import ValidationError

from canonical.errors import FieldError, InvalidRecord
from canonical.models import (
    Address,
    AddressKind,
    Customer,
    CustomerKind,
    Money,
    OrderLine,
    OrderStatus,
    SalesOrder,
)

T = TypeVar("T")
_MISSING = object()


def get_path(record: Any, path: str) -> Any:
    """Follow ``a.b[2].c`` into nested dicts/lists; a missing step gives ``_MISSING``."""
    current = record
    for part in path.replace("]", "").replace("[", ".").split("."):
        if part == "":
            continue
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


class FieldCollector:
    """Reads fields of one source record, remembering every problem with its field path."""

    def __init__(self, source: str, entity: str, record: Any, record_id: str | None) -> None:
        self.source, self.entity, self.record, self.record_id = source, entity, record, record_id
        self.errors: list[FieldError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raw(self, path: str) -> Any:
        value = get_path(self.record, path)
        return None if value is _MISSING else value

    def text(self, path: str, *, required: bool = False) -> str | None:
        value = self.raw(path)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(path, "is required but missing or empty")
            return None
        if isinstance(value, (dict, list)):
            self.error(path, f"expected text, got {type(value).__name__}")
            return None
        return str(value).strip()

    def parse(self, path: str, parser: Callable[[Any], T], *, required: bool = False) -> T | None:
        value = self.raw(path)
        if value is None or value == "":
            if required:
                self.error(path, "is required but missing or empty")
            return None
        try:
            return parser(value)
        except (ValueError, TypeError, ArithmeticError) as exc:
            self.error(path, str(exc))
            return None

    def absorb(self, prefix: str, exc: ValidationError) -> None:
        """Turn a pydantic validation error into field errors under ``prefix``."""
        for err in exc.errors():
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            self.error(f"{prefix}{loc}".lstrip("."), err["msg"])

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidRecord(self.source, self.record_id, self.errors, entity=self.entity)


def decimal(value: Any) -> Decimal:
    """An exact decimal from a JSON string or integer. Floats are refused: they are not exact."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{value!r} is not an exact decimal (send amounts as strings)")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def quantity(value: Any) -> Decimal:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = decimal(value)
    if result <= 0:
        raise ValueError(f"{value!r} is not a positive quantity")
    return result


def utc_naive_iso(value: Any) -> datetime:
    """A timestamp that the source gives in UTC without an offset (WooCommerce's ``*_gmt``)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


SYSTEM = "webshop"

ORDER_STATUS: dict[str, OrderStatus] = {
    "pending": OrderStatus.RECEIVED,
    "on-hold": OrderStatus.RECEIVED,
    "checkout-draft": OrderStatus.RECEIVED,
    "processing": OrderStatus.ACCEPTED,
    "completed": OrderStatus.SHIPPED,
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.CANCELLED,
    "failed": OrderStatus.CANCELLED,
    "trash": OrderStatus.CANCELLED,
}
"""WooCommerce order status -> canonical status."""

DELIVERABLE_STATUSES = frozenset({"processing", "on-hold", "completed"})
"""Orders the ERP should see: paid or held for review. ``pending`` waits for payment."""


@dataclass(frozen=True)
class MappedOrder:
    customer: Customer
    customer_key: str  # the web shop's id for the customer, as kept in xref
    order: SalesOrder
    order_key: str  # the web shop's order id, as kept in xref
    source_status: str


def order_id_of(order: Any) -> str | None:
    if isinstance(order, Mapping) and order.get("id") not in (None, ""):
        return str(order["id"])
    return None


def order_number_of(order: Mapping[str, Any]) -> str | None:
    number = order.get("number") or order.get("id")
    return None if number in (None, "") else str(number)


def _subdivision(state: str | None, country: str | None) -> str | None:
    """WooCommerce uses ISO 3166-2 codes, some with the country prefix (``DE-BE``): drop it."""
    if state and country and state.upper().startswith(f"{country.upper()}-"):
        return state[len(country) + 1 :]
    return state


def _address(f: FieldCollector, prefix: str, kind: AddressKind) -> Address | None:
    street = f.text(f"{prefix}.address_1")
    if street is None:
        return None
    first, last = f.text(f"{prefix}.first_name"), f.text(f"{prefix}.last_name")
    name = " ".join(p for p in (first, last) if p) or None
    try:
        return Address(
            kind=kind,
            name=name,
            company=f.text(f"{prefix}.company"),
            street=street,
            street2=f.text(f"{prefix}.address_2"),
            city=f.text(f"{prefix}.city", required=True) or "?",
            postal_code=f.text(f"{prefix}.postcode"),
            subdivision=_subdivision(f.text(f"{prefix}.state"), f.text(f"{prefix}.country")),
            country=f.text(f"{prefix}.country", required=True) or "ZZ",
        )
    except ValidationError as exc:
        f.absorb(prefix, exc)
        return None


def _customer(f: FieldCollector, currency: str | None) -> tuple[Customer | None, str | None]:
    email = f.text("billing.email")
    customer_id = f.raw("customer_id")
    if customer_id not in (None, 0, "0", ""):
        key: str | None = str(customer_id)
    elif email:
        key = f"guest:{email.lower()}"
    else:
        f.error("billing.email", "is required for a guest order (customer_id is 0)")
        key = None
    first, last = f.text("billing.first_name"), f.text("billing.last_name")
    company = f.text("billing.company")
    person = " ".join(p for p in (first, last) if p)
    name = company or person
    if not name:
        f.error("billing.first_name", "a customer needs a name or a company")
        return None, key
    billing = _address(f, "billing", AddressKind.BILLING)
    shipping = _address(f, "shipping", AddressKind.SHIPPING)
    try:
        customer = Customer(
            kind=CustomerKind.ORGANISATION if company else CustomerKind.PERSON,
            name=name,
            first_name=first,
            last_name=last,
            email=email,
            phone=f.text("billing.phone"),
            addresses=tuple(a for a in (billing, shipping) if a is not None),
            currency=currency,
        )
    except ValidationError as exc:
        f.absorb("billing", exc)
        return None, key
    return customer, key


def _money(f: FieldCollector, path: str, currency: str, *, required: bool = False) -> Money | None:
    amount = f.parse(path, decimal, required=required)
    return None if amount is None else Money(amount=amount, currency=currency)


def _line(f: FieldCollector, index: int, currency: str) -> OrderLine | None:
    p = f"line_items[{index}]"
    qty = f.parse(f"{p}.quantity", quantity, required=True)
    subtotal = f.parse(f"{p}.subtotal", decimal, required=True)
    total = f.parse(f"{p}.total", decimal, required=True)
    sku = f.text(f"{p}.sku")
    if sku is None:
        variation = f.raw(f"{p}.variation_id")
        product = variation if variation not in (None, 0, "0") else f.raw(f"{p}.product_id")
        if product in (None, 0, "0", ""):
            f.error(f"{p}.sku", "neither a SKU nor a product_id identifies the item")
            return None
        sku = f"WC-{product}"
    if qty is None or subtotal is None or total is None:
        return None
    tax = f.parse(f"{p}.total_tax", decimal)
    unit_price = (subtotal / qty).quantize(Decimal("0.0001")).normalize()
    name = f.text(f"{p}.name")
    try:
        return OrderLine(
            line_number=index + 1,
            sku=sku,
            description=html.unescape(name).strip() or None if name else None,
            quantity=qty,
            unit_price=Money(amount=unit_price, currency=currency),
            discount=Money(amount=subtotal - total, currency=currency),
            line_total=Money(amount=total, currency=currency),
            tax=None if tax is None else Money(amount=tax, currency=currency),
        )
    except ValidationError as exc:
        f.absorb(p, exc)
        return None


def map_order(order: Any, *, source: str = SYSTEM) -> MappedOrder:
    """Map one WooCommerce order; raises ``InvalidRecord`` listing *every* bad field."""
    f = FieldCollector(source, "order", order, order_id_of(order))
    if not isinstance(order, Mapping):
        f.error("", f"an order must be a JSON object, got {type(order).__name__}")
        f.raise_if_errors()
    order_key = f.text("id", required=True)
    number = order_number_of(order) if isinstance(order, Mapping) else None
    currency = f.text("currency", required=True)
    status = f.text("status", required=True) or ""
    if status and status not in ORDER_STATUS:
        f.error("status", f"unknown WooCommerce order status {status!r}")
    created = f.parse("date_created_gmt", utc_naive_iso, required=True)
    modified = f.parse("date_modified_gmt", utc_naive_iso) or created
    customer, customer_key = _customer(f, currency)
    items = f.raw("line_items")
    lines: list[OrderLine] = []
    if not isinstance(items, list) or not items:
        f.error("line_items", "an order needs at least one line item")
    elif currency:
        lines = [line for i in range(len(items)) if (line := _line(f, i, currency))]
    money: dict[str, Money | None] = {}
    if currency:
        money = {
            "total": _money(f, "total", currency, required=True),
            "tax_total": _money(f, "total_tax", currency),
            "shipping_total": _money(f, "shipping_total", currency),
            "discount_total": _money(f, "discount_total", currency),
        }
    f.raise_if_errors()
    coupons = f.raw("coupon_lines") or []
    try:
        sales_order = SalesOrder(
            order_number=number or order_key or "?",
            customer_ref=customer_key,
            status=ORDER_STATUS[status],
            ordered_at=created,
            updated_at=modified,
            currency=currency or "XXX",
            lines=tuple(lines),
            billing_address=_address(f, "billing", AddressKind.BILLING),
            shipping_address=_address(f, "shipping", AddressKind.SHIPPING),
            payment_method=f.text("payment_method"),
            customer_note=f.text("customer_note"),
            coupon_codes=tuple(str(c.get("code")) for c in coupons if isinstance(c, Mapping)),
            **money,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        f.absorb("", exc)
        f.raise_if_errors()
        raise
    assert customer is not None and customer_key is not None and order_key is not None
    return MappedOrder(customer, customer_key, sales_order, order_key, status)
