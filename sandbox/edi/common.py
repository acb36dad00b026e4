"""Pieces shared by the transaction-set builders: parties (N1 loop), dates, numbers."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sandbox.edi.x12 import Segment, Transaction, X12Error, element


class DocumentError(X12Error):
    """A transaction set whose content (not envelope) is unusable."""

    def __init__(self, tx: Transaction, message: str, *, segment_id: str = "") -> None:
        super().__init__(
            f"{tx.set_id} {tx.control_number}: {message}", code="5", segment_id=segment_id
        )


@dataclass(frozen=True)
class NamedParty:
    """An N1 loop: entity code (ST ship-to, BY buyer, ...), name, id and address."""

    entity: str
    name: str
    id_qualifier: str = ""
    id_code: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""

    def segments(self) -> list[Segment]:
        out: list[Segment] = [["N1", self.entity, self.name, self.id_qualifier, self.id_code]]
        if self.street:
            out.append(["N3", self.street])
        if self.city or self.postcode or self.country:
            out.append(["N4", self.city, self.state, self.postcode, self.country])
        return out


def read_parties(tx: Transaction) -> list[NamedParty]:
    parties: list[NamedParty] = []
    current: dict[str, str] | None = None
    for seg in tx.segments:
        if seg[0] == "N1":
            if current is not None:
                parties.append(NamedParty(**current))
            current = {
                "entity": element(seg, 1),
                "name": element(seg, 2),
                "id_qualifier": element(seg, 3),
                "id_code": element(seg, 4),
            }
        elif seg[0] == "N3" and current is not None:
            current["street"] = element(seg, 1)
        elif seg[0] == "N4" and current is not None:
            current.update(
                city=element(seg, 1),
                state=element(seg, 2),
                postcode=element(seg, 3),
                country=element(seg, 4),
            )
        elif current is not None and seg[0] not in ("N2", "PER"):
            parties.append(NamedParty(**current))
            current = None
    if current is not None:
        parties.append(NamedParty(**current))
    return parties


def party(tx: Transaction, entity: str) -> NamedParty | None:
    return next((p for p in read_parties(tx) if p.entity == entity), None)


def ccyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def read_date(tx: Transaction, seg: Segment, index: int) -> date:
    value = element(seg, index)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise DocumentError(
            tx, f"{seg[0]}{index:02d}: {value!r} is not a CCYYMMDD date", segment_id=seg[0]
        ) from exc


def read_number(tx: Transaction, seg: Segment, index: int) -> Decimal:
    value = element(seg, index)
    try:
        return Decimal(value)
    except ArithmeticError as exc:
        raise DocumentError(
            tx, f"{seg[0]}{index:02d}: {value!r} is not a number", segment_id=seg[0]
        ) from exc


def read_int(tx: Transaction, seg: Segment, index: int) -> int:
    number = read_number(tx, seg, index)
    if number != number.to_integral_value():
        raise DocumentError(tx, f"{seg[0]}{index:02d}: {number} is not whole", segment_id=seg[0])
    return int(number)


def require(tx: Transaction, tag: str) -> Segment:
    seg = tx.first(tag)
    if seg is None:
        raise DocumentError(tx, f"mandatory segment {tag} missing", segment_id=tag)
    return seg


def product_ids(seg: Segment, start: int) -> dict[str, str]:
    """Qualifier/id pairs from ``start`` on (e.g. LIN02.., PO106.., W0104..)."""
    ids: dict[str, str] = {}
    for index in range(start, len(seg) - 1, 2):
        if seg[index] and seg[index + 1]:
            ids.setdefault(seg[index], seg[index + 1])
    return ids


def amount(value: Decimal) -> str:
    """An X12 R (decimal) value: no trailing zeros, no exponent."""
    text = format(value.normalize(), "f")
    return text


class ControlNumbers:
    """The partner's own interchange (ISA13) and group (GS06) counters, kept in a file."""

    def __init__(self, path: Path, start: int = 1) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._start = start

    def next(self) -> tuple[int, int]:
        with self._lock:
            state = {"interchange": self._start - 1, "group": self._start - 1}
            if self.path.exists():
                state.update(json.loads(self.path.read_text("utf-8")))
            state["interchange"] = state["interchange"] % 999_999_999 + 1
            state["group"] = state["group"] % 999_999_999 + 1
            write_atomic(self.path, json.dumps(state).encode("utf-8"))
            return state["interchange"], state["group"]


def write_atomic(path: Path, data: bytes) -> None:
    """Write under a temporary name in the same folder, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        adopt(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def adopt(path: Path) -> None:
    """Give ``path`` to the owner of its folder when running as root (the SFTP user's area)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    owner = path.parent.stat()
    if path.stat().st_uid != owner.st_uid:
        os.chown(path, owner.st_uid, owner.st_gid)


def make_area(*folders: Path) -> None:
    """Create partner folders, writable by the owner of the folder they live in."""
    for folder in folders:
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        for created in reversed(missing):
            adopt(created)
