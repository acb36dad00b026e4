"""Fault points: places in the flow runner where a test can kill the process on purpose.

``fault_point("after_hub_write")`` does nothing unless the environment variable
``TANDEM_FAULT_POINTS`` names that point. Then the process sends itself SIGKILL there — no
cleanup, no ``finally``, no flush, exactly as if the machine had lost power at that line:

    TANDEM_FAULT_POINTS="after_hub_write@3"       # on the 3rd time the point is passed
    TANDEM_FAULT_POINTS="mid_delivery%0.25"       # each time with probability 0.25
    TANDEM_FAULT_POINTS="after_read@2,before_cursor_commit%0.5"
    TANDEM_FAULT_SEED=42                          # makes the probabilities repeatable

The crash-consistency suite runs ``tandem run <flow>`` in a subprocess with these set, then
runs the flow again without them and checks that nothing was lost or duplicated.
"""

from __future__ import annotations

import os
import random
import signal
from collections import Counter
from dataclasses import dataclass

ENV = "TANDEM_FAULT_POINTS"
SEED_ENV = "TANDEM_FAULT_SEED"

POINTS = frozenset(
    {
        "after_read",  # a page was read from the source; nothing of it is in the hub yet
        "before_cursor_commit",  # the page is written in the hub's transaction, not committed
        "after_hub_write",  # the page or message is committed in the hub; nothing further
        "mid_processing",  # a message's records are written, the transaction not committed
        "before_delivery",  # a delivery is claimed; the target has not been written
        "mid_delivery",  # the target was written; the hub does not know yet
    }
)


@dataclass(frozen=True)
class _Rule:
    ordinal: int | None = None
    probability: float | None = None


def _parse(text: str) -> dict[str, _Rule]:
    rules: dict[str, _Rule] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "@" in part:
            name, _, value = part.partition("@")
            rule = _Rule(ordinal=int(value))
        elif "%" in part:
            name, _, value = part.partition("%")
            rule = _Rule(probability=float(value))
        else:
            name, rule = part, _Rule(ordinal=1)
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown fault point {name!r}; known: {sorted(POINTS)}")
        rules[name] = rule
    return rules


class _Faults:
    def __init__(self) -> None:
        self.source: str | None = None
        self.rules: dict[str, _Rule] = {}
        self.hits: Counter[str] = Counter()
        self.rng = random.Random()  # noqa: S311 — fault injection, not cryptography

    def refresh(self) -> None:
        text = os.environ.get(ENV, "")
        if text != self.source:
            self.source = text
            self.rules = _parse(text)
            self.hits.clear()
            self.rng = random.Random(os.environ.get(SEED_ENV))  # noqa: S311

    def fires(self, name: str) -> bool:
        self.refresh()
        rule = self.rules.get(name)
        if rule is None:
            return False
        self.hits[name] += 1
        if rule.ordinal is not None:
            return self.hits[name] == rule.ordinal
        return self.rng.random() < (rule.probability or 0.0)


_FAULTS = _Faults()


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL here when ``TANDEM_FAULT_POINTS`` says so."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if not os.environ.get(ENV):  # the common case: one dictionary lookup
        return
    if _FAULTS.fires(name):
        os.kill(os.getpid(), signal.SIGKILL)
