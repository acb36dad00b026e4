"""How a running peer is doing: an answer to a cheap call, and its memory with children."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import httpx

from sandbox.process_knobs import descendants


class NamedPeer(Protocol):
    name: str
    url: str


def probe(peer: NamedPeer) -> str:
    checks: dict[str, Callable[[str], str]] = {
        "erp_soap": lambda u: f"HTTP {httpx.get(u.split('/WS/')[0] + '/_health').status_code}",
        "webshop": lambda u: f"HTTP {httpx.get(u.split('/wp-json')[0] + '/_control').status_code}",
        "crm": lambda u: f"HTTP {httpx.get(u.split('/legacy')[0] + '/_control').status_code}",
        "tryton": lambda u: (
            "JSON-RPC "
            + str(
                httpx.post(
                    u.rstrip("/") + "/rpc/",
                    json={"id": 1, "method": "common.server.version", "params": []},
                )
                .json()
                .get("result")
            )
        ),
    }
    check = checks.get(peer.name)
    if check is None:
        return "running"
    try:
        return check(peer.url)
    except httpx.HTTPError as exc:
        return f"no answer ({type(exc).__name__})"


def rss_mb(pid: int) -> float:
    """Resident memory of a peer with all its descendants (e.g. the trytond it started)."""
    total = 0
    for current in (pid, *descendants(pid)):
        try:
            text = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", text)
        total += int(match.group(1)) if match else 0
    return total / 1024
