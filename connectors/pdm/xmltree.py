"""Hardened streaming XML for BMEcat: expat turns chosen elements straight into plain dicts.

``DictStream`` feeds a byte stream to expat in chunks and hands back, as they end, the
elements whose local names it was asked for (``HEADER``, ``PRODUCT``...), each as what
``xmltodict.parse`` gives for it with namespaces dropped: child elements by local name (a
list when repeated), attributes as ``@name``, text as a string (or ``#text`` beside
attributes/children); an empty element is ``None``. Mixed content (markup inside a text such
as ``<br/>`` in a long description) becomes its plain words (its own text first). No tree
is built: memory is one element's dict plus the parser's buffer, whatever the file size.

Hardening (what defusedxml does for expat): entity declarations of any kind (XXE, "billion
laughs", parameter entities) and inline DTDs are refused with ``UnsafeXml`` before any
element is used; an external DTD is never read (parameter entity parsing off, no external
entity handler) and a reference to an entity it would define is refused; nothing touches the
network. A DOCTYPE that only names a DTD (``<!DOCTYPE BMECAT SYSTEM "bmecat_new_catalog.dtd">``,
common in BMEcat 1.2 files) is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO
from xml.parsers import expat

__all__ = ["DictStream", "Finished", "NotWellFormed", "UnsafeXml"]

CHUNK = 1 << 18
KEEP_TAIL = 1 << 14


class UnsafeXml(ValueError):
    """The document asks for something a hardened parser does not do (entities, DTDs)."""


class NotWellFormed(ValueError):
    """The document is not well-formed XML at ``line``/``column`` (1-based)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"not well-formed XML at line {line}, column {column}: {message}")
        self.line, self.column = line, column


@dataclass(frozen=True)
class Finished:
    """One captured element: its local name, value, start line, parent's name and attributes,
    and its bytes when they were asked for and still at hand."""

    name: str
    value: Any
    line: int
    parent: str
    parent_attrs: dict[str, str]
    raw: bytes | None
    skipped: bool = False  # passed over unbuilt (``skip_next``)


