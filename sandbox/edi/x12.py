"""A trading partner's own small X12 (004010) interchange reader and writer.

Reading follows the envelope rules of ASC X12.5/X12.6 as EDI translators apply them:

- the ISA segment is fixed width: 106 characters including the segment terminator; the
  element separator is the character after ``ISA`` (position 4), the component separator is
  ISA16 and the segment terminator follows it; ISA11 is the repetition separator from 00402 on
  and the standards identifier ``U`` in 00401;
- ``IEA01`` counts the functional groups and ``IEA02`` repeats ``ISA13``;
- ``GE01`` counts the transaction sets of its group and ``GE02`` repeats ``GS06``;
- ``SE01`` counts the segments from ST to SE inclusive and ``SE02`` repeats ``ST02``.

Problems at the interchange level raise :class:`InterchangeError` carrying the TA1 note code;
group and transaction problems are collected on the parsed objects with the 997 codes (AK905,
AK502, AK304/AK403) so the other transaction sets of the file still count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

Segment = list[str]

SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106  # including the segment terminator

# Functional identifier code (GS01) for each transaction set this sandbox speaks.
FUNCTIONAL_IDS: dict[str, str] = {
    "940": "OW",
    "945": "SW",
    "846": "IB",
    "852": "PD",
    "850": "PO",
    "855": "PR",
    "810": "IN",
    "997": "FA",
}


class X12Error(ValueError):
    """An envelope or syntax problem, located by segment (and element) where possible."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        segment_id: str = "",
        position: int = 0,
        element: int = 0,
    ) -> None:
        super().__init__(message)
        self.code = code  # TA1 note code, AK905, AK502, AK304 or AK403 code
        self.segment_id = segment_id
        self.position = position  # segment position: in the interchange, or from ST = 1
        self.element = element


class InterchangeError(X12Error):
    """The interchange envelope itself is unusable (answered with a TA1, not a 997)."""


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    repetition: str = "U"  # 'U' in 00401 (the standards identifier), '^' from 00402 on
    segment: str = "~"


@dataclass
class Transaction:
    set_id: str
    control_number: str
    segments: list[Segment]  # the body: everything between ST and SE
    errors: list[X12Error] = field(default_factory=list)

    def first(self, tag: str) -> Segment | None:
        return next((seg for seg in self.segments if seg[0] == tag), None)

    def all(self, tag: str) -> list[Segment]:
        return [seg for seg in self.segments if seg[0] == tag]


@dataclass
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    transactions: list[Transaction] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)


@dataclass
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control_number: str
    ack_requested: str
    usage: str
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)

    def problems(self) -> list[X12Error]:
        found: list[X12Error] = []
        for group in self.groups:
            found.extend(group.errors)
            for tx in group.transactions:
                found.extend(tx.errors)
        return found

    def transactions(self) -> list[Transaction]:
        return [tx for group in self.groups for tx in group.transactions]


def element(seg: Segment, index: int) -> str:
    """``seg[index]`` or "" when the segment is shorter (trailing empty elements are cut)."""
    return seg[index] if index < len(seg) else ""


