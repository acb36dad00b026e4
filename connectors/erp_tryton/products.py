"""Writing products idempotently, found by their ``code`` (the SKU).

A write record (what ``mappings/tryton/product.from_canonical.yaml`` makes)::

    {"code": "TDM-GSK-085", "name": "Group Head Gasket 8.5 mm", "description": "...",
     "list_price": Decimal("6.90"), "unit": "u", "type": "goods", "salable": True,
     "category": "Goods", "active": True}

A new product is a ``product.template`` with one variant; ``unit`` (a ``product.uom`` symbol,
default ``u``) is its default and sale unit, ``category`` (an account category's name) gives
its taxes and accounts. An existing product gets the name, list price, description, salable
and active flags that differ; its unit is not changed (Tryton refuses once stock has moved).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Ack
from connectors.erp_tryton.changes import STAMP
from connectors.erp_tryton.lookups import Lookups, decimal, required
from connectors.erp_tryton.rpc import Row, TrytonRpc

_READ = (
    "code",
    "active",
    "description",
    "template.name",
    "template.list_price",
    "template.salable",
    "template.active",
    "template.account_category",
)
_ACTIVE_OR_NOT = ["OR", ("active", "=", True), ("active", "=", False)]


class ProductWriter:
    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc
        self.lookups = Lookups(rpc)

    def find(self, code: str) -> Row | None:
        rows = self.rpc.search_read(
            "product.product", [("code", "=", code), _ACTIVE_OR_NOT], _READ, limit=1
        )
        return rows[0] if rows else None

    def write(self, record: Mapping[str, Any]) -> Ack:
        what = f"Tryton product {record.get('code') or '<no code>'}"
        code = str(required(record, "code", what=what))
        name = required(record, "name", what=what)
        current = self.find(code)
        template = self._template_values(record, what)
        template["name"] = name
        if current is None:
            unit = self.lookups.need(
                "product.uom", "symbol", record.get("unit") or "u", what=what, path="unit"
            )
            variant: dict[str, Any] = {}  # its code is the template's (plus no suffix)
            if record.get("description"):
                variant["description"] = record["description"]
            if record.get("cost_price") is not None:
                variant["cost_price"] = decimal(record["cost_price"], what=what, path="cost_price")
            values = {
                "type": record.get("type") or "goods",
                "default_uom": unit,
                "sale_uom": unit,
                "salable": True,
                "code": code,
                **template,
                "products": [("create", [variant])],
            }
            (template_id,) = self.rpc.create("product.template", [values])
            (product_id,) = self.rpc.search(
                "product.product", [("template", "=", template_id)], limit=1
            )
            return self._ack(code, product_id, created=True)
        self._update(current, record, template)
        return self._ack(code, int(current["id"]), created=False)

    def _template_values(self, record: Mapping[str, Any], what: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if record.get("list_price") is not None:
            values["list_price"] = decimal(record["list_price"], what=what, path="list_price")
        for flag in ("salable", "active"):
            if record.get(flag) is not None:
                values[flag] = bool(record[flag])
        if record.get("category"):
            values["account_category"] = self.lookups.need(
                "product.category", "name", record["category"], what=what, path="category"
            )
        return values

    def _update(self, current: Row, record: Mapping[str, Any], wanted: dict[str, Any]) -> None:
        have = current.get("template") or {}
        changes = {
            name: value
            for name, value in wanted.items()
            if (have.get(name) if name != "active" else bool(have.get(name))) != value
        }
        if changes:
            self.rpc.write("product.template", [int(have["id"])], changes)
        description = record.get("description")
        if description and description != current.get("description"):
            self.rpc.write("product.product", [int(current["id"])], {"description": description})

    def _ack(self, code: str, product_id: int, *, created: bool) -> Ack:
        (row,) = self.rpc.read("product.product", [product_id], [STAMP, f"template.{STAMP}"])
        stamps = [row.get(STAMP), (row.get("template") or {}).get(STAMP)]
        stamp = max((s for s in stamps if s is not None), default=None)
        return Ack(
            key=code,
            external_id=str(product_id),
            version=stamp.isoformat() if stamp is not None else None,
            created=created,
            detail={"code": code},
        )
