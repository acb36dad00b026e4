"""A streaming BMEcat reader: one ``RawRecord`` per product, in bounded memory.

Reads BMEcat 2005 (``PRODUCT``/``SUPPLIER_PID``, with or without the namespace
``http://www.bmecat.org/bmecat/2005``, default or prefixed) and BMEcat 1.2
(``ARTICLE``/``SUPPLIER_AID``). The transaction decides the operation: ``T_NEW_CATALOG``
products are ``new``; ``T_UPDATE_PRODUCTS`` products carry ``mode="new|update|delete"``;
``T_UPDATE_PRICES`` products are ``update`` (prices only).

Each record's ``data`` is the product element as a plain dict (see ``xmltree``)
plus ``supplier_pid`` (the key), ``operation``, ``position`` (1-based among the file's
products) and ``catalog`` (the header: id, version, languages, currency, generation date,
transaction, file).
``key`` is SUPPLIER_PID/SUPPLIER_AID, ``version`` is ``<CATALOG_VERSION>/<file name>``,
``source`` is ``<file name> product <position> (line <n>)``.

A product that cannot be read (no SUPPLIER_PID, a PRICE_AMOUNT that is not a decimal, an
unknown mode) comes back as a ``Quarantined`` naming the file, the position and the field;
the rest goes on. A document that stops being well-formed yields the products before the
break and then one ``Quarantined`` with the line and column. Memory stays bounded: no tree
is built, each product is handed on as soon as it ends (``xmltree.DictStream``).

With ``workers`` >= 1 the reader takes the fast path (``fastpath``, ``fragments``): the same
records, parsed with lxml fragment by fragment, in worker processes when ``workers`` >= 2,
and handed back to the sequential parser whenever it cannot read a file exactly alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from connectors.base import Quarantined, RawRecord
from connectors.pdm.fastpath import Fallback, Splitter, results
from connectors.pdm.fragments import Parsed, gc_paused
from connectors.pdm.products import (
    ProductError,
    check_prices,
    header_info,
    product_key,
    product_operation,
    validate,
)
from connectors.pdm.xmltree import DictStream, Finished, NotWellFormed, UnsafeXml

STREAM = "products"
PRODUCT_TAGS = frozenset({"PRODUCT", "ARTICLE"})
TRANSACTIONS = frozenset({"T_NEW_CATALOG", "T_UPDATE_PRODUCTS", "T_UPDATE_PRICES"})
_CAPTURE = frozenset({"HEADER", *PRODUCT_TAGS})

Item = RawRecord | Quarantined
log = logging.getLogger(__name__)
__all__ = [
    "STREAM",
    "CatalogReader",
    "Item",
    "ProductError",
    "check_prices",
    "header_info",
    "product_key",
    "product_operation",
]


class CatalogReader:
    """Iterate one catalogue file: ``RawRecord`` per product, ``Quarantined`` per bad one.

    ``skip`` products are passed over unread (a resumed file). After iteration
    ``position`` is the number of products met and ``complete`` tells whether the document
    ended (well-formed or not: a broken file is finished with too).

    ``workers`` 0 reads with the sequential parser; 1 or more take the fast path
    (``fastpath``: products cut into fragments parsed with lxml, in ``workers`` processes
    when 2 or more), which falls back to the sequential parser for anything it cannot read
    (the products already delivered are passed over). The fallback reads the file again from
    its start: ``stream`` must be seekable or ``reopen`` give a fresh stream (else the
    sequential parser is used from the start).
    """

    def __init__(
        self,
        stream: BinaryIO,
        file_name: str,
        *,
        skip: int = 0,
        keep_raw: bool = False,
        workers: int = 0,
        reopen: Callable[[], BinaryIO] | None = None,
    ) -> None:
        self.file_name = file_name
        self.skip = skip
        self.position = 0
        self.catalog: dict[str, Any] = {"file": file_name}
        self.complete = False
        self.broken: Quarantined | None = None
        self.keep_raw = keep_raw
        self.stream = stream
        self.reopen = reopen
        self.workers = workers if (reopen is not None or _seekable(stream)) else 0
        self.fallback: str | None = None  # why the fast path gave the file to the sequential
        self.elements = DictStream(stream, _CAPTURE, keep_raw=True)  # raw for quarantine
        self.elements.skip_next = skip

    def __iter__(self) -> Iterator[Item]:
        try:
            yield from self._fast_then_sequential() if self.workers > 0 else self._items()
        except (NotWellFormed, UnsafeXml) as exc:
            self.broken = self._file_problem(str(exc))
            yield self.broken
        self.complete = True

    def _file_problem(self, reason: str) -> Quarantined:
        after = f" (after {self.position} product(s); those were read)" if self.position else ""
        return Quarantined(STREAM, self.file_name, f"{self.file_name}: {reason}{after}")

    def _fast_then_sequential(self) -> Iterator[Item]:
        try:
            yield from self._fast_items()
            return
        except Fallback as exc:
            self.fallback = str(exc)
        log.info("pdm %s: read sequentially (%s)", self.file_name, self.fallback)
        if self.reopen is None:
            self.stream.seek(0)
            yield from self._sequential_from_start(self.stream)
            return
        with self.reopen() as stream:
            yield from self._sequential_from_start(stream)

    def _sequential_from_start(self, stream: BinaryIO) -> Iterator[Item]:
        self.elements = DictStream(stream, _CAPTURE, keep_raw=True)
        self.elements.skip_next = max(self.skip, self.position)
        self.position = 0
        yield from self._items()

    def _fast_items(self) -> Iterator[Item]:
        splitter = Splitter(self.stream, _CAPTURE, self.keep_raw)
        prolog, rest, line = splitter.prolog()
        if prolog.root != "BMECAT":
            raise Fallback("not a BMECAT root")
        self.catalog["bmecat_version"] = prolog.root_attrs.get("version")
        self.catalog.update(header_info(prolog.header))
        transaction = self._transaction(prolog.parent, prolog.parent_attrs)
        jobs = splitter.jobs(rest, line, transaction, self.skip)
        for parsed in results(jobs, self.workers):
            if isinstance(parsed, str):
                raise Fallback(parsed)
            end = self.position + len(parsed)
            for position, item in self._batch(parsed):
                self.position = position  # what the page's cursor records: given out so far
                yield item
            self.position = end
        if splitter.problem:
            raise Fallback(splitter.problem)

    def _batch(self, parsed: list[Parsed | None]) -> list[tuple[int, Item]]:
        """The items of one fragment with their positions, made at once (no collection
        while they are made)."""
        items: list[tuple[int, Item]] = []
        with gc_paused():
            for offset, product in enumerate(parsed, self.position + 1):
                if product is not None:
                    items.append((offset, self._parsed(offset, *product)))
        return items

    def _parsed(
        self,
        position: int,
        line: int,
        key: str,
        operation: str,
        data: Any,
        raw: bytes | None,
        error: str | None,
    ) -> Item:
        source = f"{self.file_name} product {position} (line {line})"
        if error is not None:
            return Quarantined(STREAM, source, f"{source}: {error}", raw or b"")
        return self._record(key, operation, data, source, raw, position)

    def _items(self) -> Iterator[Item]:
        elements = self.elements
        checked = False
        transaction = ""
        parent_attrs: dict[str, str] | None = None
        for element in elements:
            if not checked:
                self._root()
                checked = True
            if element.name == "HEADER":
                self.catalog.update(header_info(element.value))
                continue
            self.position += 1
            if element.skipped:
                continue  # passed over: delivered before (resumed file)
            if element.parent_attrs is not parent_attrs:
                parent_attrs = element.parent_attrs
                transaction = self._transaction(element.parent, parent_attrs)
            yield self._product(element, transaction)
        if not checked:
            self._root()

    def _root(self) -> None:
        """Only a BMECAT document is read (its DOCTYPE was checked by the parser)."""
        root = self.elements.root
        if root != "BMECAT":
            shown = root or "missing"
            raise UnsafeXml(f"not a BMEcat document: the root element is {shown}, not BMECAT")
        self.catalog["bmecat_version"] = self.elements.root_attrs.get("version")

    def _transaction(self, parent: str, attrs: dict[str, str]) -> str:
        if parent not in TRANSACTIONS:
            return ""
        self.catalog["transaction"] = parent
        if attrs.get("prev_version"):
            self.catalog["prev_version"] = attrs["prev_version"]
        return parent

    def _product(self, element: Finished, transaction: str) -> Item:
        line = element.line
        source = f"{self.file_name} product {self.position}" + (f" (line {line})" if line else "")
        try:
            key, operation = validate(element.value, element.name, transaction)
        except ProductError as exc:
            return Quarantined(STREAM, source, f"{source}: {exc}", element.raw or b"")
        return self._record(key, operation, element.value, source, element.raw, self.position)

    def _record(
        self,
        key: str,
        operation: str,
        data: dict[str, Any],
        source: str,
        raw: bytes | None,
        position: int,
    ) -> RawRecord:
        data["supplier_pid"] = key
        data["operation"] = operation
        data["position"] = position
        data["catalog"] = dict(self.catalog)
        version = f"{self.catalog.get('version') or ''}/{self.file_name}"
        kept = raw if self.keep_raw else None
        return RawRecord(STREAM, key, data, version=version, source=source, raw=kept)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError):
        return False
