"""Deliberately broken interchanges, the kinds real partners send now and then."""

from __future__ import annotations

import random
import re

BREAKAGES = ("se_count", "group_control", "truncated", "interchange_control")


def break_interchange(text: str, rng: random.Random, kind: str | None = None) -> str:
    """``text`` with one envelope fault: a wrong SE01, GE02, IEA02, or the tail cut off."""
    kind = kind or rng.choice(BREAKAGES)
    if kind == "se_count":
        return re.sub(r"(?m)^SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 1}*", text, count=1)
    if kind == "group_control":
        return re.sub(
            r"(?m)^GE\*(\d+)\*(\d+)~", lambda m: f"GE*{m.group(1)}*{int(m.group(2)) + 1}~", text
        )
    if kind == "interchange_control":
        return re.sub(
            r"(?m)^IEA\*(\d+)\*(\d+)~",
            lambda m: f"IEA*{m.group(1)}*{int(m.group(2)) + 1:09d}~",
            text,
        )
    if kind == "truncated":
        return text[: max(110, len(text) * 2 // 3)]
    raise ValueError(f"unknown breakage {kind!r}; one of {BREAKAGES}")
