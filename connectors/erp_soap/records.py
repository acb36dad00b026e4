"""Reading a page response record by record, so one malformed record does not sink the page.

zeep parses a whole ``ReadMultiple`` answer at once: one value that is not of its XSD type (a
``Credit_Limit_LCY`` of ``n/a``) fails every record in it — or, for dates and numbers it reads
with ``ValueError``, zeep logs the error and silently gives ``None``. ``strict_values`` turns
those silent ``None``s into errors. When an answer has such a value the client asks again for
the raw envelope and parses each record element alone with the page's own types; a record that
still fails is reported with the field that failed and its XML.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from zeep.helpers import serialize_object

from canonical.errors import PermanentError

Record = dict[str, Any]


class MalformedRecords(PermanentError):
    """The answer holds a value that is not of its XSD type."""


@dataclass(frozen=True)
class BadRecord:
    no: str  # the record's No as the XML says it ("" when it has none)
    reason: str  # "field Credit_Limit_LCY: 'n/a' is not a valid decimal"
    raw: bytes
    texts: dict[str, str] = field(default_factory=dict)  # its top-level fields, as text


@dataclass(frozen=True)
class RecordsRead:
    """One ReadMultiple page: the records read, those that could not be, how many elements
    came (for "was this the last page") and the Key of the last one (the next bookmark)."""

    rows: list[Record]
    bad: list[BadRecord] = field(default_factory=list)
    count: int = 0
    last_key: str | None = None


class _ValueErrors(logging.Filter):
    """Catches zeep's "Error during xml -> python translation" on threads that asked to."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        found: list[str] | None = getattr(self.local, "found", None)
        if found is None:
            return True
        error = record.exc_info[1] if record.exc_info else None
        found.append(f"{type(error).__name__}: {error}" if error else record.getMessage())
        return False  # reported by us, with the record and field


_ZEEP_VALUES = logging.getLogger("zeep.xsd.types.simple")
_CAPTURE = _ValueErrors()


@contextmanager
def strict_values() -> Iterator[list[str]]:
    """Collects the values zeep could not read (and would give as ``None``) in this block."""
    _ZEEP_VALUES.addFilter(_CAPTURE)  # once: a logger keeps a filter only once
    previous = getattr(_CAPTURE.local, "found", None)
    found: list[str] = []
    _CAPTURE.local.found = found
    try:
        yield found
    finally:
        _CAPTURE.local.found = previous


def _parse(xsd: Any, node: Any, schema: Any) -> Any:
    """``xsd.parse``/``parse_xmlelement`` that raises where zeep would give ``None``."""
    with strict_values() as found:
        parse = getattr(xsd, "parse_xmlelement", None) or xsd.parse
        value = parse(node, schema)
    if found:
        raise ValueError(found[0])
    return value


def plain(value: Any) -> Record:
    """A zeep record as nested plain dicts and lists."""
    return dict(serialize_object(value, target_cls=dict))  # type: ignore[no-untyped-call]


def page_namespace(page: str) -> str:
    return f"urn:microsoft-dynamics-schemas/page/{page.lower()}"


def _child_text(node: Any, namespace: str, name: str) -> str:
    found = node.find(f"{{{namespace}}}{name}")
    return "" if found is None or found.text is None else str(found.text).strip()


def _what_failed(node: Any, xsd_type: Any, schema: Any, depth: int = 0) -> str:
    """The path of the first field of ``node`` that its type refuses, and why."""
    elements = dict(getattr(xsd_type, "elements", ()) or ())
    for child in node:
        name = etree.QName(child).localname
        element = elements.get(name)
        if element is None:
            continue
        try:
            _parse(element, child, schema)
        except Exception as exc:
            if len(child) and depth < 4:  # a container (lines): find the leaf inside
                for item in child:
                    inner_type = getattr(element.type, "elements", None)
                    item_element = dict(inner_type or ()).get(etree.QName(item).localname)
                    if item_element is not None:
                        inner = _what_failed(item, item_element.type, schema, depth + 1)
                        if inner:
                            return f"{name}.{etree.QName(item).localname}.{inner}"
            type_name = getattr(element.type, "name", None) or "its type"
            text = (child.text or "").strip()
            return f"{name}: {text!r} is not a valid {type_name} ({type(exc).__name__})"
    return ""


def parse_records(client: Any, envelope: bytes, page: str) -> RecordsRead:
    """Every ``<Page>`` record element of a ReadMultiple answer, parsed one by one."""
    namespace = page_namespace(page)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(envelope, parser=parser)
    schema = client.wsdl.types
    xsd_type = client.get_type(f"{{{namespace}}}{page}")
    rows: list[Record] = []
    bad: list[BadRecord] = []
    nodes = list(root.iter(f"{{{namespace}}}{page}"))
    for node in nodes:
        try:
            rows.append(plain(_parse(xsd_type, node, schema)))
        except Exception as exc:
            reason = _what_failed(node, xsd_type, schema) or f"{type(exc).__name__}: {exc}"
            texts = {etree.QName(c).localname: (c.text or "").strip() for c in node if not len(c)}
            no = texts.get("No", "")
            bad.append(BadRecord(no, f"field {reason}", etree.tostring(node), texts))
    last_key = _child_text(nodes[-1], namespace, "Key") if nodes else None
    return RecordsRead(rows, bad, len(nodes), last_key or None)
