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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sandbox.edi.envelope import read_groups
from sandbox.edi.model import (
    DEFAULT_DELIMITERS,
    FUNCTIONAL_IDS,
    ISA_LENGTH,
    ISA_WIDTHS,
    Delimiters,
    FunctionalGroup,
    Interchange,
    InterchangeError,
    Segment,
    Transaction,
    X12Error,
    element,
)

__all__ = [
    "DEFAULT_DELIMITERS",
    "FUNCTIONAL_IDS",
    "Delimiters",
    "FunctionalGroup",
    "Interchange",
    "InterchangeError",
    "Party",
    "Segment",
    "Transaction",
    "X12Error",
    "build_interchange",
    "element",
    "isa_segment",
    "parse_interchange",
    "read_interchange",
    "render_segment",
    "split_segments",
]


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
    for chunk in text.split(delimiters.segment):
        raw = chunk.strip("\r\n")
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
    read_groups(segments[1:-1], interchange)
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
    delimiters: Delimiters = DEFAULT_DELIMITERS,
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
        isa_segment(sender, receiver, interchange_number, when, usage=usage, delimiters=delimiters),
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
    *,
    usage: str = "P",
    delimiters: Delimiters = DEFAULT_DELIMITERS,
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
