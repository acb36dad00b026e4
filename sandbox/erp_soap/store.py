"""The sandbox ERP's records: in memory behind one lock, optionally persisted to a JSON file.

Records are plain dicts of lexical XSD values keyed by page and ``No``. Every change bumps a
global row version (like SQL Server's rowversion behind NAV) that is encoded in the record's
``Key``; an Update carrying an older Key is refused the way NAV refuses it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.erp_soap.filters import compile_criteria
from sandbox.erp_soap.pages import XS_BOOLEAN, XS_DECIMAL, PageSpec, SubPage
from sandbox.erp_soap.rules import RULES, BusinessError

Record = dict[str, Any]
VERSION = "_version"


def encode_key(table_id: int, ident: str, version: int) -> str:
    token = base64.b64encode(ident.encode()).decode()
    return f"{table_id};{token};{version};"


def decode_key(key: str) -> tuple[str, int]:
    """(identity, version) of a Key; BusinessError when it is not one of ours."""
    try:
        _table, token, version, _ = key.split(";")
        return base64.b64decode(token, validate=True).decode(), int(version)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BusinessError(f"The key '{key}' is not valid.") from exc


def _stale(page: str) -> BusinessError:
    return BusinessError(
        f"Another user has modified the record for this {page.replace('_', ' ')} after you "
        "retrieved it from the database.\n\nEnter your changes again in the updated window, "
        "or start the interrupted activity again."
    )


def _missing(page: str, no: str) -> BusinessError:
    return BusinessError(
        f"The {page.replace('_', ' ')} does not exist. Identification fields and values: No.='{no}'"
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Thread-safe record store for all pages; ``path`` makes it survive a restart.

    It is also the rules' ``Context``: ``strict_items`` (Item lines must name an existing item)
    and ``allow_negative_inventory`` are the business knobs; ``clock`` stamps modifications.
    """

    def __init__(self, pages: Mapping[str, PageSpec], path: Path | None = None) -> None:
        self.pages = dict(pages)
        self.path = path
        self.lock = threading.RLock()
        self.records: dict[str, dict[str, Record]] = {name: {} for name in self.pages}
        self.series: dict[str, int] = {n: p.number_series.start for n, p in self.pages.items()}
        self.version = 0
        self.strict_items = True
        self.allow_negative_inventory = False
        self.clock: Callable[[], datetime] = _utc_now
        self._deferred = 0
        if path is not None and path.exists():
            self._load(path)

    # -- persistence -------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text(encoding="utf-8"))
        self.version = int(state["version"])
        self.series.update(state["series"])
        for page, records in state["records"].items():
            self.records.setdefault(page, {}).update(records)

    def _save(self) -> None:
        if self.path is None or self._deferred:
            return
        state = {"version": self.version, "series": self.series, "records": self.records}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many changes, one write of the state file at the end (seeding)."""
        with self.lock:
            self._deferred += 1
            try:
                yield
            finally:
                self._deferred -= 1
                self._save()

    # -- views -------------------------------------------------------------------------------

    def lookup(self, page: str, no: str) -> Record | None:
        with self.lock:
            record = self.records.get(page, {}).get(no)
            return copy.deepcopy(record) if record is not None else None

    def count(self, page: str) -> int:
        with self.lock:
            return len(self.records.get(page, {}))

    def is_empty(self) -> bool:
        with self.lock:
            return not any(self.records.values())

    def view(self, spec: PageSpec, record: Record) -> Record:
        """The record as the page shows it: with Keys, FlowFields computed, without internal
        fields."""
        out = {k: v for k, v in record.items() if not k.startswith("_")}
        for name in spec.flow_fields:
            out[name] = FLOW_FIELDS[name](self, record)
        out["Key"] = encode_key(spec.table_id, record["No"], record[VERSION])
        if spec.lines is not None:
            out[spec.lines.element] = [
                self._line_view(spec, record["No"], line)
                for line in record.get(spec.lines.element, [])
            ]
        return out

    @staticmethod
    def _line_view(spec: PageSpec, no: str, line: Record) -> Record:
        assert spec.lines is not None
        out = {k: v for k, v in line.items() if not k.startswith("_")}
        ident = f"{no}|{line[spec.lines.line_no_field]}"
        out["Key"] = encode_key(spec.lines.table_id, ident, line[VERSION])
        return out

    # -- operations --------------------------------------------------------------------------

    def read(self, spec: PageSpec, no: str) -> Record | None:
        with self.lock:
            record = self.records[spec.name].get(no)
            return self.view(spec, record) if record is not None else None

    def read_multiple(
        self,
        spec: PageSpec,
        filters: Iterable[tuple[str, str]],
        bookmark_key: str | None,
        set_size: int,
    ) -> list[Record]:
        predicates = []
        for field_name, criteria in filters:
            if criteria == "":  # as in NAV: an empty criteria removes the filter
                continue
            f = spec.field(field_name)
            xs_type = f.xs_type if f is not None and not f.enum else "string"
            predicates.append((field_name, compile_criteria(criteria, xs_type)))
        after = decode_key(bookmark_key)[0] if bookmark_key else None
        with self.lock:
            rows = sorted(self.records[spec.name].items())
            found: list[Record] = []
            for no, record in rows:
                if after is not None and no <= after:
                    continue
                if all(pred(_text(record.get(name))) for name, pred in predicates):
                    found.append(self.view(spec, record))
                    if 0 < set_size <= len(found):
                        break
            return found

    def create(self, spec: PageSpec, incoming: Record) -> Record:
        with self.lock:
            table = self.records[spec.name]
            series = dict(self.series)
            no = incoming.get("No") or self._next_no(spec)
            if no in table:
                raise BusinessError(
                    f"The record in table {spec.name.replace('_', ' ')} already exists. "
                    f"Identification fields and values: No.='{no}'"
                )
            record: Record = _defaults(spec)
            record.update(_writable(spec, incoming))
            record["No"] = no
            if spec.lines is not None:
                record[spec.lines.element] = []
                self._merge_lines(spec, record, incoming.get(spec.lines.element) or [])
            try:
                return self._commit(spec, record)
            except BusinessError:
                self.series = series  # a refused record does not use up a number
                raise

    def update(self, spec: PageSpec, incoming: Record) -> Record:
        with self.lock:
            no, version = decode_key(str(incoming.get("Key") or ""))
            current = self.records[spec.name].get(no)
            if current is None:
                raise _missing(spec.name, no)
            if current[VERSION] != version:
                raise _stale(spec.name)
            if incoming.get("No") not in (None, no):
                raise BusinessError(f"You cannot rename a {spec.name.replace('_', ' ')}.")
            record = copy.deepcopy(current)
            record.update(_writable(spec, incoming))
            if spec.lines is not None:
                self._merge_lines(spec, record, incoming.get(spec.lines.element) or [])
            return self._commit(spec, record)

    def delete(self, spec: PageSpec, key: str) -> bool:
        with self.lock:
            no, version = decode_key(key)
            current = self.records[spec.name].get(no)
            if current is None:
                raise _missing(spec.name, no)
            if current[VERSION] != version:
                raise _stale(spec.name)
            for rule in spec.delete_rules:
                RULES[rule](copy.deepcopy(current), self)
            del self.records[spec.name][no]
            self._save()
            return True

    def delete_line(self, spec: PageSpec, key: str) -> bool:
        sub = spec.lines
        assert sub is not None
        with self.lock:
            ident, version = decode_key(key)
            no, _, line_no = ident.rpartition("|")
            current = self.records[spec.name].get(no)
            if current is None:
                raise _missing(spec.name, no)
            record = copy.deepcopy(current)
            lines: list[Record] = record[sub.element]
            line = next((x for x in lines if x[sub.line_no_field] == line_no), None)
            if line is None:
                raise BusinessError(f"The {sub.record.replace('_', ' ')} does not exist.")
            if line[VERSION] != version:
                raise _stale(sub.record)
            lines.remove(line)
            self._commit(spec, record)
            return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing for the *Multiple operations, as NAV runs them in one transaction."""
        with self.lock:
            snapshot = copy.deepcopy((self.records, self.series, self.version))
            try:
                yield
            except BaseException:
                self.records, self.series, self.version = snapshot
                self._save()
                raise

    def is_updated(self, spec: PageSpec, key: str) -> bool:
        with self.lock:
            no, version = decode_key(key)
            current = self.records[spec.name].get(no)
            return current is None or current[VERSION] != version

    # -- system writes (posting): no page rules, no Key check -----------------------------------

    def put(self, spec: PageSpec, record: Record) -> Record:
        """Stores a record as the system changes it (new version, modification stamp)."""
        with self.lock:
            if not record.get("No"):
                record["No"] = self._next_no(spec)
            record.setdefault(VERSION, -1)
            if spec.lines is not None:
                for line in record.setdefault(spec.lines.element, []):
                    line.setdefault(VERSION, -1)
            return self._commit(spec, record, rules=False)

    def set_flow_fields(self, page: str, no: str, values: Mapping[str, str]) -> None:
        """Changes FlowFields (Inventory, Balance_LCY, Remaining_Amount): computed from ledger
        entries in NAV, so the record itself — and its Key — stays as it is."""
        with self.lock:
            self.records[page][no].update(values)
            self._save()

    def remove(self, page: str, no: str) -> None:
        with self.lock:
            del self.records[page][no]
            self._save()

    # -- internals ---------------------------------------------------------------------------

    def _next_no(self, spec: PageSpec) -> str:
        table = self.records[spec.name]
        while True:
            no = spec.number_series.format(self.series[spec.name])
            self.series[spec.name] += 1
            if no not in table:
                return no

    def _merge_lines(self, spec: PageSpec, record: Record, incoming: list[Record]) -> None:
        """NAV semantics: lines with a Key are updated, lines without one are added."""
        sub = spec.lines
        assert sub is not None
        lines: list[Record] = record[sub.element]
        by_no = {line[sub.line_no_field]: line for line in lines}
        for new in incoming:
            if new.get("Key"):
                ident, version = decode_key(str(new["Key"]))
                owner, _, line_no = ident.rpartition("|")
                line = by_no.get(line_no) if owner == record["No"] else None
                if line is None:
                    raise BusinessError(f"The {sub.record.replace('_', ' ')} does not exist.")
                if line[VERSION] != version:
                    raise _stale(sub.record)
                line.update(_writable_fields(sub, new))
                line[VERSION] = -1
                continue
            last = max((int(n) for n in by_no), default=0)
            line = {sub.line_no_field: str(last + sub.line_no_step), VERSION: -1}
            line.update(_writable_fields(sub, new))
            lines.append(line)
            by_no[line[sub.line_no_field]] = line

    def _commit(self, spec: PageSpec, record: Record, *, rules: bool = True) -> Record:
        for rule in spec.rules if rules else ():
            RULES[rule](record, self)
        self.version += 1
        now = self.clock()
        record[VERSION] = self.version
        if spec.modified_at_field:
            stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            record[spec.modified_at_field] = stamp
        if spec.modified_on_field:
            record[spec.modified_on_field] = now.date().isoformat()
        if spec.lines is not None:
            for line in record[spec.lines.element]:
                if line[VERSION] == -1:
                    line[VERSION] = self.version
        self.records[spec.name][record["No"]] = record
        self._save()
        return self.view(spec, record)


