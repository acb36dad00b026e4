"""Functional group and transaction set envelope checks (GS/GE and ST/SE).

Problems are collected on the group or set with their 997 codes (AK905, AK502, AK304) so the
other sets of the interchange still count.
"""

from __future__ import annotations

from sandbox.edi.model import (
    FUNCTIONAL_IDS,
    SEGMENT_ID,
    FunctionalGroup,
    Interchange,
    InterchangeError,
    Segment,
    Transaction,
    X12Error,
    element,
)


def read_groups(segments: list[Segment], interchange: Interchange) -> None:
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
        group = FunctionalGroup(
            functional_id=element(seg, 1),
            sender=element(seg, 2),
            receiver=element(seg, 3),
            date=element(seg, 4),
            time=element(seg, 5),
            control_number=element(seg, 6),
            version=element(seg, 8),
        )
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
