"""The CRM's records and relationships, with SuiteCRM's list semantics (filter, sort, pages).

Filters compare like SuiteCRM's SQL: text case-insensitively (MySQL's default collation),
numbers as numbers, datetimes as instants (``2025-03-01 09:30:00`` or ISO 8601; without an
offset UTC). Deleting marks a record ``deleted = "1"``; lists and reads skip it unless
``filter[deleted][eq]=1`` asks for it.
"""

from __future__ import annotations

import copy
import math
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.crm.modules import (
    DATETIME_FIELDS,
    MODULES,
    OWN_ACCOUNT_NAME,
    SYSTEM_FIELDS,
    Module,
    link_between,
)

Attributes = dict[str, str]
_OPS: Mapping[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}
ADMIN_ID = "1"


class CrmError(Exception):
    """An API error; SuiteCRM shows it as ``{"errors": {"status", "title", "detail"}}``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _comparable(field: str, value: str) -> Any:
    if field in DATETIME_FIELDS:
        return _instant(value) if value else datetime.min.replace(tzinfo=UTC)
    try:
        return Decimal(value)
    except InvalidOperation:
        return value.casefold()


def module(name: str) -> Module:
    spec = MODULES.get(name)
    if spec is None:
        raise CrmError(400, f"Module {name} does not exist")
    return spec


class CrmStore:
    """Thread-safe records by module and id, and the links between them."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.records: dict[str, dict[str, Attributes]] = {name: {} for name in MODULES}
        self.links: set[tuple[str, str, str, str]] = set()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._next_case_number = 1

    # -- reading -------------------------------------------------------------------------

    def _live(self, name: str, record_id: str) -> Attributes:
        spec = module(name)
        record = self.records[name].get(record_id)
        if record is None or record["deleted"] == "1":
            raise CrmError(404, f"The {spec.bean} with id {record_id} is not found")
        return record

    def get(self, name: str, record_id: str) -> Attributes:
        with self._lock:
            return self._shown(name, self._live(name, record_id))

    def _shown(self, name: str, record: Attributes) -> Attributes:
        shown = copy.copy(record)
        if "account_name" in shown and name not in OWN_ACCOUNT_NAME:
            account = self.records["Accounts"].get(shown.get("account_id", ""))
            shown["account_name"] = account["name"] if account else ""
        return shown

    def find(
        self,
        name: str,
        filters: Mapping[str, Mapping[str, str]],
        operator: str = "and",
        sort: str = "",
        page: tuple[int, int] | None = None,
    ) -> tuple[list[tuple[str, Attributes]], int]:
        """Matching ``(id, attributes)`` for ``page`` ``(number, size)`` and the page count."""
        spec = module(name)
        tests: list[Callable[[Attributes], bool]] = []
        wanted = dict(filters)
        wanted.setdefault("deleted", {"eq": "0"})
        for field, expr in wanted.items():
            if field not in spec.fields and field != "id":
                raise CrmError(400, f"Filter field {field} in {spec.bean} module is not found")
            for op, value in expr.items():
                if op.lower() not in _OPS:
                    raise CrmError(400, f"Filter operator {op} is invalid")
                tests.append(_test(field, _OPS[op.lower()], value))
        combine = any if operator.lower() == "or" else all
        with self._lock:
            rows = [
                (record_id, self._shown(name, record))
                for record_id, record in self.records[name].items()
                if combine(test({**record, "id": record_id}) for test in tests)
            ]
        field = sort.lstrip("-")
        if field and field not in spec.fields and field != "id":
            raise CrmError(400, f"Sort field {field} in {spec.bean} module is not found")
        key = field or "date_entered"
        if key == "id":  # the bean's id column (not an attribute), as SuiteCRM sorts it
            rows.sort(key=lambda row: row[0].casefold())
        else:
            rows.sort(key=lambda row: (_comparable(key, row[1].get(key, "")), row[0]))
        if sort.startswith("-"):
            rows.reverse()
        if page is None:
            return rows, 1
        number, size = page
        start = (max(number, 1) - 1) * size
        return rows[start : start + size], math.ceil(len(rows) / size)

    # -- writing -------------------------------------------------------------------------

    def create(self, name: str, attributes: Mapping[str, Any], record_id: str | None) -> str:
        spec = module(name)
        _check_fields(spec, attributes)
        with self._lock:
            if record_id and record_id in self.records[name]:
                raise CrmError(400, f"Bean {name} with id {record_id} is already exist")
            now = iso(self._clock())
            record: Attributes = {field: "" for field in spec.fields}
            record.update(
                date_entered=now,
                date_modified=now,
                created_by=ADMIN_ID,
                created_by_name="admin",
                modified_user_id=ADMIN_ID,
                modified_by_name="admin",
                deleted="0",
            )
            if name == "Cases":
                record["case_number"] = str(self._next_case_number)
                self._next_case_number += 1
            record_id = record_id or str(uuid.uuid4())
            self.records[name][record_id] = record
            self._assign(name, record_id, record, attributes)
            return record_id

    def update(self, name: str, record_id: str, attributes: Mapping[str, Any]) -> None:
        spec = module(name)
        _check_fields(spec, attributes)
        with self._lock:
            record = self._live(name, record_id)
            self._assign(name, record_id, record, attributes)
            if "date_modified" not in attributes:
                record["date_modified"] = iso(self._clock())

    def _assign(
        self, name: str, record_id: str, record: Attributes, attributes: Mapping[str, Any]
    ) -> None:
        for field, value in attributes.items():
            if field not in SYSTEM_FIELDS or (field == "account_name" and name in OWN_ACCOUNT_NAME):
                record[field] = "" if value is None else str(value)
        if name == "Contacts" and ({"first_name", "last_name"} & set(attributes)):
            record["name"] = f"{record['first_name']} {record['last_name']}".strip()
        if record.get("account_id") and record["account_id"] in self.records["Accounts"]:
            self._link(name, record_id, "Accounts", record["account_id"])
        parent_type, parent_id = record.get("parent_type", ""), record.get("parent_id", "")
        if parent_type in MODULES and parent_id in self.records[parent_type]:
            self._link(name, record_id, parent_type, parent_id)

    def delete(self, name: str, record_id: str) -> None:
        with self._lock:
            record = self._live(name, record_id)
            record["deleted"] = "1"
            record["date_modified"] = iso(self._clock())

    # -- relationships -------------------------------------------------------------------

    def _link(self, name: str, record_id: str, other: str, other_id: str) -> None:
        self.links.add((name, record_id, other, other_id))
        self.links.add((other, other_id, name, record_id))
        for mod, rid, rel, rel_id in (
            (name, record_id, other, other_id),
            (other, other_id, name, record_id),
        ):
            record = self.records[mod][rid]
            if rel == "Accounts" and "account_id" in record and not record["account_id"]:
                record["account_id"] = rel_id
            if mod == "Leads" and rel == "Contacts" and not record["contact_id"]:
                record["contact_id"] = rel_id  # the contact a converted lead became

    def related(self, name: str, record_id: str, link: str) -> list[tuple[str, str]]:
        spec = module(name)
        target = spec.links.get(link)
        if target is None:
            raise CrmError(400, f"Link field {link} in {spec.bean} module is not found")
        with self._lock:
            self._live(name, record_id)
            return sorted(
                (target, rel_id)
                for mod, rid, rel, rel_id in self.links
                if (mod, rid, rel) == (name, record_id, target)
                and self.records[rel][rel_id]["deleted"] == "0"
            )

    def relate(self, name: str, record_id: str, other: str, other_id: str) -> None:
        spec = module(name)
        if link_between(name, other) is None:
            raise CrmError(400, f"Module {other} is not related to {spec.bean}")
        with self._lock:
            self._live(name, record_id)
            self._live(other, other_id)
            self._link(name, record_id, other, other_id)

    def unrelate(self, name: str, record_id: str, link: str, other_id: str) -> str:
        with self._lock:
            other = next(
                (rel for rel, rel_id in self.related(name, record_id, link) if rel_id == other_id),
                None,
            )
            if other is None:
                raise CrmError(
                    400, f"Module with {other_id} id is not related to {module(name).bean}"
                )
            self.links.discard((name, record_id, other, other_id))
            self.links.discard((other, other_id, name, record_id))
            for mod, rid, rel_id in ((name, record_id, other_id), (other, other_id, record_id)):
                if self.records[mod][rid].get("account_id") == rel_id:
                    self.records[mod][rid]["account_id"] = ""
            return other


def _test(field: str, op: Callable[[Any, Any], bool], value: str) -> Callable[[Attributes], bool]:
    try:
        wanted = _comparable(field, value)
    except ValueError:
        raise CrmError(400, f"Filter value {value} of {field} is not a valid date") from None

    def test(record: Attributes) -> bool:
        have = _comparable(field, record.get(field, ""))
        if type(have) is not type(wanted):
            have, want = str(record.get(field, "")).casefold(), str(value).casefold()
            return op(have, want)
        return op(have, wanted)

    return test


def _check_fields(spec: Module, attributes: Mapping[str, Any]) -> None:
    for field in attributes:
        if field not in spec.fields:
            raise CrmError(400, f"Property {field} in {spec.name} module is invalid")
