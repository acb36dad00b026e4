"""A live progress line while a flow runs: what the hub saw happen since the run began.

Flows need not report progress themselves: every flow writes its steps to the hub's event
log (a message received, processed or quarantined, a delivery made or dead-lettered), so a
background thread counts the new events of each kind twice a second and shows them under a
spinner with the elapsed time. On a terminal only; in a pipe or a log nothing is drawn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from rich.console import Console
from sqlalchemy import func, select

from hub.schema import Event
from hub.store import Hub
from hub.types import utcnow

T = TypeVar("T")
log = logging.getLogger(__name__)
SHOWN = {
    "received": "read",
    "inbox_processed": "processed",
    "delivered": "delivered",
    "inbox_quarantined": "quarantined",
    "dead_letter": "dead",
}


def counts_since(hub: Hub, since: datetime) -> dict[str, int]:
    with hub.begin() as hs:
        rows = hs.session.execute(
            select(Event.kind, func.count()).where(Event.at >= since).group_by(Event.kind)
        ).all()
    found = {kind: int(count) for kind, count in rows}
    return {label: found.get(kind, 0) for kind, label in SHOWN.items()}


def with_progress(console: Console, hub: Hub, title: str, work: Callable[[], T]) -> T:
    """Run ``work`` while a spinner shows the hub's counts; its result (or error) as is."""
    if not console.is_terminal:
        return work()
    started, since = time.monotonic(), utcnow()
    done = threading.Event()
    with console.status(f"{title} ...") as status:

        def update() -> None:
            while not done.wait(0.5):
                try:
                    counts = counts_since(hub, since)
                except Exception:  # the display must never break the run
                    log.debug("progress: could not count the hub's events", exc_info=True)
                    continue
                shown = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
                elapsed = time.monotonic() - started
                status.update(f"{title}: {elapsed:.0f}s {shown or 'starting'}")

        thread = threading.Thread(target=update, name="progress", daemon=True)
        thread.start()
        try:
            return work()
        finally:
            done.set()
            thread.join(timeout=2)