def _read_isa(text: str) -> tuple[list[str], Delimiters]:
    if not text.startswith("ISA"):
        head = text[:20].encode("unicode_escape").decode("ascii")
        raise InterchangeError(
            f"not an X12 interchange: content must start with 'ISA', found {head!r}",
            code="022",
            segment_id="ISA",
            position=1,
        )
    if len(text) < ISA_LENGTH:
        raise InterchangeError(
            f"ISA segment is {len(text)} characters, it must be {ISA_LENGTH} (fixed width)",
            code="023",
            segment_id="ISA",
            position=1,
        )
    sep = text[3]
    if sep.isalnum() or sep.isspace():
        raise InterchangeError(
            f"ISA: element separator {sep!r} (position 4) must not be a letter, digit or space",
            code="026",
            segment_id="ISA",
            position=1,
        )
    fields = text[: ISA_LENGTH - 1].split(sep)
    if len(fields) != 17:
        raise InterchangeError(
            f"ISA: found {len(fields) - 1} elements separated by {sep!r}, expected 16 "
            f"(wrong element separator or ISA not fixed width)",
            code="026",
            segment_id="ISA",
            position=1,
        )
    for index, (value, width) in enumerate(zip(fields[1:], ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise InterchangeError(
                f"ISA{index:02d}: {value!r} is {len(value)} characters, must be exactly {width}",
                code="022",
                segment_id="ISA",
                position=1,
                element=index,
            )
    component, terminator = fields[16], text[ISA_LENGTH - 1]
    used = {sep, component, terminator}
    if len(used) != 3 or terminator.isalnum() or component.isalnum():
        raise InterchangeError(
            f"ISA: delimiters must be distinct non-alphanumeric characters: element {sep!r}, "
            f"component {component!r} (ISA16), segment terminator {terminator!r}",
            code="027" if component.isalnum() or component in (sep, terminator) else "004",
            segment_id="ISA",
            position=1,
            element=16,
        )
    repetition = fields[11] if fields[12] >= "00402" else "U"
    return fields, Delimiters(sep, component, repetition, terminator)


def _check_isa_values(fields: list[str]) -> None:
    checks = (
        (12, fields[12] == "00401" or fields[12].isdigit(), "017", "version number"),
        (13, fields[13].isdigit(), "018", "control number must be 9 digits"),
        (9, fields[9].isdigit(), "014", "date must be YYMMDD"),
        (10, fields[10].isdigit(), "015", "time must be HHMM"),
        (14, fields[14] in ("0", "1"), "019", "acknowledgment requested must be 0 or 1"),
        (15, fields[15] in ("P", "T", "I"), "020", "usage indicator must be P, T or I"),
    )
    for index, ok, code, what in checks:
        if not ok:
            raise InterchangeError(
                f"ISA{index:02d}: {fields[index]!r}: {what}",
                code=code,
                segment_id="ISA",
                position=1,
                element=index,
            )


def split_segments(text: str, delimiters: Delimiters) -> list[Segment]:
    """All segments of an interchange (line breaks after terminators are tolerated)."""
    segments: list[Segment] = []
    for raw in text.split(delimiters.segment):
        raw = raw.strip("\r\n")
        if raw.strip():
            segments.append(raw.split(delimiters.element))
    return segments


def read_interchange(data: bytes | str) -> Interchange:
    """Parse one interchange; envelope errors of groups and sets are kept on the objects."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    else:
        text = data
    fields, delimiters = _read_isa(text)
    _check_isa_values(fields)
    segments = split_segments(text, delimiters)
    interchange = Interchange(
        fields[5],
        fields[6].rstrip(),
        fields[7],
        fields[8].rstrip(),
        fields[9],
        fields[10],
        fields[12],
        fields[13],
        fields[14],
        fields[15],
        delimiters,
    )
    iea = segments[-1]
    if iea[0] != "IEA":
        raise InterchangeError(
            f"IEA segment missing at the end (last segment is {iea[0]!r})",
            code="023",
            segment_id="IEA",
            position=len(segments),
        )
    _read_groups(segments[1:-1], interchange)
    if element(iea, 2) != fields[13]:
        raise InterchangeError(
            f"IEA02 {element(iea, 2)!r} does not match ISA13 {fields[13]!r}",
            code="001",
            segment_id="IEA",
            position=len(segments),
            element=2,
        )
    if element(iea, 1) != str(len(interchange.groups)):
        raise InterchangeError(
            f"IEA01 says {element(iea, 1)!r} functional groups, the interchange has "
            f"{len(interchange.groups)}",
            code="021",
            segment_id="IEA",
            position=len(segments),
            element=1,
        )
    return interchange


def _read_groups(segments: list[Segment], interchange: Interchange) -> None:
    index = 0
    while index < len(segments):
        seg = segments[index]
        if seg[0] == "TA1":
            index += 1
            continue
        if seg[0] != "GS":
            raise InterchangeError(
                f"segment {index + 2} ({seg[0]}): expected GS, a functional group must start here",
                code="024",
                segment_id=seg[0],
                position=index + 2,
            )
        end = next((i for i in range(index + 1, len(segments)) if segments[i][0] == "GE"), None)
        nested = next(
            (i for i in range(index + 1, end or len(segments)) if segments[i][0] == "GS"), None
        )
        group = FunctionalGroup(*(element(seg, i) for i in (1, 2, 3, 4, 5, 6, 8)))
        interchange.groups.append(group)
        if end is None or nested is not None:
            stop = nested if nested is not None else len(segments)
            group.errors.append(
                X12Error(f"GS {group.control_number}: GE trailer missing", code="3")
            )
            _read_transactions(segments[index + 1 : stop], group)
            index = stop
            continue
        _read_transactions(segments[index + 1 : end], group)
        _check_group_trailer(group, segments[end])
        index = end + 1


def _check_group_trailer(group: FunctionalGroup, ge: Segment) -> None:
    if element(ge, 2) != group.control_number:
        group.errors.append(
            X12Error(
                f"GE02 {element(ge, 2)!r} does not match GS06 {group.control_number!r}",
                code="4",
                segment_id="GE",
                element=2,
            )
        )
    if element(ge, 1) != str(len(group.transactions)):
        group.errors.append(
            X12Error(
                f"GE01 says {element(ge, 1)!r} transaction sets, group {group.control_number} "
                f"has {len(group.transactions)}",
                code="5",
                segment_id="GE",
                element=1,
            )
        )


def _read_transactions(segments: list[Segment], group: FunctionalGroup) -> None:
    index = 0
    seen: set[str] = set()
    while index < len(segments):
        seg = segments[index]
        if seg[0] != "ST":
            group.errors.append(
                X12Error(
                    f"segment {seg[0]} outside a transaction set (expected ST)",
                    code="2",
                    segment_id=seg[0],
                )
            )
            index += 1
            continue
        end = next((i for i in range(index + 1, len(segments)) if segments[i][0] == "SE"), None)
        nested = next(
            (i for i in range(index + 1, end or len(segments)) if segments[i][0] == "ST"), None
        )
        tx = Transaction(element(seg, 1), element(seg, 2), [])
        group.transactions.append(tx)
        if tx.control_number in seen:
            tx.errors.append(
                X12Error(f"ST02 {tx.control_number} not unique in the group", code="23")
            )
        seen.add(tx.control_number)
        if end is None or nested is not None:
            stop = nested if nested is not None else len(segments)
            tx.segments = segments[index + 1 : stop]
            tx.errors.append(
                X12Error(f"ST {tx.set_id} {tx.control_number}: SE trailer missing", code="2")
            )
            index = stop
            continue
        tx.segments = segments[index + 1 : end]
        _check_transaction(tx, group, segments[end])
        index = end + 1


def _check_transaction(tx: Transaction, group: FunctionalGroup, se: Segment) -> None:
    count = len(tx.segments) + 2
    if FUNCTIONAL_IDS.get(tx.set_id) != group.functional_id:
        tx.errors.append(
            X12Error(
                f"ST01 {tx.set_id!r} is not a transaction set of functional group "
                f"{group.functional_id!r}",
                code="6",
                segment_id="ST",
                position=1,
                element=1,
            )
        )
    if element(se, 2) != tx.control_number:
        tx.errors.append(
            X12Error(
                f"SE02 {element(se, 2)!r} does not match ST02 {tx.control_number!r}",
                code="3",
                segment_id="SE",
                position=count,
                element=2,
            )
        )
    if element(se, 1) != str(count):
        tx.errors.append(
            X12Error(
                f"SE01 says {element(se, 1)!r} segments, transaction set {tx.control_number} "
                f"has {count} (ST to SE inclusive)",
                code="4",
                segment_id="SE",
                position=count,
                element=1,
            )
        )
    for position, seg in enumerate(tx.segments, start=2):
        if not SEGMENT_ID.match(seg[0]):
            tx.errors.append(
                X12Error(
                    f"segment {position} of set {tx.control_number}: {seg[0][:10]!r} is not a "
                    f"segment id",
                    code="1",
                    segment_id=seg[0][:3],
                    position=position,
                )
            )


def parse_interchange(data: bytes | str) -> Interchange:
    """Like :func:`read_interchange` but raises the first group/transaction problem too."""
    interchange = read_interchange(data)
    problems = interchange.problems()
    if problems:
        raise problems[0]
    return interchange


@dataclass(frozen=True)
class Party:
    """An interchange partner: ISA05/ISA06 (or ISA07/ISA08) and the GS02/GS03 code."""

    qualifier: str
    interchange_id: str
    application_code: str


def render_segment(seg: Sequence[str], delimiters: Delimiters) -> str:
    values = list(seg)
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return delimiters.element.join(values) + delimiters.segment


def build_interchange(
    sender: Party,
    receiver: Party,
    transactions: Sequence[tuple[str, list[Segment]]],
    *,
    interchange_number: int,
    group_number: int,
    when: datetime,
    usage: str = "P",
    delimiters: Delimiters = Delimiters(),
    version: str = "004010",
    newline: bool = True,
) -> str:
    """One interchange with one functional group holding ``transactions`` (set id, body)."""
    if not transactions:
        raise ValueError("an interchange needs at least one transaction set")
    set_ids = {set_id for set_id, _ in transactions}
    if len(set_ids) != 1:
        raise ValueError(f"one functional group holds one kind of set, got {sorted(set_ids)}")
    functional_id = FUNCTIONAL_IDS[transactions[0][0]]
    lines = [
        isa_segment(sender, receiver, interchange_number, when, usage, delimiters),
        render_segment(
            [
                "GS",
                functional_id,
                sender.application_code,
                receiver.application_code,
                when.strftime("%Y%m%d"),
                when.strftime("%H%M"),
                str(group_number),
                "X",
                version,
            ],
            delimiters,
        ),
    ]
    for number, (set_id, body) in enumerate(transactions, start=1):
        control = f"{number:04d}"
        lines.append(render_segment(["ST", set_id, control], delimiters))
        lines.extend(render_segment(seg, delimiters) for seg in body)
        lines.append(render_segment(["SE", str(len(body) + 2), control], delimiters))
    lines.append(render_segment(["GE", str(len(transactions)), str(group_number)], delimiters))
    lines.append(render_segment(["IEA", "1", f"{interchange_number:09d}"], delimiters))
    return ("\n" if newline else "").join(lines) + ("\n" if newline else "")


def isa_segment(
    sender: Party,
    receiver: Party,
    interchange_number: int,
    when: datetime,
    usage: str = "P",
    delimiters: Delimiters = Delimiters(),
    ack_requested: str = "0",
) -> str:
    values = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender.qualifier,
        sender.interchange_id.ljust(15)[:15],
        receiver.qualifier,
        receiver.interchange_id.ljust(15)[:15],
        when.strftime("%y%m%d"),
        when.strftime("%H%M"),
        delimiters.repetition,
        "00401",
        f"{interchange_number:09d}",
        ack_requested,
        usage,
        delimiters.component,
    ]
    return delimiters.element.join(values) + delimiters.segment
