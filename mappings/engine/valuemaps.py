"""Value maps: data files that translate one system's codes into another's.

``<name>.values.yaml`` next to the mappings that use it::

    title: WooCommerce order status      # names the value in errors: unknown WooCommerce ...
    version: 3                           # raise it with every change
    target: OrderStatus                  # optional: a canonical enum every value must be in
    values:
      pending: received
      processing: accepted

Keys are compared as text. A value missing from the map is an error unless the mapping's
``lookup`` gives a ``default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from canonical import models
from mappings.engine.yamlio import DataFileError, read_yaml

SUFFIX = ".values.yaml"
_KEYS = {"title", "version", "target", "description", "values"}


@dataclass(frozen=True)
class ValueMap:
    name: str
    title: str
    version: int
    table: dict[str, Any]
    path: Path


def canonical_enum(name: str) -> type[Enum] | None:
    found = getattr(models, name, None)
    return found if isinstance(found, type) and issubclass(found, Enum) else None


def _problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return ["a value map is a mapping with title, version and values"]
    problems = [
        f"unknown key {k!r} (known: {', '.join(sorted(_KEYS))})" for k in raw if k not in _KEYS
    ]
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("version: required, a whole number >= 1 (raise it with every change)")
    if not isinstance(raw.get("title"), str) or not raw["title"].strip():
        problems.append("title: required, names the value in errors")
    values = raw.get("values")
    if not isinstance(values, dict) or not values:
        problems.append("values: required, a non-empty mapping of source value -> target value")
        return problems
    seen: dict[str, Any] = {}
    for key in values:
        if isinstance(key, (dict, list)) or key is None:
            problems.append(f"values: {key!r} is not a value")
        elif str(key) in seen:
            problems.append(f"values: {key!r} and {seen[str(key)]!r} are the same key as text")
        else:
            seen[str(key)] = key
    target = raw.get("target")
    if target is not None:
        enum = canonical_enum(str(target))
        if enum is None:
            problems.append(f"target: {target!r} is not a canonical enum")
        else:
            allowed = {m.value for m in enum}
            problems += [
                f"values: {k!r} -> {v!r} is not in {target} ({', '.join(sorted(allowed))})"
                for k, v in values.items()
                if v not in allowed
            ]
    return problems


@cache
def load_value_map(path: Path) -> ValueMap:
    """Load and check one value map; ``DataFileError`` lists every problem in it."""
    raw = read_yaml(path)
    problems = _problems(raw)
    if problems:
        raise DataFileError(f"{path}: " + "; ".join(problems))
    name = path.name.removesuffix(SUFFIX)
    table = {str(k): v for k, v in raw["values"].items()}
    return ValueMap(name, raw["title"].strip(), raw["version"], table, path)


def resolve(directory: Path, name: str) -> Path:
    """``order_status`` -> ``<directory>/order_status.values.yaml``; ``nav/x``: a sibling's."""
    system, _, stem = name.rpartition("/")
    base = directory.parent / system if system else directory
    return base / f"{stem}{SUFFIX}"
