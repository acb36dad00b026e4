"""Run the file-based partners (3PL, DRP distributors, PDM) on one directory tree.

The tree is meant to be the SFTP user's home that a real OpenSSH sshd serves:

    <root>/3pl/{inbound,outbound,archive,errors}
    <root>/drp/<distributor>/{inbound,outbound,archive,errors}
    <root>/pdm/outbound
    <root>/.partners/          private state, control numbers, control.json

Knobs are set at start (``knobs={"threepl": {...}, "drp": {...}, "pdm": {...}}``) and at run
time either with ``handle.set_knobs("threepl", delay_s=0)`` or by writing
``<root>/.partners/control.json`` with the same shape (read whenever it changes); the knobs
in force are written to ``<root>/.partners/knobs.json``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sandbox.drp.engine import DrpConfig, DrpEngine
from sandbox.edi.area import FaultKnobs
from sandbox.edi.common import write_atomic
from sandbox.pdm.engine import PdmConfig, PdmEngine
from sandbox.threepl.engine import ThreePLConfig, ThreePLEngine

log = logging.getLogger("sandbox.files")
PARTNERS = ("threepl", "drp", "pdm")


class Engine(Protocol):
    @property
    def knobs(self) -> FaultKnobs: ...

    def tick(self) -> None: ...


@dataclass
class FilePartners:
    """The running partners; ``stop()`` ends the loop thread."""

    root: Path
    engines: dict[str, Engine]
    interval: float
    control_file: Path
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _control_mtime: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)

    @property
    def threepl(self) -> ThreePLEngine:
        engine = self.engines["threepl"]
        assert isinstance(engine, ThreePLEngine)
        return engine

    @property
    def drp(self) -> DrpEngine:
        engine = self.engines["drp"]
        assert isinstance(engine, DrpEngine)
        return engine

    @property
    def pdm(self) -> PdmEngine:
        engine = self.engines["pdm"]
        assert isinstance(engine, PdmEngine)
        return engine

    def set_knobs(self, partner: str, **values: Any) -> None:
        if partner not in self.engines:
            raise KeyError(f"unknown partner {partner!r}; one of {sorted(self.engines)}")
        with self._lock:
            self.engines[partner].knobs.update(values)
            self._write_effective()

    def knobs(self) -> dict[str, dict[str, Any]]:
        return {name: engine.knobs.as_dict() for name, engine in self.engines.items()}

    def _write_effective(self) -> None:
        data = json.dumps(self.knobs(), indent=1, sort_keys=True).encode()
        write_atomic(self.control_file.with_name("knobs.json"), data)

    def _read_control(self) -> None:
        try:
            mtime = self.control_file.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._control_mtime:
            return
        self._control_mtime = mtime
        try:
            wanted = json.loads(self.control_file.read_text("utf-8"))
            for partner, values in wanted.items():
                self.set_knobs(partner, **values)
        except (ValueError, KeyError, TypeError) as exc:
            message = f"{self.control_file}: {exc}"
            log.exception("control file ignored: %s", message)
            self.errors.append(message)

    def tick(self) -> None:
        """One pass of every partner (the loop calls this every ``interval`` seconds)."""
        self._read_control()
        for name, engine in self.engines.items():
            with self._lock:
                try:
                    engine.tick()
                except Exception as exc:  # a partner's bug must not stop the others
                    log.exception("%s partner failed", name)
                    self.errors.append(f"{name}: {type(exc).__name__}: {exc}")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval)

    def start(self) -> FilePartners:
        self._thread = threading.Thread(target=self._run, name="file-partners", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_file_partners(
    root: Path,
    *,
    interval: float = 1.0,
    seed: int = 7,
    knobs: dict[str, dict[str, Any]] | None = None,
    extra_products: int = 20,
    pdm_folder: Path | None = None,
    clock: Callable[[], float] | None = None,
    run: bool = True,
) -> FilePartners:
    """Create the partners' areas under ``root`` and (with ``run``) start their loop."""
    state = root / ".partners"
    engines: dict[str, Engine] = {
        "threepl": ThreePLEngine(ThreePLConfig(root / "3pl", state, seed=seed), clock),
        "drp": DrpEngine(DrpConfig(root / "drp", state, seed=seed + 1), clock),
        "pdm": PdmEngine(
            PdmConfig(
                pdm_folder or root / "pdm" / "outbound",
                state,
                seed=seed + 2,
                extra_products=extra_products,
            ),
            clock,
        ),
    }
    partners = FilePartners(root, engines, interval, state / "control.json")
    for name, values in (knobs or {}).items():
        partners.set_knobs(name, **values)
    partners._write_effective()
    if run:
        partners.start()
    return partners


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
