"""The parsed shape of an X12 interchange and the errors found while reading one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


DEFAULT_DELIMITERS = Delimiters()


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
