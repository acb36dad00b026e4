"""What the X12 reader yields: envelope headers, transaction sets and located errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from canonical.errors import PermanentError

Segment = list[str]

# ISA elements are fixed width (X12.5); the ISA segment is 106 characters with its terminator.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106


@dataclass(frozen=True)
class Delimiters:
    """Element separator, component separator (ISA16), repetition separator (ISA11 from
    00402 on; None in 00401 where ISA11 is the standards identifier 'U') and segment
    terminator."""

    element: str = "*"
    component: str = ">"
    repetition: str | None = "^"
    segment: str = "~"


@dataclass(frozen=True)
class InterchangeHeader:
    """The ISA segment of one interchange."""

    sender_qualifier: str
    sender_id: str  # ISA06 without its padding
    receiver_qualifier: str
    receiver_id: str
    date: str  # YYMMDD
    time: str  # HHMM
    version: str  # ISA12, e.g. 00401 or 00501
    control_number: str  # ISA13
    ack_requested: str
    usage: str  # P production, T test, I information
    delimiters: Delimiters


@dataclass(frozen=True)
class GroupHeader:
    """The GS segment of one functional group, with the interchange it belongs to."""

    functional_id: str  # GS01, e.g. SW for a 945
    sender: str  # GS02
    receiver: str  # GS03
    date: str  # GS04 CCYYMMDD
    time: str
    control_number: str  # GS06
    agency: str  # GS07, X
    version: str  # GS08, e.g. 004010
    interchange: InterchangeHeader


@dataclass
class TransactionSet:
    """One ST..SE transaction set: its text (split on demand) and where it was."""

    code: str  # ST01, e.g. "945"
    control_number: str  # ST02
    pieces: list[str]  # the set's text ST..SE in pieces, joined by the segment terminator
    segment_count: int  # segments ST..SE inclusive (= SE01)
    group: GroupHeader
    source: str  # file name
    position: int  # segment number of the ST in the file (ISA = 1)
    terminator: str = "~"  # what the pieces are joined by: the segment terminator, plus
    # the line break when every segment of the file has one after it
    _segments: list[Segment] | None = field(default=None, repr=False)
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def interchange(self) -> InterchangeHeader:
        return self.group.interchange

    @property
    def delimiters(self) -> Delimiters:
        return self.group.interchange.delimiters

    @property
    def text(self) -> str:
        """The segments ST..SE joined by ``terminator`` (none after SE)."""
        return self.terminator.join(self.pieces)

    @property
    def lines(self) -> list[str]:
        """The segments ST..SE as unsplit text (split once, then kept)."""
        if self._lines is None:
            self._lines = self.text.split(self.terminator)
        return self._lines

    @property
    def segments(self) -> list[Segment]:
        """All segments ST..SE, each a list of elements (``seg[0]`` is the segment id)."""
        if self._segments is None:
            sep = self.delimiters.element
            self._segments = [line.split(sep) for line in self.lines]
        return self._segments

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return self.segments[1:-1]

    @property
    def raw(self) -> bytes:
        return (self.text + self.terminator).encode("utf-8")

    @property
    def where(self) -> str:
        return (
            f"{self.source}: interchange {self.interchange.control_number}, "
            f"group {self.group.control_number}, set {self.code} {self.control_number}"
        )


class X12Error(PermanentError):
    """An X12 problem located by file, interchange, group, set, segment and element.

    The reader yields these (it does not raise them) so the rest of a file goes on;
    ``raw`` holds the bytes of the transaction set (or of the unusable content).
    ``code`` is the 997 code where one applies: AK502 (set level, e.g. '4' segment count
    wrong, '3' control number mismatch), AK905 (group level) or the TA1 note code.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        interchange: str = "",
        group: str = "",
        set_code: str = "",
        set_control: str = "",
        segment_id: str = "",
        position: int = 0,
        element: int = 0,
        code: str = "",
        level: str = "set",
        raw: bytes = b"",
    ) -> None:
        self.detail = message
        self.source = source
        self.interchange = interchange
        self.group = group
        self.set_code = set_code
        self.set_control = set_control
        self.segment_id = segment_id
        self.position = position
        self.element = element
        self.code = code
        self.level = level  # "file", "interchange", "group" or "set"
        self.raw = raw
        super().__init__(self._text())

    def _text(self) -> str:
        where = [self.source or "<input>"]
        if self.interchange:
            where.append(f"interchange {self.interchange}")
        if self.group:
            where.append(f"group {self.group}")
        if self.set_control:
            where.append(f"set {self.set_code} {self.set_control}".replace("  ", " "))
        if self.segment_id:
            at = (
                f"segment {self.position} ({self.segment_id})"
                if self.position
                else (f"segment {self.segment_id}")
            )
            if self.element:
                at += f" element {self.segment_id}{self.element:02d}"
            where.append(at)
        return ", ".join(where) + ": " + self.detail


def element(seg: Segment, index: int) -> str:
    """``seg[index]``, or "" when the segment is shorter (trailing empty elements are cut)."""
    return seg[index] if index < len(seg) else ""
