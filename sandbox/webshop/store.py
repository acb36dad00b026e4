"""The shop's state behind the REST API: orders, notes, customers, products and their stock.

Every change sets ``date_modified``/``date_modified_gmt`` (second resolution, like WooCommerce)
and is reported to ``on_change(topic, payload)`` (``order.created``, ``order.updated``,
``customer.created``, ``customer.updated``, ``product.updated``). Stock follows WooCommerce:
an order's lines reduce stock once when it reaches processing, on-hold or completed, and
give it back when it is cancelled (WooCommerce's internal ``order_stock_reduced`` flag).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sandbox.webshop import products as new_products
from sandbox.webshop import query
from sandbox.webshop.lines import Json
from sandbox.webshop.query import Page, RestError, invalid_param
from sandbox.webshop.records import address, apply_customer, apply_meta, build_order, new_customer
from sandbox.webshop.seed import STATUS_LABELS, ShopData, seed_shop, stock_status, wc_dates

ChangeListener = Callable[[str, Json], None]
ORDER_STATUSES = tuple(STATUS_LABELS)
_REDUCING = ("processing", "on-hold", "completed")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORDER_KEYS: Mapping[str, Callable[[Json], Any]] = {
    "date": lambda o: o["date_created_gmt"],
    "id": lambda o: o["id"],
    "include": lambda o: 0,
    "title": lambda o: o["id"],
    "slug": lambda o: o["id"],
    "modified": lambda o: o["date_modified_gmt"],
}
_CUSTOMER_KEYS: Mapping[str, Callable[[Json], Any]] = {
    "id": lambda c: c["id"],
    "include": lambda c: 0,
    "name": lambda c: c["username"],
    "registered_date": lambda c: c["date_created_gmt"],
}
_PRODUCT_KEYS: Mapping[str, Callable[[Json], Any]] = {
    "date": lambda p: p["date_created_gmt"],
    "id": lambda p: p["id"],
    "include": lambda p: 0,
    "title": lambda p: p["name"],
    "slug": lambda p: p.get("slug", ""),
    "modified": lambda p: p["date_modified_gmt"],
    "price": lambda p: float(p["price"] or 0),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found(code: str, message: str = "Invalid ID.") -> RestError:
    return RestError(404, code, message)


class ShopStore:
    """Thread-safe shop data; every read returns a copy."""

    def __init__(
        self,
        seed: int = 1,
        site_url: str = "http://shop.example",
        *,
        clock: Callable[[], datetime] = _now,
        on_change: ChangeListener | None = None,
    ) -> None:
        self.site_url = site_url
        self.data: ShopData = seed_shop(seed, site_url)
        self._clock = clock
        self._lock = threading.RLock()
        self.on_change: ChangeListener = on_change or (lambda topic, payload: None)
        self._next_order_id = max(self.data.orders) + 1
        self._next_customer_id = max(self.data.customers) + 1
        # WooCommerce's internal order_stock_reduced flag (not part of meta_data)
        self._stock_reduced = {
            o["id"] for o in self.data.orders.values() if o["status"] in _REDUCING
        }

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """Test hook: the clock that stamps changes (a fixed one makes many share a second)."""
        with self._lock:
            self._clock = clock

    def _touch(self, record: Json) -> None:
        record.update(wc_dates("modified", self._clock()))

    def _emit(self, topic: str, record: Json) -> Json:
        snapshot = copy.deepcopy(record)
        self.on_change(topic, copy.deepcopy(snapshot))
        return snapshot

    # -- orders ------------------------------------------------------------------------

    def list_orders(self, params: Mapping[str, str]) -> Page:
        with self._lock:
            items = query.select(self.data.orders.values(), params)
            statuses = query.csv(params, "status")
            if statuses and "any" not in statuses:
                items = [o for o in items if o["status"] in statuses]
            if params.get("customer"):
                items = [o for o in items if str(o["customer_id"]) == params["customer"]]
            if params.get("product"):
                wanted = int(params["product"])
                items = [
                    o for o in items if any(li["product_id"] == wanted for li in o["line_items"])
                ]
            if params.get("search"):
                needle = params["search"].lower()
                items = [o for o in items if needle in repr(o).lower()]
            items = query.order_by(items, params, _ORDER_KEYS, ("date", "desc"))
            return _copied(query.paginate(items, params))

    def _order(self, order_id: int) -> Json:
        order = self.data.orders.get(order_id)
        if order is None:
            raise _not_found("woocommerce_rest_shop_order_invalid_id")
        return order

    def get_order(self, order_id: int) -> Json:
        with self._lock:
            return copy.deepcopy(self._order(order_id))

    def create_order(self, body: Json) -> Json:
        with self._lock:
            customer_id = int(body.get("customer_id") or 0)
            if customer_id and customer_id not in self.data.customers:
                raise RestError(
                    400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid."
                )
            if body.get("status") and body["status"] not in ORDER_STATUSES:
                raise _bad_status()
            order = build_order(body, self._next_order_id, self._clock(), self.site_url)
            self._next_order_id += 1
            apply_meta(order, body.get("meta_data"))
            self.data.orders[order["id"]] = order
            self._sync_stock(order)
            return self._emit("order.created", order)

    def store_raw_order(self, fields: Json) -> int:
        """Test hook, not part of the API: a new order with ``fields`` laid over it unchecked
        (``{"line_items": "garbled"}``), as a broken plugin might leave one; returns its id."""
        with self._lock:
            order = build_order({}, self._next_order_id, self._clock(), self.site_url)
            self._next_order_id += 1
            order.update(copy.deepcopy(fields))
            self.data.orders[order["id"]] = order
            return int(order["id"])

    def update_order(self, order_id: int, body: Json) -> Json:
        with self._lock:
            order = self._order(order_id)
            status = body.get("status")
            if status is not None and status not in ORDER_STATUSES:
                raise _bad_status()
            for name in ("billing", "shipping"):
                if isinstance(body.get(name), dict):
                    order[name].update(address(body[name], with_email=name == "billing"))
            for name in (
                "customer_note",
                "transaction_id",
                "payment_method",
                "payment_method_title",
            ):
                if name in body:
                    order[name] = str(body[name] or "")
            apply_meta(order, body.get("meta_data"))
            if body.get("set_paid") and status is None:
                status = "processing"
            if status is not None and status != order["status"]:
                self._set_status(order, status)
            self._touch(order)
            return self._emit("order.updated", order)

    def _set_status(self, order: Json, status: str) -> None:
        before, now = order["status"], self._clock()
        order["status"] = status
        if status in ("processing", "completed") and order["date_paid"] is None:
            order.update(wc_dates("paid", now))
        if status == "completed":
            order.update(wc_dates("completed", now))
        order["is_editable"] = status in ("pending", "on-hold")
        order["needs_payment"] = status in ("pending", "failed")
        text = f"Order status changed from {STATUS_LABELS[before]} to {STATUS_LABELS[status]}."
        self._add_note(order["id"], text, customer_note=False, author="system")
        self._sync_stock(order)

    def _sync_stock(self, order: Json) -> None:
        reduced = order["id"] in self._stock_reduced
        if order["status"] in _REDUCING and not reduced:
            sign = -1
            self._stock_reduced.add(order["id"])
        elif order["status"] == "cancelled" and reduced:
            sign = 1
            self._stock_reduced.discard(order["id"])
        else:
            return
        for line in order["line_items"]:
            product = self.data.products.get(line["variation_id"] or line["product_id"])
            if product is not None and product["manage_stock"]:
                product["stock_quantity"] += sign * int(line["quantity"])
                product["stock_status"] = stock_status(product)
                self._touch(product)
                self._emit("product.updated", product)

    # -- order notes -------------------------------------------------------------------

    def _add_note(self, order_id: int, text: str, *, customer_note: bool, author: str) -> Json:
        note = {
            "id": self.data.next_note_id,
            "author": author,
            **wc_dates("created", self._clock()),
            "note": text,
            "customer_note": customer_note,
        }
        self.data.next_note_id += 1
        self.data.notes.setdefault(order_id, []).append(note)
        return note

    def list_notes(self, order_id: int, note_type: str = "any") -> list[Json]:
        with self._lock:
            self._order(order_id)
            notes = self.data.notes.get(order_id, [])
            if note_type == "customer":
                notes = [n for n in notes if n["customer_note"]]
            elif note_type == "internal":
                notes = [n for n in notes if not n["customer_note"]]
            return copy.deepcopy(sorted(notes, key=lambda n: n["id"], reverse=True))

    def get_note(self, order_id: int, note_id: int) -> Json:
        for note in self.list_notes(order_id):
            if note["id"] == note_id:
                return note
        raise _not_found("woocommerce_rest_invalid_id", "Invalid resource ID.")

    def add_note(self, order_id: int, body: Json) -> Json:
        with self._lock:
            self._order(order_id)
            text = str(body.get("note") or "")
            if not text:
                raise RestError(
                    400, "rest_missing_callback_param", "Missing parameter(s): note", {"note": ""}
                )
            author = "admin" if body.get("added_by_user") else "system"
            note = self._add_note(
                order_id, text, customer_note=bool(body.get("customer_note")), author=author
            )
            return copy.deepcopy(note)

    # -- customers ---------------------------------------------------------------------

    def list_customers(self, params: Mapping[str, str]) -> Page:
        with self._lock:
            # WooCommerce's customers endpoint has no date filters: they are ignored, as there.
            only_ids = {k: v for k, v in params.items() if k in ("include", "exclude")}
            items = query.select(self.data.customers.values(), only_ids)
            role = params.get("role", "customer")
            if role != "all":
                items = [c for c in items if c["role"] == role]
            if params.get("email"):
                items = [c for c in items if c["email"].lower() == params["email"].lower()]
            if params.get("search"):
                needle = params["search"].lower()
                items = [
                    c
                    for c in items
                    if needle
                    in f"{c['email']} {c['username']} {c['first_name']} {c['last_name']}".lower()
                ]
            items = query.order_by(items, params, _CUSTOMER_KEYS, ("name", "asc"))
            return _copied(query.paginate(items, params))

    def _customer(self, customer_id: int) -> Json:
        customer = self.data.customers.get(customer_id)
        if customer is None:
            raise _not_found("woocommerce_rest_invalid_id", "Invalid resource ID.")
        return customer

    def get_customer(self, customer_id: int) -> Json:
        with self._lock:
            return copy.deepcopy(self._customer(customer_id))

    def _check_email(self, email: str, customer_id: int) -> None:
        if not _EMAIL.match(email):
            raise RestError(
                400, "registration-error-invalid-email", "Please provide a valid email address."
            )
        for other in self.data.customers.values():
            if other["email"].lower() == email.lower() and other["id"] != customer_id:
                raise RestError(
                    400,
                    "registration-error-email-exists",
                    "An account is already registered with your email address.",
                )

    def create_customer(self, body: Json) -> Json:
        with self._lock:
            email = str(body.get("email") or "")
            if not email:
                raise RestError(
                    400, "rest_missing_callback_param", "Missing parameter(s): email", {"email": ""}
                )
            customer_id = self._next_customer_id
            self._check_email(email, customer_id)
            customer = new_customer(customer_id, email, body, self._clock(), self.site_url)
            self._next_customer_id += 1
            self.data.customers[customer_id] = customer
            return self._emit("customer.created", customer)

    def update_customer(self, customer_id: int, body: Json) -> Json:
        with self._lock:
            customer = self._customer(customer_id)
            if body.get("email"):
                self._check_email(str(body["email"]), customer_id)
            apply_customer(customer, body)
            self._touch(customer)
            return self._emit("customer.updated", customer)

    # -- products ----------------------------------------------------------------------

    def list_products(self, params: Mapping[str, str], parent: int | None = None) -> Page:
        with self._lock:
            if parent is None:
                items = [p for p in self.data.products.values() if p["type"] != "variation"]
            else:
                items = [p for p in self.data.products.values() if p["parent_id"] == parent]
            items = query.select(items, params)
            for name in ("sku", "type", "stock_status", "status"):
                if params.get(name) and params[name] != "any":
                    items = [p for p in items if p.get(name) == params[name]]
            if params.get("search"):
                items = [p for p in items if params["search"].lower() in p["name"].lower()]
            items = query.order_by(items, params, _PRODUCT_KEYS, ("date", "desc"))
            return _copied(query.paginate(items, params))

    def _product(self, product_id: int, parent: int | None = None) -> Json:
        product = self.data.products.get(product_id)
        variation = product is not None and product["type"] == "variation"
        if (
            product is None
            or variation != (parent is not None)
            or (parent is not None and product["parent_id"] != parent)
        ):
            code = (
                "woocommerce_rest_product_variation_invalid_id"
                if parent
                else "woocommerce_rest_product_invalid_id"
            )
            raise _not_found(code)
        return product

    def get_product(self, product_id: int, parent: int | None = None) -> Json:
        with self._lock:
            return copy.deepcopy(self._product(product_id, parent))

    def create_product(self, body: Json) -> Json:
        with self._lock:
            new_products.validate(body, self.data.products)
            product_id = max(self.data.products) + 1
            product = new_products.new_product(product_id, body, self._clock(), self.site_url)
            self.data.products[product_id] = product
            return self._emit("product.created", product)

    def update_product(self, product_id: int, body: Json, parent: int | None = None) -> Json:
        with self._lock:
            product = self._product(product_id, parent)
            new_products.validate(body, self.data.products, product_id)
            if "manage_stock" in body:
                product["manage_stock"] = bool(body["manage_stock"])
            if "stock_quantity" in body and body["stock_quantity"] is not None:
                try:
                    product["stock_quantity"] = int(body["stock_quantity"])
                except (TypeError, ValueError):
                    raise invalid_param(
                        "stock_quantity", "stock_quantity is not of type integer."
                    ) from None
            if "stock_status" in body and not product["manage_stock"]:
                if body["stock_status"] not in ("instock", "outofstock", "onbackorder"):
                    raise invalid_param(
                        "stock_status",
                        "stock_status is not one of instock, outofstock, and onbackorder.",
                    )
                product["stock_status"] = body["stock_status"]
            for name in ("regular_price", "sale_price", *new_products.TEXTS):
                if name in body:
                    product[name] = str(body[name])
            product["price"] = product["sale_price"] or product["regular_price"]
            product["on_sale"] = bool(product["sale_price"])
            product["stock_status"] = stock_status(product)
            apply_meta(product, body.get("meta_data"))
            self._touch(product)
            return self._emit("product.updated", product)


def _copied(page: Page) -> Page:
    # A JSON round trip copies these plain records several times faster than deepcopy.
    return Page(json.loads(json.dumps(page.items)), page.total, page.total_pages, page.page)


def _bad_status() -> RestError:
    allowed = ", ".join(ORDER_STATUSES[:-1]) + f", and {ORDER_STATUSES[-1]}"
    return invalid_param("status", f"status is not one of {allowed}.")
