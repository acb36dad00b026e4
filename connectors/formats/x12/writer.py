"""Build X12 interchanges: the ISA padded to its fixed widths, GS/ST/SE/GE/IEA counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.formats.x12.model import ISA_WIDTHS, Delimiters, X12Error

# Functional identifier code (GS01) for the transaction sets Tandem exchanges.
FUNCTIONAL_IDS: dict[str, str] = {
    "940": "OW",
    "945": "SW",
    "846": "IB",
    "852": "PD",
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "810": "IN",
    "997": "FA",
}

SegmentIn = Sequence[str | Sequence[str]]  # elements; a sequence element is a composite


@dataclass(frozen=True)
class Party:
    """An interchange partner: ISA qualifier/id and the GS application code."""

    qualifier: str  # ISA05/ISA07, e.g. ZZ, 01, 12
    id: str  # ISA06/ISA08 (up to 15 characters)
    gs_id: str = ""  # GS02/GS03; the ISA id when empty

    @property
    def application(self) -> str:
        return self.gs_id or self.id


@dataclass
class SetOut:
    """One transaction set to write: its code, control number and body segments."""

    code: str
    control_number: str
    body: Sequence[SegmentIn]


@dataclass
class GroupOut:
    control_number: int
    sets: list[SetOut] = field(default_factory=list)
    functional_id: str = ""  # from FUNCTIONAL_IDS by the first set's code when empty
    version: str = "004010"


def render_segment(segment: SegmentIn, delimiters: Delimiters) -> str:
    """One segment with its terminator; trailing empty elements are dropped. An element
    holding a delimiter is refused (naming segment and element), never silently mangled."""
    forbidden = {delimiters.element, delimiters.segment, delimiters.component}
    if delimiters.repetition:
        forbidden.add(delimiters.repetition)
    out: list[str] = []
    tag = str(segment[0])
    for index, value in enumerate(segment):
        parts = [value] if isinstance(value, str) else list(value)
        for part in parts:
            bad = forbidden.intersection(part)
            if bad:
                raise X12Error(
                    f"value {part!r} contains the delimiter {''.join(sorted(bad))!r}",
                    segment_id=tag,
                    element=index,
                    level="set",
                )
        out.append(parts[0] if len(parts) == 1 else delimiters.component.join(parts))
    while len(out) > 1 and out[-1] == "":
        out.pop()
    return delimiters.element.join(out) + delimiters.segment


def isa_segment(
    sender: Party,
    receiver: Party,
    control_number: int,
    delimiters: Delimiters,
    *,
    usage: str = "T",
    version: str = "00401",
    ack_requested: bool = False,
    now: datetime | None = None,
) -> str:
    """The ISA with every element padded to its fixed width (106 characters)."""
    now = now or datetime.now(UTC)
    if version >= "00402" and not delimiters.repetition:
        raise X12Error(f"ISA12 {version} needs a repetition separator", segment_id="ISA")
    values = [
        "00",
        "",
        "00",
        "",
        sender.qualifier,
        sender.id,
        receiver.qualifier,
        receiver.id,
        now.strftime("%y%m%d"),
        now.strftime("%H%M"),
        delimiters.repetition if version >= "00402" and delimiters.repetition else "U",
        version,
        f"{control_number:09d}",
        "1" if ack_requested else "0",
        usage,
        delimiters.component,
    ]
    for index, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
        if len(value) > width:
            raise X12Error(
                f"{value!r} is longer than {width} characters",
                segment_id="ISA",
                element=index,
                level="interchange",
            )
    padded = [
        v.ljust(w) if i in (2, 4, 6, 8) else v
        for i, (v, w) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1)
    ]
    for index, (value, width) in enumerate(zip(padded, ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise X12Error(
                f"{value!r} must be exactly {width} characters",
                segment_id="ISA",
                element=index,
                level="interchange",
            )
    if control_number < 0 or control_number > 999_999_999:
        raise X12Error("ISA13 must be 1..999999999", segment_id="ISA", element=13)
    return "ISA" + delimiters.element + delimiters.element.join(padded) + delimiters.segment


def build_interchange(
    sender: Party,
    receiver: Party,
    control_number: int,
    groups: Sequence[GroupOut],
    *,
    delimiters: Delimiters | None = None,
    usage: str = "T",
    version: str = "00401",
    ack_requested: bool = False,
    now: datetime | None = None,
    newline: bool = False,
) -> bytes:
    """A complete interchange: ISA, each GS..GE with its ST..SE sets, IEA; all counts set."""
    d = delimiters or Delimiters(repetition="^" if version >= "00402" else None)
    now = now or datetime.now(UTC)
    nl = "\n" if newline else ""
    out = [
        isa_segment(
            sender,
            receiver,
            control_number,
            d,
            usage=usage,
            version=version,
            ack_requested=ack_requested,
            now=now,
        )
    ]
    for group in groups:
        fid = group.functional_id or (
            FUNCTIONAL_IDS.get(group.sets[0].code, "") if group.sets else ""
        )
        if not fid:
            raise X12Error(
                "GS01: functional identifier unknown; set GroupOut.functional_id",
                segment_id="GS",
                element=1,
                level="group",
            )
        gs = [
            "GS",
            fid,
            sender.application,
            receiver.application,
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            str(group.control_number),
            "X",
            group.version,
        ]
        out.append(render_segment(gs, d))
        for tx in group.sets:
            out.extend(render_set(tx, d))
        out.append(render_segment(["GE", str(len(group.sets)), str(group.control_number)], d))
    out.append(render_segment(["IEA", str(len(groups)), f"{control_number:09d}"], d))
    return nl.join(out).encode("utf-8") + nl.encode()


def render_set(tx: SetOut, delimiters: Delimiters) -> list[str]:
    """ST, the body and SE (SE01 = body + 2) as rendered segments."""
    lines = [render_segment(["ST", tx.code, tx.control_number], delimiters)]
    lines.extend(render_segment(seg, delimiters) for seg in tx.body)
    lines.append(render_segment(["SE", str(len(tx.body) + 2), tx.control_number], delimiters))
    return lines
