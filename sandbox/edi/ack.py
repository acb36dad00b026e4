"""Acknowledgements: the 997 functional acknowledgment (GS01 FA) and the TA1 segment.

A 997 answers one functional group: AK1 (GS01, GS06), per transaction set AK2 (ST01, ST02),
AK3 (segment id, position from ST = 1, loop, AK304 code) and AK4 (element position, AK403
code), AK5 (A accepted / R rejected and AK502 codes); AK9 (A/P/R/E, sets included, received,
accepted, AK905 codes). Interchange (ISA/IEA) problems are answered with a TA1 instead:
TA1 (ISA13, ISA09, ISA10, R, note code) in an interchange of its own without groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sandbox.edi.x12 import (
    DEFAULT_DELIMITERS,
    Delimiters,
    FunctionalGroup,
    InterchangeError,
    Party,
    Segment,
    Transaction,
    X12Error,
    element,
    isa_segment,
    render_segment,
)


def _transaction_response(tx: Transaction, errors: list[X12Error]) -> list[Segment]:
    body: list[Segment] = [["AK2", tx.set_id, tx.control_number]]
    set_codes: list[str] = []
    for error in errors:
        if error.segment_id in ("ST", "SE") or error.code in ("2", "3", "4", "6", "7", "23"):
            set_codes.append(error.code)
            continue
        body.append(["AK3", error.segment_id, str(error.position or 1), "", error.code])
        if error.element:
            body.append(["AK4", str(error.element), "", "7"])
    if errors and not set_codes:
        set_codes.append("5")
    body.append(["AK5", "R" if errors else "A", *set_codes[:5]])
    return body


def build_997(
    group: FunctionalGroup, content_errors: dict[str, list[X12Error]] | None = None
) -> list[Segment]:
    """The 997 body for ``group``; ``content_errors`` adds errors per ST02 found in content."""
    content_errors = content_errors or {}
    body: list[Segment] = [["AK1", group.functional_id, group.control_number]]
    accepted = 0
    for tx in group.transactions:
        errors = tx.errors + content_errors.get(tx.control_number, [])
        accepted += not errors
        body.extend(_transaction_response(tx, errors))
    received = len(group.transactions)
    group_codes = [e.code for e in group.errors][:5]
    if group.errors or accepted == 0:
        status = "R"
    elif accepted < received:
        status = "P"
    else:
        status = "A"
    body.append(["AK9", status, str(received), str(received), str(accepted), *group_codes])
    return body


@dataclass(frozen=True)
class SetResult:
    set_id: str
    control_number: str
    status: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Acknowledgment:
    """A parsed 997."""

    functional_id: str
    group_control_number: str
    status: str
    received: int
    accepted: int
    sets: tuple[SetResult, ...] = field(default_factory=tuple)


def parse_997(tx: Transaction) -> Acknowledgment:
    ak1 = tx.first("AK1") or ["AK1"]
    ak9 = tx.first("AK9") or ["AK9"]
    sets: list[SetResult] = []
    current: Segment | None = None
    for seg in tx.segments:
        if seg[0] == "AK2":
            current = seg
        elif seg[0] == "AK5" and current is not None:
            sets.append(
                SetResult(element(current, 1), element(current, 2), element(seg, 1), tuple(seg[2:]))
            )
            current = None
    return Acknowledgment(
        functional_id=element(ak1, 1),
        group_control_number=element(ak1, 2),
        status=element(ak9, 1),
        received=int(element(ak9, 3) or 0),
        accepted=int(element(ak9, 4) or 0),
        sets=tuple(sets),
    )


def build_ta1_interchange(
    sender: Party,
    receiver: Party,
    rejected: tuple[str, str, str],
    error: InterchangeError,
    *,
    interchange_number: int,
    when: datetime,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> str:
    """An interchange holding only a TA1 rejecting (ISA13, ISA09, ISA10) of ``rejected``."""
    control, day, time = rejected
    lines = [
        isa_segment(sender, receiver, interchange_number, when, delimiters=delimiters),
        render_segment(["TA1", control, day, time, "R", error.code], delimiters),
        render_segment(["IEA", "0", f"{interchange_number:09d}"], delimiters),
    ]
    return "\n".join(lines) + "\n"


def isa_identity(text: str) -> tuple[Party, tuple[str, str, str]] | None:
    """The sender and (ISA13, ISA09, ISA10) of a damaged interchange, when its ISA is readable."""
    if not text.startswith("ISA") or len(text) < 106:
        return None
    fields = text[:105].split(text[3])
    if len(fields) != 17:
        return None
    sender = Party(fields[5], fields[6].strip(), fields[6].strip())
    return sender, (fields[13], fields[9], fields[10])
