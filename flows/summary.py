"""What a flow run did, counted the same way for every flow."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass
class FlowSummary:
    flow: str
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    stale: int = 0
    quarantined: int = 0
    delivered: int = 0
    skipped: int = 0  # deliveries not sent: the target already holds this content
    retrying: int = 0
    dead: int = 0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type in ("int", int)}

    def merge(self, other: FlowSummary) -> None:
        for name, value in other.counts().items():
            setattr(self, name, getattr(self, name) + value)
        self.notes.extend(other.notes)
