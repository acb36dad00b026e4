"""A background loop that runs the inbox and delivery flows while ``tandem serve`` runs."""

from __future__ import annotations

import logging
import threading

from flows.policy import describe
from flows.registry import FLOWS, RunOptions, Services

log = logging.getLogger(__name__)


class FlowLoop:
    """Runs one flow every ``interval`` seconds, or at once when woken (a webhook arrived)."""

    def __init__(self, services: Services, flow: str, interval: float) -> None:
        self.services = services
        self.spec = FLOWS[flow]
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"flow-{flow}", daemon=True)

    def wake(self, _message_id: str | None = None) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                summary = self.spec.run(self.services, RunOptions())
                if summary.read or summary.delivered or summary.dead:
                    log.info("%s: %s", self.spec.name, summary.counts())
            except Exception as exc:  # keep serving; the failure is logged, the work stays queued
                log.error(  # noqa: TRY400 - one line; the traceback at debug level
                    "flow %s failed, retrying in %.1fs: %s",
                    self.spec.name,
                    self.interval,
                    describe(exc),
                )
                log.debug("flow %s failure", self.spec.name, exc_info=True)
            self._wake.wait(self.interval)
