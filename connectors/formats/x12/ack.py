"""The 997 functional acknowledgment: build one for a received group, read a received one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from connectors.formats.x12.model import GroupHeader, TransactionSet, X12Error, element
from connectors.formats.x12.writer import SegmentIn, SetOut


def functional_ack(
    group: GroupHeader, results: Sequence[TransactionSet | X12Error], control_number: str
) -> SetOut:
    """A 997 for one received group: AK1, then AK2/AK5 per set (with AK3/AK4 for a set
    error that names its segment), and AK9 with the counts. ``results`` are the reader's
    items for the sets of that group."""
    body: list[SegmentIn] = [["AK1", group.functional_id, group.control_number]]
    accepted = 0
    for item in results:
        if isinstance(item, TransactionSet):
            body += [["AK2", item.code, item.control_number], ["AK5", "A"]]
            accepted += 1
            continue
        body.append(["AK2", item.set_code, item.set_control])
        if item.segment_id and item.position:
            body.append(["AK3", item.segment_id, str(item.position)])
            if item.element:
                body.append(["AK4", str(item.element)])
        body.append(["AK5", "R", item.code or "5"])  # 5: one or more segments in error
    received = len(results)
    status = "A" if accepted == received else ("R" if accepted == 0 else "P")
    body.append(["AK9", status, str(received), str(received), str(accepted)])
    return SetOut("997", control_number, body)


@dataclass(frozen=True)
class SetAck:
    code: str  # AK201
    control_number: str  # AK202
    status: str  # AK501: A accepted, E accepted with errors, R rejected
    errors: tuple[str, ...] = ()  # AK502..AK506 codes and AK3 segment notes


@dataclass(frozen=True)
class GroupAck:
    """What a received 997 says about one group we sent."""

    functional_id: str  # AK101
    group_control: str  # AK102
    status: str  # AK901: A, E, P (partially accepted) or R
    sets: tuple[SetAck, ...] = field(default_factory=tuple)


def read_functional_ack(ts: TransactionSet) -> GroupAck:
    """The AK1/AK2/AK5/AK9 content of a 997; raises ``X12Error`` when AK1 or AK9 is missing."""
    ak1: list[str] | None = None
    status = ""
    sets: list[SetAck] = []
    current: list[str] | None = None
    notes: list[str] = []
    for seg in ts.body:
        tag = seg[0]
        if tag == "AK1":
            ak1 = seg
        elif tag == "AK2":
            current, notes = seg, []
        elif tag in ("AK3", "AK4"):
            notes.append(ts.delimiters.element.join(seg))
        elif tag == "AK5" and current is not None:
            codes = tuple(c for c in seg[2:] if c) + tuple(notes)
            sets.append(SetAck(element(current, 1), element(current, 2), element(seg, 1), codes))
            current = None
        elif tag == "AK9":
            status = element(seg, 1)
    if ak1 is None or not status:
        missing = "AK1" if ak1 is None else "AK9"
        raise X12Error(
            f"997 without {missing}",
            source=ts.source,
            interchange=ts.interchange.control_number,
            group=ts.group.control_number,
            set_code=ts.code,
            set_control=ts.control_number,
            segment_id=missing,
            raw=ts.raw,
        )
    return GroupAck(element(ak1, 1), element(ak1, 2), status, tuple(sets))
