"""Running Tryton on loopback: a fresh copy of the template, ``trytond -c conf -d tandem``.

``start_tryton(workdir)`` writes ``trytond.conf``, restores the database, sets a new random
admin password (kept in ``workdir/admin-password``, mode 0600), starts the venv's ``trytond`` in
its own process group and returns once JSON-RPC answers. ``-d`` matters: without it trytond
8.2.1 fails every login with ``KeyError: 'res.user'``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sandbox.tryton.rpc import TrytonClient
from sandbox.tryton.template import (
    ADMIN_LOGIN,
    DATABASE,
    ensure_template,
    restore,
    set_admin_password,
    venv_program,
    write_config,
    write_secret,
)

HOST = "127.0.0.1"


class TrytonStartError(RuntimeError):
    """trytond exited or did not answer in time; the message ends with its log."""


@dataclass
class TrytonHandle:
    """A running trytond. The password is read from ``password_file`` and never shown."""

    process: subprocess.Popen[bytes] = field(repr=False)
    host: str
    port: int
    database: str
    workdir: Path
    login: str
    password_file: Path
    log_path: Path
    started_in: float = 0.0
    stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def rpc_url(self) -> str:
        return f"{self.url}/{self.database}/rpc/"

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def client(self) -> TrytonClient:
        """A JSON-RPC client logged in as the administrator."""
        client = TrytonClient(self.url, self.database)
        client.login(self.login, self.password)
        return client

    def rss_kib(self) -> int:
        """Resident memory of trytond (VmRSS from /proc), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise ProcessLookupError(f"trytond {self.pid} has no VmRSS (not running?)")

    def stop(self, timeout: float = 15.0) -> float:
        """SIGTERM to the process group, SIGKILL after ``timeout``; returns seconds taken.

        Idempotent: the group is signalled only by the first call (its id may be reused later).
        """
        started = time.perf_counter()
        if self.stopped:
            return 0.0
        self.stopped = True
        if self.process.poll() is not None:
            return 0.0  # exited (and reaped) already: its group id is not ours any more
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        _signal_group(self.process.pid, signal.SIGKILL)  # anything it left in its group
        return time.perf_counter() - started


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    request = {"id": 0, "method": "common.server.version", "params": []}
    try:
        response = httpx.post(url, json=request, timeout=2.0)
    except httpx.TransportError:
        return False
    return response.status_code == 200 and "result" in response.json()


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def _wait_ready(handle: TrytonHandle, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise TrytonStartError(
                f"trytond exited with {handle.process.returncode} on port {handle.port}:\n"
                + _log_tail(handle.log_path)
            )
        if _answers(handle.url + "/rpc/"):
            return
        time.sleep(0.1)
    handle.stop()
    raise TrytonStartError(
        f"trytond did not answer on {handle.rpc_url} within {timeout:.0f} s:\n"
        + _log_tail(handle.log_path)
    )


def _launch(
    workdir: Path, port: int, database: str, password_file: Path, offline_email: bool = False
) -> TrytonHandle:
    config = write_config(workdir / "trytond.conf", workdir / "db", host=HOST, port=port)
    log_path = workdir / "trytond.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_trytond(offline_email), "-c", str(config), "-d", database],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (workdir / "trytond.pid").write_text(f"{process.pid}\n")
    return TrytonHandle(
        process, HOST, port, database, workdir, ADMIN_LOGIN, password_file, log_path
    )


def _trytond(offline_email: bool) -> list[str]:
    if offline_email:  # trytond with e-mail domains not checked in DNS (offline machines)
        return [sys.executable, str(Path(__file__).with_name("offline_email.py"))]
    return [str(venv_program("trytond"))]


def start_tryton(
    workdir: Path,
    *,
    port: int = 0,
    template: Path | None = None,
    ready_timeout: float = 60.0,
    offline_email: bool = False,
) -> TrytonHandle:
    """Restores the template into ``workdir/db`` and starts trytond on ``127.0.0.1:port``.

    ``port=0`` picks a free port (and tries another one if it is taken meanwhile).
    ``template`` defaults to ``ensure_template()`` (built on first use, cached after).
    ``offline_email`` starts trytond through ``offline_email.py``: e-mail addresses are not
    checked in DNS, so parties with e-mails can be written on a machine without outside DNS.
    """
    started = time.perf_counter()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    template = template if template is not None else ensure_template()
    db_path = restore(template, workdir / "db", DATABASE)
    password = secrets.token_urlsafe(18)
    password_file = write_secret(workdir / "admin-password", password)
    set_admin_password(db_path, password)
    attempts = 1 if port else 3
    for attempt in range(attempts):
        handle = _launch(workdir, port or _free_port(HOST), DATABASE, password_file, offline_email)
        try:
            _wait_ready(handle, ready_timeout)
        except TrytonStartError:
            handle.stop()
            if attempt + 1 == attempts or "in use" not in _log_tail(handle.log_path):
                raise
            continue
        handle.started_in = time.perf_counter() - started
        return handle
    raise AssertionError("unreachable")
