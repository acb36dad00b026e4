"""Scanning one interchange: envelope state, and set bodies found with ``str.find``.

Inside a transaction set the body up to the next envelope segment (``~SE*``, or ``~ST*``,
``~GS*``, ``~GE*``, ``~IEA*``, ``~ISA`` when an SE is missing) is found with ``str.find`` and
kept as one piece of text; only envelope segments go through Python one by one. When every
terminator of the file is followed by the same line break, terminator plus line break is
scanned as one (no CR/LF removal needed); otherwise CR/LF after terminators is removed.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from connectors.formats.x12.model import (
    GroupHeader,
    InterchangeHeader,
    TransactionSet,
    X12Error,
    element,
)

if TYPE_CHECKING:
    from connectors.formats.x12.reader import X12Reader

Item = TransactionSet | X12Error
_ENVELOPE_TAGS = frozenset({"ST", "SE", "GS", "GE", "IEA"})


class InterchangeScanner:
    """The state of one interchange while its segments stream by."""

    def __init__(self, reader: X12Reader, header: InterchangeHeader) -> None:
        self.r = reader
        self.header = header
        self.sep = header.delimiters.element
        self.term = header.delimiters.segment
        self.group: GroupHeader | None = None
        self.group_pos = 0
        self.group_sets = 0
        self.groups = 0
        self.cur: list[str] | None = None  # the open set's text: ST, body pieces, SE
        self.count = 0  # segments in the open set so far
        self.cur_pos = 0
        self.skipping = False  # inside an oversized set: drop segments up to its SE
        self.stray_reported = False
        self._use_terminator(self.term)

    def _use_terminator(self, term: str) -> None:
        """Scan for ``term``: the segment terminator, or it plus the line break every segment
        of this file has after it (then no CR/LF needs removing)."""
        self.term = term
        # a set's body ends where one of these starts (SE, or a missing-SE envelope segment)
        sep = self.sep
        self._marks = (*(term + t + sep for t in ("SE", "ST", "GS", "GE", "IEA")), term + "ISA")

    def _error(self, message: str, **kw: object) -> X12Error:
        return X12Error(
            message,
            source=self.r.source,
            interchange=self.header.control_number,
            group=self.group.control_number if self.group else "",
            **kw,  # type: ignore[arg-type]
        )

    def run(self) -> Iterator[Item]:
        """Segments up to this interchange's IEA. Inside a set the body between envelope
        segments is found with ``str.find`` and split in one call; only envelope segments
        (ST, SE, GS, GE, IEA, ISA) go through Python one by one. The buffer always starts
        at the terminator of the last segment consumed, so markers like ``~SE*`` are found
        across chunk boundaries."""
        r, seg = self.r, self.header.delimiters.segment
        buf = seg + r.buffer
        if seg not in "\r\n":
            for eol in ("\r\n", "\n"):
                if buf.startswith(seg + eol, 0, 3):
                    self._use_terminator(seg + eol)
                    break
        buf = self._normalize(buf)
        more = True
        while True:
            i, done = yield from self._scan(buf)
            if done is not None:
                r.buffer = buf[i + len(self.term) :]
                return
            buf = buf[i:]
            if not more:
                if buf.strip(seg + "\r\n \t\x00"):  # a last segment without terminator
                    buf += self.term
                    continue
                yield from self._close_all(
                    "truncated: the input ends before IEA", r.segments_read + 1
                )
                r.buffer = ""
                return
            r.buffer = ""
            more = r.fill()
            buf = self._normalize(buf + r.buffer)

    def _normalize(self, text: str) -> str:
        """Drop CR/LF that follow segment terminators (unless every terminator has the same
        line break after it: then it is scanned as part of the terminator)."""
        seg = self.header.delimiters.segment
        term = self.term
        if term != seg:
            # every terminator that can be checked (not in the last characters, whose line
            # break may be in the next chunk) has the line break after it
            if text.count(seg, 0, len(text) - len(term) + 1) == text.count(term):
                return text
            self._use_terminator(seg)  # mixed line breaks: strip them from here on
            if self.cur is not None:
                self.cur = [piece.replace(term, seg) for piece in self.cur]
        if "\n" not in text and "\r" not in text:
            return text
        term = self.term
        if term in "\r\n":
            return text.replace("\r\n", "\n") if term == "\n" else text
        if "\r" in text:
            text = text.replace(term + "\r\n", term).replace(term + "\r", term)
        return text.replace(term + "\n", term) if "\n" in text else text

    def _scan(self, buf: str) -> Generator[Item, None, tuple[int, str | None]]:
        """Consume the complete segments of ``buf`` (which starts at a terminator); the
        index of the terminator consumed last, and "IEA"/"ISA" when the interchange ended."""
        r, term, marks = self.r, self.term, self._marks
        step = len(term)
        i = 0
        while True:
            if self.cur is not None:
                j = buf.find(marks[0], i)  # the SE; an envelope segment before it is an error
                end = j if j >= 0 else len(buf)
                for mark in marks[1:]:
                    k = buf.find(mark, i, end)
                    if k >= 0:
                        j = end = k
                if j < 0:  # the set goes on past this buffer: take its complete segments
                    j = buf.rfind(term, i + step)
                    if j > i:
                        self._body(buf[i + step : j])
                        i = j
                    return i, None
                if j > i:
                    self._body(buf[i + step : j])
                    i = j
            k = buf.find(term, i + step)
            if k < 0:
                return i, None
            r.segments_read += 1
            done = yield from self._envelope(buf[i + step : k], r.segments_read)
            if done == "ISA":
                r.segments_read -= 1
                return i, done
            i = k
            if done is not None:
                return i, done
            if self.cur is not None and self.count > r.max_set_segments:
                yield self._set_error(f"more than {r.max_set_segments} segments, SE not found", 0)
                self.cur, self.skipping = None, True

    def _body(self, text: str) -> None:
        assert self.cur is not None
        count = text.count(self.term) + 1
        self.cur.append(text)
        self.count += count
        self.r.segments_read += count

    def _envelope(self, part: str, pos: int) -> Generator[Item, None, str | None]:
        """Handle one segment outside the fast path; returns "IEA"/"ISA" at an interchange end."""
        if not part.strip():
            return None
        tag = part.partition(self.sep)[0]
        if tag in _ENVELOPE_TAGS:
            yield from getattr(self, "_" + tag.lower())(part, pos)
            return "IEA" if tag == "IEA" else None
        if part.startswith("ISA") and len(part) > 3 and not part[3].isalnum():
            yield from self._close_all(f"a new ISA starts at segment {pos} before IEA", pos)
            return "ISA"
        if self.cur is not None:
            self.cur.append(part)
            self.count += 1
        elif self.skipping or not part.strip():
            pass
        elif not self.stray_reported:
            self.stray_reported = True
            yield self._error(
                f"segment {tag!r} outside a transaction set (no ST before it)",
                segment_id=tag[:3],
                position=pos,
                level="group" if self.group else "interchange",
                raw=part.encode("utf-8", "replace"),
            )
        return None

    # -- transaction sets ----------------------------------------------------------------------

    def _set_error(self, message: str, position: int, **kw: object) -> X12Error:
        pieces = self.cur or []
        first = pieces[0].split(self.sep) if pieces else []
        raw = (self.term.join(pieces) + self.term).encode("utf-8", "replace") if pieces else b""
        return self._error(
            message,
            set_code=element(first, 1),
            set_control=element(first, 2),
            position=position,
            level="set",
            raw=raw,
            **kw,
        )

    def _st(self, part: str, pos: int) -> Iterator[Item]:
        if self.cur is not None:
            yield self._set_error(
                f"no SE: a new ST starts at file segment {pos}",
                self.count + 1,
                segment_id="SE",
                code="2",
            )
        self.skipping = False
        self.stray_reported = False
        self.cur, self.cur_pos, self.count = [part], pos, 1
        if self.group is None:
            yield self._set_error(
                "ST outside a functional group (no GS before it)", 1, segment_id="ST", code="6"
            )
            self.cur = None
            self.skipping = True
            return
        self.group_sets += 1
        st = part.split(self.sep)
        if not element(st, 1) or not element(st, 2):
            yield self._set_error(
                "ST01 (set code) and ST02 (control number) are required",
                1,
                segment_id="ST",
                element=1 if not element(st, 1) else 2,
                code="5",
            )
            self.cur = None
            self.skipping = True

    def _se(self, part: str, pos: int) -> Iterator[Item]:
        if self.skipping:
            self.skipping = False
            return
        if self.cur is None:
            yield self._error(
                "SE without ST",
                segment_id="SE",
                position=pos,
                level="group",
                raw=part.encode("utf-8", "replace"),
            )
            return
        self.cur.append(part)
        self.count += 1
        pieces, self.cur = self.cur, None
        st, se = pieces[0].split(self.sep), part.split(self.sep)
        count, problem = self.count, ""
        if element(se, 1) != str(count):
            problem, el, code = f"SE01 says {element(se, 1)!r} segments, counted {count}", 1, "4"
        elif element(se, 2) != element(st, 2):
            problem, el, code = (
                f"SE02 {element(se, 2)!r} does not match ST02 {element(st, 2)!r}",
                2,
                "3",
            )
        if problem:
            self.cur = pieces
            yield self._set_error(problem, count, segment_id="SE", element=el, code=code)
            self.cur = None
            return
        assert self.group is not None
        yield TransactionSet(
            st[1], st[2], pieces, count, self.group, self.r.source, self.cur_pos, self.term
        )

    # -- groups and the interchange -----------------------------------------------------------

    def _gs(self, part: str, pos: int) -> Iterator[Item]:
        yield from self._close_group(f"no GE: a new GS starts at segment {pos}", pos)
        gs = part.split(self.sep)
        g = [element(gs, i) for i in range(9)]
        self.group = GroupHeader(g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], self.header)
        self.group_pos, self.group_sets = pos, 0
        if not self.group.functional_id or not self.group.control_number.isdigit():
            yield self._error(
                f"GS needs GS01 and a numeric GS06, found {part!r}",
                segment_id="GS",
                position=pos,
                element=6 if self.group.functional_id else 1,
                level="group",
                code="6",
            )

    def _ge(self, part: str, pos: int) -> Iterator[Item]:
        yield from self._close_set(f"no SE: GE at segment {pos}", pos)
        if self.group is None:
            yield self._error("GE without GS", segment_id="GE", position=pos, level="interchange")
            return
        ge = part.split(self.sep)
        if element(ge, 1) != str(self.group_sets):
            yield self._error(
                f"GE01 says {element(ge, 1)!r} transaction sets, counted {self.group_sets}",
                segment_id="GE",
                position=pos,
                element=1,
                level="group",
                code="5",
            )
        if element(ge, 2) != self.group.control_number:
            yield self._error(
                f"GE02 {element(ge, 2)!r} does not match GS06 {self.group.control_number!r}",
                segment_id="GE",
                position=pos,
                element=2,
                level="group",
                code="4",
            )
        self.group = None
        self.groups += 1

    def _iea(self, part: str, pos: int) -> Iterator[Item]:
        yield from self._close_group(f"no GE: IEA at segment {pos}", pos)
        iea = part.split(self.sep)
        if element(iea, 1) != str(self.groups):
            yield self._error(
                f"IEA01 says {element(iea, 1)!r} functional groups, counted {self.groups}",
                segment_id="IEA",
                position=pos,
                element=1,
                level="interchange",
                code="021",
            )
        if element(iea, 2) != self.header.control_number:
            yield self._error(
                f"IEA02 {element(iea, 2)!r} does not match ISA13 {self.header.control_number!r}",
                segment_id="IEA",
                position=pos,
                element=2,
                level="interchange",
                code="001",
            )

    def _close_set(self, why: str, pos: int) -> Iterator[Item]:
        if self.cur is not None:
            yield self._set_error(why, self.count + 1, segment_id="SE", code="2")
            self.cur = None
        self.skipping = False

    def _close_group(self, why: str, pos: int) -> Iterator[Item]:
        yield from self._close_set(why, pos)
        if self.group is not None:
            yield self._error(why, segment_id="GE", position=pos, level="group", code="3")
            self.group = None
            self.groups += 1

    def _close_all(self, why: str, pos: int) -> Iterator[Item]:
        yield from self._close_group(why, pos)
        yield self._error(why, segment_id="IEA", position=pos, level="interchange", code="023")
