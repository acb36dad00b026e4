"""The fast path of ``CatalogReader``: products cut into fragments, parsed by worker processes.

``Splitter`` reads the file's prolog (everything before the first product) with the
hardened sequential parser (``xmltree.DictStream``: DOCTYPE and entity checks, the HEADER,
the root, the transaction element), then cuts the rest into fragments that end right after a
product's closing tag (a byte search, no parse) and finally feeds the tail after the last
product to the same hardened parser. Prolog + tail form the document without its products,
so together with each fragment parsed whole (``fragments.parse``) the file is checked as a
whole. ``results`` parses the fragments in ``workers`` processes (or in this one), keeping
the file's order and at most ``2 * workers + 1`` fragments in flight (memory stays bounded).

Whenever something does not fit (no product found, an encoding that is not ASCII-based, a
fragment that does not parse, a product cut in a way bytes cannot tell), ``Fallback`` is
raised: the reader then reads the file with the sequential parser, passing over the products
already delivered, which gives the exact error, line and column.
"""

from __future__ import annotations

import codecs
import io
import multiprocessing
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO
from xml.sax.saxutils import quoteattr

from connectors.pdm.fragments import Frame, Job, Parsed, parse, parse_packed, unpack
from connectors.pdm.xmltree import DictStream, NotWellFormed, UnsafeXml

FRAGMENT = 1 << 18  # bytes read per fragment (cut back to the last closing tag)
MAX_PROLOG = 16 << 20  # a file whose first product starts later is read sequentially
MAX_FRAGMENT = 64 << 20  # no closing tag within this many bytes: read sequentially
_FIRST = re.compile(rb"<((?:[^\s<>/!?:]+:)?(PRODUCT|ARTICLE))[\s/>]")
_ASCII_BASED = ("utf-8", "ascii", "latin-1", "iso8859", "cp125", "cp437", "cp850", "mac-roman")


class Fallback(Exception):
    """The fast path cannot read this file: read it with the sequential parser."""


@dataclass
class Prolog:
    """What the prolog told: root, its attributes, the HEADER's value, the products' parent."""

    root: str | None
    root_attrs: dict[str, str]
    header: Any
    parent: str
    parent_attrs: dict[str, str]
    tag: str
    qualified: bytes


@dataclass
class Splitter:
    """Cuts ``stream`` into the prolog, fragments of whole products, and the tail."""

    stream: BinaryIO
    capture: frozenset[str]
    keep_raw: bool
    outer: DictStream = field(init=False)
    frame: Frame | None = field(default=None, init=False)
    problem: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.outer = DictStream(io.BytesIO(), self.capture, keep_raw=False)

    def prolog(self) -> tuple[Prolog, bytes, int]:
        """Parse the prolog; the bytes from the first product on and the line they start on."""
        data = b""
        while (found := _FIRST.search(data)) is None:
            chunk = self.stream.read(FRAGMENT)
            if not chunk or len(data) > MAX_PROLOG:
                raise Fallback("no product start found")
            data += chunk
        head, rest = data[: found.start()], data[found.start() :]
        header = None
        for element in self._feed(head, final=False):
            if element.name != "HEADER":
                raise Fallback(f"a {element.name} in the prolog")
            header = element.value
        encoding = _encoding(self.outer.encoding)
        opened = self.outer.open_elements
        parent, parent_attrs = opened[-1] if opened else ("", {})
        qualified = found.group(1)
        tag = found.group(2).decode()
        self.frame = Frame(
            head=_head(encoding, opened),
            foot=b"</W>",
            tag=tag,
            end_tag=b"</" + qualified + b">",
            transaction="",
        )
        prolog = Prolog(
            self.outer.root,
            self.outer.root_attrs,
            header,
            parent,
            {k.rpartition(":")[2]: v for k, v in parent_attrs.items()},
            tag,
            qualified,
        )
        return prolog, rest, 1 + head.count(b"\n")

    def jobs(self, rest: bytes, line: int, transaction: str, skip: int) -> Iterator[Job]:
        """Fragments of whole products (``skip`` leading products only counted); the tail
        after the last product is checked at the end (``problem`` tells what went wrong)."""
        assert self.frame is not None
        frame = replace(self.frame, transaction=transaction)
        end_tag = frame.end_tag
        buffer = bytearray(rest)
        before = 0  # products in earlier fragments (by closing tags; checked by the parse)
        searched = 0
        while True:
            chunk = self.stream.read(FRAGMENT)
            buffer += chunk
            cut = buffer.rfind(end_tag, max(0, searched - len(end_tag)))
            if cut < 0:
                if not chunk:
                    break
                if len(buffer) > MAX_FRAGMENT:
                    self.problem = "no closing product tag within a fragment"
                    return
                searched = len(buffer)
                continue
            cut += len(end_tag)
            data = bytes(buffer[:cut])
            del buffer[:cut]
            searched = 0
            count = data.count(end_tag)
            yield Job(frame, data, line, max(0, min(count, skip - before)), self.keep_raw)
            before += count
            line += data.count(b"\n")
            if not chunk:
                break
        try:
            if self._feed(bytes(buffer), final=True):
                self.problem = "an element after the products"
        except Fallback as exc:
            self.problem = str(exc)

    def _feed(self, data: bytes, *, final: bool) -> list[Any]:
        try:
            return self.outer.feed(data, final)
        except (NotWellFormed, UnsafeXml) as exc:
            raise Fallback(str(exc)) from None


def _encoding(declared: str | None) -> str:
    name = codecs.lookup(declared or "utf-8").name
    if not name.startswith(_ASCII_BASED):
        raise Fallback(f"encoding {name}")
    return name


def _head(encoding: str, opened: list[tuple[str, dict[str, str]]]) -> bytes:
    """The XML declaration and a wrapper declaring the namespace prefixes around the products.
    The default namespace is left out: names are read by their local part anyway, and plain
    names are cheaper to handle than ``{namespace}name``."""
    declared: dict[str, str] = {}
    for _name, attrs in opened:
        declared.update((k, v) for k, v in attrs.items() if k.startswith("xmlns:"))
    decls = "".join(f" {k}={quoteattr(v)}" for k, v in declared.items())
    return f'<?xml version="1.0" encoding="{encoding}"?><W{decls}>'.encode(encoding)


def results(jobs: Iterator[Job], workers: int) -> Iterator[list[Parsed | None] | str]:
    """Each job's products in order; ``workers`` >= 2 parse in that many processes."""
    if workers < 2:
        yield from (parse(job) for job in jobs)
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    pending: deque[Future[bytes | str]] = deque()
    try:
        for job in jobs:
            pending.append(pool.submit(parse_packed, job))
            if len(pending) > 2 * workers:
                yield unpack(pending.popleft().result())
        while pending:
            yield unpack(pending.popleft().result())
    except BrokenProcessPool as exc:
        raise Fallback(f"the parse processes stopped: {exc}") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
