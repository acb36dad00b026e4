"""Reading a distributor's X12 file with the shared codec, strictly at the envelope.

The codec (``connectors.formats.x12``) yields each transaction set and a located error for
each problem; group and interchange trailer problems (GE01/GE02, IEA01/IEA02, a truncated
file) come *after* the sets they cover. An EDI translator rejects a whole group or
interchange whose envelope is wrong (the 997/TA1 says so), so this adapter holds the sets
of one interchange until its IEA has been checked: a set is handed on only from an intact
interchange; the sets of a broken one are quarantined with the envelope error as reason.

It also checks that the interchange comes from the distributor (ISA06, when configured) and
skips sets of other kinds (a 997 in a file of 852s).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from connectors.formats.x12 import TransactionSet, X12Error, read_x12


@dataclass(frozen=True)
class SetProblem:
    """A transaction set (or unusable content) that cannot be used, with its raw bytes."""

    where: str
    reason: str
    raw: bytes


def _interchange_of(item: TransactionSet | X12Error) -> str:
    if isinstance(item, TransactionSet):
        return item.interchange.control_number
    return item.interchange


def envelope_checked(
    data: bytes,
    source: str,
    *,
    codes: Iterable[str],
    sender_id: str | None = None,
    encoding: str = "utf-8",
) -> Iterator[TransactionSet | SetProblem]:
    """The sets of ``codes`` from intact interchanges, and a ``SetProblem`` for the rest."""
    wanted = frozenset(codes)
    held: list[TransactionSet] = []
    current: str | None = None
    broken: list[X12Error] = []

    def flush() -> Iterator[TransactionSet | SetProblem]:
        if broken:
            reason = "; ".join(str(e) for e in broken)
            for tx in held:
                yield SetProblem(tx.where, f"envelope rejected: {reason}", tx.raw)
        else:
            yield from held
        held.clear()
        broken.clear()

    for item in read_x12(data, source, encoding=encoding):
        number = _interchange_of(item)
        if number and number != current:
            yield from flush()
            current = number
        if isinstance(item, X12Error):
            if item.level == "set":
                if not item.set_code or item.set_code in wanted:
                    yield SetProblem(_where(item), str(item), item.raw)
            elif held:  # the held sets' group or interchange is broken: all are rejected
                broken.append(item)
            else:
                yield SetProblem(_where(item), str(item), item.raw)
            continue
        if item.code not in wanted:
            continue
        if sender_id and item.interchange.sender_id.strip() != sender_id.strip():
            yield SetProblem(
                item.where,
                f"{item.where}: ISA06 sender {item.interchange.sender_id!r} is not the "
                f"distributor's id {sender_id!r}",
                item.raw,
            )
            continue
        held.append(item)
    yield from flush()


def _where(error: X12Error) -> str:
    parts = [error.source]
    if error.interchange:
        parts.append(f"interchange {error.interchange}")
    if error.set_control:
        parts.append(f"set {error.set_code} {error.set_control}")
    return ", ".join(parts)
