"""Fault knobs for the real peers: a frozen server and cut SFTP sessions."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import paramiko
import pytest

from sandbox.process_knobs import process_knobs, sshd_knobs
from sandbox.sshd import SshdHandle, start_sshd
from tests.services import need_program


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_paused_peer_is_frozen_with_its_children_and_resumes() -> None:
    parent = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    try:
        time.sleep(0.2)
        assert process_knobs("tryton", parent.pid, {"paused": True}) == {"paused": True}
        time.sleep(0.1)
        assert _state(parent.pid) == "T"
        process_knobs("tryton", parent.pid, {"paused": False})
        time.sleep(0.1)
        assert _state(parent.pid) in {"S", "R"}
        with pytest.raises(RuntimeError, match="unknown"):
            process_knobs("tryton", parent.pid, {"latency": 5})
    finally:
        parent.kill()
        parent.wait()


def test_dropping_sftp_sessions_keeps_the_daemon(tmp_path: Path) -> None:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle: SshdHandle = start_sshd(tmp_path / "sshd")
    try:
        client = paramiko.SSHClient()
        client.load_host_keys(str(handle.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(handle.host, handle.port, handle.user, key_filename=str(handle.client_key))
        sftp = client.open_sftp()
        sftp.listdir(".")
        assert handle.process is not None
        result = sshd_knobs(handle.process.pid, {"drop_connections": True})
        assert isinstance(result["dropped_connections"], int) and result["dropped_connections"] >= 1
        with pytest.raises((OSError, EOFError, paramiko.SSHException)):
            sftp.listdir(".")
        assert handle.is_running()  # new connections are still served
        client.close()
    finally:
        handle.stop()