def _words(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _words(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("@"):
                _words(item, out)


class DictStream:
    """Iterate ``Finished`` elements named in ``capture`` (outermost ones) of ``stream``.

    ``root`` / ``root_attrs`` name the document element once seen; ``skip_next`` captured
    elements (not ``HEADER``) are passed over unbuilt and reported as ``skipped``.
    """

    def __init__(self, stream: BinaryIO, capture: frozenset[str], *, keep_raw: bool) -> None:
        self.stream = stream
        self.capture = capture
        self.keep_raw = keep_raw
        self.root: str | None = None
        self.root_attrs: dict[str, str] = {}
        self.skip_next = 0
        self.encoding: str | None = None  # as the XML declaration names it
        self._names: dict[str, str] = {}
        self._open: list[tuple[str, dict[str, str]]] = []  # elements outside captured ones
        self._done: list[Finished] = []
        self._entities: list[str] = []
        self._subset = False
        self._buffer = bytearray()
        self._buffer_start = 0  # absolute offset of _buffer[0]
        self._start: tuple[int, int, str, dict[str, str]] | None = None  # of the open capture
        self._parser = self._make_parser()

    # -- driving ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Finished]:
        parser = self._parser
        done = self._done
        try:
            while chunk := self.stream.read(CHUNK):
                if self.keep_raw:
                    self._keep(chunk)
                parser.Parse(chunk, False)
                if done:
                    yield from done
                    done.clear()
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            yield from done
            done.clear()
            raise _not_well_formed(exc) from None
        yield from done
        done.clear()

    def feed(self, data: bytes, final: bool = False) -> list[Finished]:
        """Parse ``data`` (the next bytes of the document) and return the elements it ended
        (without raw bytes); ``NotWellFormed``/``UnsafeXml`` as ``__iter__`` raises them."""
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise _not_well_formed(exc) from None
        done = list(self._done)
        self._done.clear()
        return done

    @property
    def open_elements(self) -> list[tuple[str, dict[str, str]]]:
        """The elements open outside captured ones (local name, attributes as written)."""
        return list(self._open)

    def _keep(self, chunk: bytes) -> None:
        """Keep the bytes from the open captured element's start on (or, with none open, the
        last few KB: a start tag may be cut by the chunk boundary), for ``Finished.raw``."""
        end = self._buffer_start + len(self._buffer)
        keep_from = self._start[1] if self._start is not None else end - KEEP_TAIL
        cut = max(0, min(keep_from, end) - self._buffer_start)
        del self._buffer[:cut]
        self._buffer_start += cut
        self._buffer += chunk

    def _raw(self, start: int) -> bytes | None:
        if not self.keep_raw or start < self._buffer_start:
            return None
        end_tag = self._parser.CurrentByteIndex - self._buffer_start
        close = self._buffer.find(b">", end_tag)
        return bytes(self._buffer[start - self._buffer_start : close + 1 if close >= 0 else None])

    # -- expat -----------------------------------------------------------------------------

    def _make_parser(self) -> Any:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._unparsed
        parser.EndDoctypeDeclHandler = self._doctype_end
        parser.SkippedEntityHandler = self._skipped
        parser.XmlDeclHandler = self._declaration
        self._outside, self._inside, self._passing = self._handlers(parser)
        self._use(parser, self._outside)
        return parser

    @staticmethod
    def _use(parser: Any, handlers: tuple[Any, Any, Any]) -> None:
        parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = handlers

    def _declaration(self, _version: Any, encoding: str | None, _standalone: int) -> None:
        self.encoding = encoding

    def _doctype(self, _name: str, _system: Any, _public: Any, internal: int) -> None:
        self._subset = bool(internal)

    def _entity(self, name: str, parameter: int, *_rest: Any) -> None:
        self._entities.append(f"%{name}" if parameter else name)

    def _unparsed(self, name: str, *_rest: Any) -> None:
        self._entities.append(name)

    def _doctype_end(self) -> None:
        if self._entities:
            shown = ", ".join(sorted(self._entities)[:5])
            raise UnsafeXml(
                f"refused: the DOCTYPE declares entities ({shown}); entity declarations are "
                "refused (external entities and entity expansion are not processed)"
            )
        if self._subset:
            raise UnsafeXml("refused: the DOCTYPE has an internal subset; inline DTDs are refused")

    def _skipped(self, name: str, _parameter: int) -> None:
        raise UnsafeXml(f"refused: a reference to the entity &{name}; that no DTD here defines")

    def _local(self, name: str) -> str:
        local = self._names.get(name)
        if local is None:
            local = self._names[name] = name.rpartition(":")[2]
        return local

    def _handlers(self, parser: Any) -> tuple[Any, Any, Any]:
        """Three sets of (start, end, data) handlers: outside a captured element, inside
        one (the hot path: closures over locals), and passing over a skipped one."""
        stack: list[list[Any]] = []
        depth = [0]
        return (
            self._outside_handlers(parser, stack, depth),
            self._inside_handlers(parser, stack),
            self._passing_handlers(parser, depth),
        )

    def _outside_handlers(self, parser: Any, stack: list[list[Any]], depth: list[int]) -> Any:
        names, local_of = self._names, self._local

        def start(name: str, attrs: dict[str, str]) -> None:
            local = names.get(name) or local_of(name)
            if local not in self.capture:
                if self.root is None:
                    self.root, self.root_attrs = local, _plain(attrs)
                self._open.append((local, attrs))
                return
            if self.skip_next and local != "HEADER":
                self.skip_next -= 1
                depth[0] = 1
                self._use(parser, self._passing)
                return
            parent, parent_attrs = self._open[-1] if self._open else ("", {})
            self._start = (parser.CurrentLineNumber, parser.CurrentByteIndex, parent, parent_attrs)
            stack.append([local, attrs, None, None])
            self._use(parser, self._inside)

        def end(_name: str) -> None:
            if self._open:
                self._open.pop()

        return start, end, _ignore

    def _inside_handlers(self, parser: Any, stack: list[list[Any]]) -> Any:
        names, local_of = self._names, self._local
        push, pop = stack.append, stack.pop

        def start(name: str, attrs: dict[str, str]) -> None:
            push([names.get(name) or local_of(name), attrs, None, None])

        def data(text: str) -> None:
            frame = stack[-1]
            before = frame[3]
            frame[3] = text if before is None else before + text

        def end(_name: str) -> None:
            local, attrs, children, text = pop()
            if text is not None:
                text = text.strip() or None
            if children is not None:
                value: Any = _container(attrs, children, text)
            elif attrs:
                value = _attributes(attrs)
                if not value:
                    value = text
                elif text is not None:
                    value["#text"] = text
            else:
                value = text
            if not stack:
                self._finish(parser, local, value)
                return
            siblings = stack[-1][2]
            if siblings is None:
                stack[-1][2] = {local: value}
            elif local in siblings:
                previous = siblings[local]
                if previous.__class__ is list:
                    previous.append(value)
                else:
                    siblings[local] = [previous, value]
            else:
                siblings[local] = value

        return start, end, data

    def _passing_handlers(self, parser: Any, depth: list[int]) -> Any:
        def start(_name: str, _attrs: dict[str, str]) -> None:
            depth[0] += 1

        def end(name: str) -> None:
            depth[0] -= 1
            if depth[0] == 0:
                local = self._names.get(name) or self._local(name)
                self._done.append(Finished(local, None, 0, "", {}, None, skipped=True))
                self._use(parser, self._outside)

        return start, end, _ignore

    def _finish(self, parser: Any, local: str, value: Any) -> None:
        assert self._start is not None
        line, offset, parent, parent_attrs = self._start
        raw = self._raw(offset)
        self._start = None
        self._done.append(Finished(local, value, line, parent, _plain(parent_attrs), raw))
        self._use(parser, self._outside)


def _not_well_formed(exc: expat.ExpatError) -> NotWellFormed:
    message = expat.ErrorString(exc.code) if exc.code else str(exc)
    return NotWellFormed(message, exc.lineno, exc.offset + 1)


def _ignore(_text: str) -> None:
    return None


def _plain(attrs: dict[str, str]) -> dict[str, str]:
    return {k.rpartition(":")[2]: v for k, v in attrs.items() if not k.startswith("xmlns")}


def _attributes(attrs: dict[str, str]) -> dict[str, Any]:
    return {
        "@" + k.rpartition(":")[2]: v
        for k, v in attrs.items()
        if k != "xmlns" and not k.startswith("xmlns:")
    }


def _container(attrs: dict[str, str], children: dict[str, Any], text: str | None) -> Any:
    value: dict[str, Any] = _attributes(attrs) if attrs else {}
    if text is not None:  # mixed content: its own text, then the words inside its markup
        words = [text]
        _words(children, words)
        flat = " ".join(" ".join(words).split())
        if not value:
            return flat
        value["#text"] = flat
        return value
    if not value:
        return children
    value.update(children)
    return value
