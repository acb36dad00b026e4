"""Field paths into nested records: ``billing.email``, ``line_items[2].quantity``, ``$record.id``.

A path is split once, when a mapping is compiled. ``get`` follows it through dicts (JSON,
xmltodict), lists and tuples (an integer step), and objects with attributes (canonical models).
Anything missing on the way gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
VARIABLE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Path:
    var: str | None  # None: the current node; "record": the whole record; else a named value
    steps: tuple[str | int, ...]
    text: str  # as it names the field in an error: relative, without ``$record.``

    def under(self, base: tuple[str | int, ...], base_text: str) -> Path:
        """The same path read below ``base`` (for ``at:``); named values are not moved."""
        if self.var is not None:
            return self
        return Path(None, base + self.steps, base_text + self.text)


def parse_path(text: str) -> Path:
    """Parse a path; raises ``ValueError`` naming what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a field path")
    text = text.strip()
    var: str | None = None
    rest = text
    if text.startswith("$"):
        head, _, rest = text[1:].partition(".")
        if not VARIABLE.match(head):
            raise ValueError(f"{text!r}: '${head}' is not a valid name")
        var = head
        if not rest:
            return Path(var, (), "" if var == "record" else text)
    steps: list[str | int] = []
    pos = 0
    while pos < len(rest):
        match = _STEP.match(rest, pos)
        if match is None:
            raise ValueError(f"{text!r} is not a field path (write a.b[2].c)")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
        if pos < len(rest) and rest[pos] == ".":
            pos += 1
            if pos == len(rest):
                raise ValueError(f"{text!r} ends with a dot")
    shown = rest if var in (None, "record") else text
    return Path(var, tuple(steps), shown)


def step(node: Any, key: str | int) -> Any:
    """One step down; ``None`` when the step does not exist."""
    if node is None:
        return None
    if isinstance(node, Mapping):
        return node.get(key)
    if isinstance(key, int):
        if isinstance(node, (list, tuple)) and -len(node) <= key < len(node):
            return node[key]
        return None
    if isinstance(node, (str, bytes, int, float, list, tuple)) or key.startswith("_"):
        return None
    return getattr(node, key, None)


def get(node: Any, steps: tuple[str | int, ...]) -> Any:
    for key in steps:
        node = step(node, key)
        if node is None:
            return None
    return node


def blank_to_none(value: Any) -> Any:
    """Text is trimmed and empty text counts as missing."""
    if value.__class__ is str:
        return value.strip() or None
    return value
