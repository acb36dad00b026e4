"""Each suite's figures: trials and what became of every input, for ``make reliability``.

A suite calls ``record(...)`` once per test; when ``TANDEM_RELIABILITY_FIGURES`` names a file
the line is appended there (``tests/reliability/report.py`` prints them as one table).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

ENV = "TANDEM_RELIABILITY_FIGURES"


@dataclass(frozen=True)
class Figures:
    suite: str
    trials: int
    delivered: int = 0
    dead_lettered: int = 0
    quarantined: int = 0
    lost: int = 0
    duplicated: int = 0


def record(figures: Figures) -> Figures:
    path = os.environ.get(ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(figures)) + "\n")
    return figures
