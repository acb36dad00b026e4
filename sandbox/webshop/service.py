"""The shop's service request form, as a WordPress form plugin plus a WooCommerce webhook send it.

WooCommerce has no service requests. A shop that takes them has a form ("Request service" on
the order page of *My account*, or a contact page) whose plugin stores each submission as an
entry and fires a WordPress action with it; a WooCommerce webhook on the topic
``action.tandem_service_request`` delivers that action like any other webhook (signed, same
headers) with WooCommerce's payload for action topics: ``{"action": <hook>, "arg": <entry>}``.

An entry::

    {"id": 3, "form": "service-request", "date_created_gmt": "2026-11-23T15:04:05",
     "customer_id": 17, "name": "...", "email": "...", "phone": "...",
     "order_id": 1042, "order_number": "1042", "subject": "...", "message": "...",
     "part_sku": "TDM-GRD-200", "part_quantity": 1, "priority": "normal",
     "shipping": {WooCommerce address of the order, else of the customer}}

``customer_id`` is the registered customer of that e-mail address (0 for a guest);
``order_id`` 0 when the request names no order. ``POST /service-request`` (JSON or a form
post, no API key: it is a public page) submits one; ``GET /service-request/<id>`` shows it.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

from sandbox.webshop.lines import Json
from sandbox.webshop.query import RestError
from sandbox.webshop.store import ShopStore

ACTION = "tandem_service_request"
TOPIC = f"action.{ACTION}"
PRIORITIES = ("low", "normal", "high", "urgent")


def _text(body: Json, name: str) -> str:
    value = body.get(name)
    return "" if value is None else str(value).strip()


def _int(body: Json, name: str, default: int) -> int:
    raw = _text(body, name)
    if not raw:
        return default
    if not raw.isdigit():
        raise RestError(400, "invalid_field", f"{name} must be a whole number", {name: raw})
    return int(raw)


class ServiceForm:
    """Entries of the service request form; each submission is emitted as the action topic."""

    def __init__(self, store: ShopStore) -> None:
        self.store = store
        self.entries: dict[int, Json] = {}
        self._lock = threading.Lock()
        self._next_id = 1

    def submit(self, body: Json) -> Json:
        missing = [n for n in ("name", "email", "subject", "message") if not _text(body, n)]
        if missing:
            raise RestError(400, "missing_fields", f"required: {', '.join(missing)}")
        priority = _text(body, "priority") or "normal"
        if priority not in PRIORITIES:
            raise RestError(400, "invalid_field", f"priority must be one of {PRIORITIES}")
        email = _text(body, "email").lower()
        order_id = _int(body, "order_id", 0)
        order = self.store.get_order(order_id) if order_id else None  # 404 for an unknown one
        customer = self._customer(email)
        shipping = (order or {}).get("shipping") or (customer or {}).get("shipping") or {}
        sku = _text(body, "part_sku")
        with self._lock:
            entry: Json = {
                "id": self._next_id,
                "form": "service-request",
                "date_created_gmt": datetime.now(UTC)
                .replace(tzinfo=None)
                .isoformat(timespec="seconds"),
                "customer_id": (customer or {}).get("id", 0),
                "name": _text(body, "name"),
                "email": email,
                "phone": _text(body, "phone"),
                "order_id": order_id,
                "order_number": str((order or {}).get("number") or ""),
                "subject": _text(body, "subject"),
                "message": _text(body, "message"),
                "part_sku": sku,
                "part_quantity": _int(body, "part_quantity", 1) if sku else 0,
                "priority": priority,
                "shipping": copy.deepcopy(shipping),
            }
            self.entries[entry["id"]] = entry
            self._next_id += 1
        self.store.on_change(TOPIC, {"action": ACTION, "arg": copy.deepcopy(entry)})
        return copy.deepcopy(entry)

    def get(self, entry_id: int) -> Json:
        with self._lock:
            entry = self.entries.get(entry_id)
            if entry is None:
                raise RestError(404, "invalid_entry", "No such entry.")
            return copy.deepcopy(entry)

    def _customer(self, email: str) -> Any:
        page = self.store.list_customers({"email": email, "role": "all"})
        return page.items[0] if page.items else None