def qty_on_sales_order(store: Store, item: Record) -> str:
    """Item."Qty. on Sales Order": the outstanding quantity of the item on order lines."""
    total = Decimal(0)
    for order in store.records.get("Sales_Order", {}).values():
        for line in order.get("SalesLines", ()):
            if line.get("Type") == "Item" and line.get("No") == item["No"]:
                total += Decimal(str(line.get("Quantity") or 0))
                total -= Decimal(str(line.get("Quantity_Shipped") or 0))
    return format(total.normalize(), "f") if total else "0"


FLOW_FIELDS: dict[str, Callable[[Store, Record], str]] = {
    "Qty_on_Sales_Order": qty_on_sales_order,
}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _writable_fields(sub: SubPage | PageSpec, incoming: Record) -> Record:
    return {
        f.name: incoming[f.name]
        for f in sub.fields
        if not f.read_only and incoming.get(f.name) is not None
    }


def _writable(spec: PageSpec, incoming: Record) -> Record:
    out = _writable_fields(spec, incoming)
    out.pop("No", None)
    return out


def _defaults(spec: PageSpec) -> Record:
    out: Record = {}
    for f in spec.fields:
        if f.enum:
            out[f.name] = f.enum[0]
        elif f.xs_type == XS_DECIMAL:
            out[f.name] = "0"
        elif f.xs_type == XS_BOOLEAN:
            out[f.name] = "false"
    return out
