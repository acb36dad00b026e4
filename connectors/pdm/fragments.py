"""Parse a fragment of a BMEcat file (whole products, cut after their closing tags) with lxml.

The fast path of ``CatalogReader`` (see ``fastpath``) cuts the products of a catalogue into
fragments of about a megabyte and hands each to this module, in a worker process or in the
reader's own. A fragment is parsed as one small document: the XML declaration of the file
(its encoding), a wrapper element declaring the namespaces of the elements around the
products, the fragment's bytes, the wrapper's end. Each product becomes the same plain dict
``xmltree.DictStream`` makes of it (local names, ``@attr``, ``#text``, lists for repeats,
mixed content reduced to its words) and is checked as the sequential reader checks it
(``products.validate``).

The fragment has no DOCTYPE, so nothing can declare an entity: a reference to one that is
not predefined is a parse error. Anything unexpected (not well-formed, an element between
products that is not a product, closing tags that do not match the products) makes ``parse``
return the reason as a string instead of products: the reader then reads the file with the
sequential, hardened parser, which gives the exact error, line and column.
"""

from __future__ import annotations

import gc
import marshal
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lxml import etree

from connectors.pdm.products import ProductError, validate
from connectors.pdm.xmltree import _words

__all__ = ["Frame", "Job", "Parsed", "gc_paused", "parse", "parse_packed", "unpack"]


@dataclass(frozen=True)
class Frame:
    """What every fragment of one file needs: the bytes before and after its products, the
    product's local name and closing tag as written, and the transaction around them."""

    head: bytes  # XML declaration + wrapper start tag, on one line
    foot: bytes  # wrapper end tag
    tag: str  # PRODUCT or ARTICLE
    end_tag: bytes  # b"</PRODUCT>" or b"</bme:PRODUCT>" as in the file
    transaction: str


@dataclass(frozen=True)
class Job:
    """One fragment: its bytes, the file line of its first byte, how many of its leading
    products were delivered before (only counted) and whether each product's bytes are kept."""

    frame: Frame
    data: bytes
    line: int
    skip: int
    keep_raw: bool


# One product: file line, key, operation, data, raw bytes, error (``field: message``).
Parsed = tuple[int, str, str, Any, bytes | None, str | None]

_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    local = _NAMES.get(tag)
    if local is None:
        local = _NAMES[tag] = tag.rpartition("}")[2]
    return local


def _attributes(items: list[tuple[str, str]]) -> dict[str, Any]:
    return {"@" + (_NAMES.get(k) or _local(k)): v for k, v in items}


def _value(element: Any) -> Any:
    """The element as ``xmltree`` shapes it (see the module doc of ``xmltree``)."""
    names = _NAMES
    text = element.text
    children: dict[str, Any] | None = None
    for child in element:
        tail = child.tail
        if tail is not None:
            text = tail if text is None else text + tail
        if len(child):
            value = _value(child)
        else:
            value = child.text
            if value is not None:
                value = value.strip() or None
            items = child.items()
            if items:
                attrs = _attributes(items)
                if value is not None:
                    attrs["#text"] = value
                value = attrs
        tag = child.tag
        local = names.get(tag) or _local(tag)
        if children is None:
            children = {local: value}
        elif local in children:
            previous = children[local]
            if previous.__class__ is list:
                previous.append(value)
            else:
                children[local] = [previous, value]
        else:
            children[local] = value
    if text is not None:
        text = text.strip() or None
    items = element.items()
    if children is None:
        if not items:
            return text
        attrs = _attributes(items)
        if text is not None:
            attrs["#text"] = text
        return attrs
    if text is not None:  # mixed content: its own text, then the words inside its markup
        words = [text]
        _words(children, words)
        flat = " ".join(" ".join(words).split())
        if not items:
            return flat
        attrs = _attributes(items)
        attrs["#text"] = flat
        return attrs
    if not items:
        return children
    attrs = _attributes(items)
    attrs.update(children)
    return attrs


def _parser() -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        huge_tree=False,
    )


def parse(job: Job) -> list[Parsed | None] | str:
    """The fragment's products in order (``None`` for the skipped ones), or why it cannot be
    read here (the reader then falls back to the sequential parser)."""
    frame = job.frame
    try:
        root = etree.fromstring(frame.head + job.data + frame.foot, _parser())
    except etree.XMLSyntaxError as exc:
        return f"fragment at line {job.line}: {exc}"
    products = list(root)
    ends = _ends(job.data, frame.end_tag)
    if len(ends) != len(products):
        return f"fragment at line {job.line}: {len(ends)} closing tags, {len(products)} products"
    out: list[Parsed | None] = []
    starts: _Starts | None = None
    try:
        for index, element in enumerate(products):
            if _local(element.tag) != frame.tag:
                return f"fragment at line {job.line}: a {element.tag} between the products"
            if index < job.skip:
                out.append(None)
                continue
            data = _value(element)
            key, operation, error = "", "", None
            try:
                key, operation = validate(data, frame.tag, frame.transaction)
            except ProductError as exc:
                error = str(exc)
            raw = None
            if job.keep_raw or error is not None:
                starts = starts or _Starts(job.data, frame.tag, ends, len(frame.end_tag))
                raw = starts.raw(index)
            out.append((job.line + element.sourceline - 1, key, operation, data, raw, error))
    except (AttributeError, TypeError) as exc:  # a node that is not an element (entity)
        return f"fragment at line {job.line}: {exc}"
    return out


def parse_packed(job: Job) -> bytes | str:
    """``parse`` for a worker process: the products packed with ``marshal`` (plain dicts,
    lists and strings only; cheaper to pass between processes than pickle)."""
    with gc_paused():  # only acyclic dicts and lists are made here
        parsed = parse(job)
        return parsed if isinstance(parsed, str) else marshal.dumps(parsed)


def unpack(packed: bytes | str) -> list[Parsed | None] | str:
    if isinstance(packed, str):
        return packed
    with gc_paused():
        products: list[Parsed | None] = marshal.loads(packed)  # noqa: S302 (our worker's bytes)
    return products


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while a batch of (acyclic) dicts is made: one collection after
    it instead of many during it. Only around code of ours: never across a ``yield``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ends(data: bytes, end_tag: bytes) -> list[int]:
    """Where each closing tag of a product ends."""
    ends: list[int] = []
    at = data.find(end_tag)
    while at >= 0:
        ends.append(at + len(end_tag))
        at = data.find(end_tag, at + 1)
    return ends


class _Starts:
    """The bytes of product ``i``: from its start tag to the end of its closing tag."""

    def __init__(self, data: bytes, tag: str, ends: list[int], end_length: int) -> None:
        self.data = data
        self.ends = ends
        self.end_length = end_length
        self.start = re.compile(rb"<(?:[^\s<>/!?:]+:)?" + tag.encode() + rb"[\s/>]")

    def raw(self, index: int) -> bytes:
        end = self.ends[index]
        begin = self.ends[index - 1] if index else 0
        found = self.start.search(self.data, begin, end)
        return self.data[found.start() if found else begin : end]
