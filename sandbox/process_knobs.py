"""Fault knobs for peers that have none of their own: the real sshd and the real Tryton.

``sshd_knobs``: ``{"drop_connections": true}`` kills every live SFTP session of one sshd (its
listener stays, so clients reconnect). ``process_knobs``: ``{"paused": true}`` freezes a
process tree with SIGSTOP (calls hang until the client's time-out, like a stuck server) and
``false`` resumes it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def sshd_knobs(daemon_pid: int, knobs: dict[str, object]) -> dict[str, object]:
    """``{"drop_connections": true}`` cuts every live SFTP session (the daemon stays)."""
    unknown = set(knobs) - {"drop_connections"}
    if unknown:
        raise RuntimeError(f"sshd knobs: unknown {sorted(unknown)} (known: drop_connections)")
    dropped = 0
    if knobs.get("drop_connections"):
        # every session process descends from the listener; the listener itself stays
        for pid in descendants(daemon_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                dropped += 1
    return {"dropped_connections": dropped}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def process_knobs(name: str, pid: int, knobs: dict[str, object]) -> dict[str, object]:
    """A real peer has no knobs of its own: ``{"paused": true}`` freezes it (calls hang until
    the client's time-out, as with a stuck server), ``false`` lets it go on."""
    unknown = set(knobs) - {"paused"}
    if unknown:
        raise RuntimeError(f"{name} knobs: unknown {sorted(unknown)} (known: paused)")
    if "paused" in knobs:
        sig = signal.SIGSTOP if knobs["paused"] else signal.SIGCONT
        pids = [pid, *descendants(pid)]
        for each in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, sig)
    return {"paused": bool(knobs.get("paused"))}


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), from /proc."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            children.setdefault(_parent(int(proc.name)), []).append(int(proc.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found
