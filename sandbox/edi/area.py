"""What every file partner shares: its knobs, picking stable files, errors, JSON state."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sandbox.edi.common import make_area, write_atomic
from sandbox.edi.x12 import X12Error

EDI_SUFFIXES = (".edi", ".x12")


@dataclass
class FaultKnobs:
    """Fault knobs every file partner has, settable at start and at run time."""

    delay_s: float = 2.0  # how long the partner takes to answer (latency)
    malformed_rate: float = 0.0  # share of written files that are deliberately broken
    duplicate_rate: float = 0.0  # share of written files delivered twice under another name
    paused: bool = False  # the partner's system is down: nothing is read or written

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise KeyError(f"unknown knob {key!r} for {type(self).__name__}")
            current = getattr(self, key)
            if isinstance(current, bool) and not isinstance(value, bool):
                raise TypeError(f"knob {key!r} takes true or false, got {value!r}")
            setattr(self, key, type(current)(value))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def stable_files(
    folder: Path, now: float, settle_s: float, suffixes: tuple[str, ...]
) -> list[Path]:
    """Finished uploads in ``folder``: right suffix, not hidden or ``.part``, old enough."""
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith(".") or name.endswith(".part") or not entry.is_file():
            continue
        if not name.lower().endswith(suffixes):
            continue
        try:
            age = now - entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if age >= settle_s:
            found.append(entry)
    return found


def unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    counter = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = folder / f"{stem}-{counter}{dot}{suffix}"
        counter += 1
    return target


def move(source: Path, folder: Path) -> Path:
    make_area(folder)
    target = unique_target(folder, source.name)
    shutil.move(str(source), str(target))
    return target


def reject_file(source: Path, errors: Path, problems: list[str]) -> Path:
    """Move ``source`` to ``errors`` with ``<name>.error.txt`` naming every problem."""
    target = move(source, errors)
    report = [f"file {source.name}: rejected", *(f"- {line}" for line in problems)]
    write_atomic(target.with_name(target.name + ".error.txt"), ("\n".join(report) + "\n").encode())
    return target


def deliver(
    folder: Path, name: str, data: bytes, knobs: FaultKnobs, rng: random.Random
) -> list[Path]:
    """Write ``data`` atomically; with ``duplicate_rate`` also a second copy (a resend)."""
    written = [folder / name]
    write_atomic(folder / name, data)
    if knobs.duplicate_rate and rng.random() < knobs.duplicate_rate:
        stem, dot, suffix = name.partition(".")
        copy = folder / f"{stem}_resend{dot}{suffix}"
        write_atomic(copy, data)
        written.append(copy)
    return written


class JsonState:
    """A partner's private state, saved atomically after every change."""

    def __init__(self, path: Path, default: dict[str, Any]) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(json.dumps(default))
        if path.exists():
            self.data.update(json.loads(path.read_text("utf-8")))

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode())


def describe(error: X12Error) -> str:
    """Where an X12 problem is and what it is, for error reports."""
    where = f"segment {error.segment_id}" if error.segment_id else "envelope"
    if error.position:
        where += f" (position {error.position})"
    if error.element:
        where += f" element {error.element:02d}"
    return f"{where}: {error} [code {error.code}]"
