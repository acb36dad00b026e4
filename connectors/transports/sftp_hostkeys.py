"""Host key verification for SFTP: known_hosts, pinned fingerprint or pinned key. Always on.

The check runs on the key the server proved it holds during the key exchange, before any
credential is sent. An unknown or mismatched key is a ``HostKeyError`` (permanent) that
names the host and both fingerprints.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import paramiko

from connectors.transports.sftp_errors import HostKeyError
from connectors.transports.sftp_settings import SftpSettings


def fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<base64 without padding>``, as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(host: str, port: int) -> str:
    """The host as known_hosts writes it: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def preferred_key_types(settings: SftpSettings) -> list[str]:
    """Key types known for this host, to ask the server for one of those first (a server
    often has several host keys; known_hosts may hold only one of them)."""
    known: list[str] = []
    if settings.host_key and settings.host_key.split():
        known.append(settings.host_key.split()[0])
    if settings.known_hosts is not None and settings.known_hosts.is_file():
        entry = _load(settings.known_hosts).lookup(known_hosts_name(settings.host, settings.port))
        if entry is not None:
            known.extend(entry.keys())
    return known


def verify_host_key(settings: SftpSettings, key: paramiko.PKey) -> None:
    """Raises ``HostKeyError`` unless ``key`` passes every check the settings configure."""
    name = known_hosts_name(settings.host, settings.port)
    actual = fingerprint(key)
    key_type = key.get_name()
    if (
        not settings.host_key_fingerprint
        and not (settings.host_key or "").strip()
        and settings.known_hosts is None
    ):
        raise HostKeyError(
            f"sftp {name}: no host key check is configured (known_hosts, host_key_fingerprint "
            f"or host_key); the server presented {key_type} {actual}; refusing to connect"
        )
    if settings.host_key is not None and not settings.host_key.strip():
        raise HostKeyError(f"sftp {name}: the pinned host_key is empty; refusing to connect")
    if settings.host_key_fingerprint is not None:
        expected = settings.host_key_fingerprint.rstrip("=")
        if actual != expected:
            raise HostKeyError(
                f"sftp host key mismatch for {name}: expected pinned fingerprint {expected}, "
                f"server presented {key_type} {actual}; refusing to connect"
            )
    if settings.host_key is not None:
        pinned = settings.host_key.split()
        blob = pinned[1] if len(pinned) > 1 else pinned[0]
        if blob != key.get_base64():
            raise HostKeyError(
                f"sftp host key mismatch for {name}: the pinned host_key differs from the "
                f"{key_type} key {actual} the server presented; refusing to connect"
            )
    if settings.known_hosts is not None:
        _check_known_hosts(settings.known_hosts, name, key, actual)


def _check_known_hosts(path: Path, name: str, key: paramiko.PKey, actual: str) -> None:
    key_type = key.get_name()
    entry = _load(path).lookup(name)
    if entry is None:
        raise HostKeyError(
            f"sftp host {name} is unknown: it is not in known_hosts {path} (server presented "
            f"{key_type} {actual}); verify that fingerprint out of band and add the host"
        )
    expected = entry.get(key_type)
    if expected is None:
        known = ", ".join(f"{t} {fingerprint(k)}" for t, k in entry.items())
        raise HostKeyError(
            f"sftp host key mismatch for {name}: server presented {key_type} {actual}, "
            f"known_hosts {path} expects {known}; refusing to connect"
        )
    if expected != key:
        raise HostKeyError(
            f"sftp host key mismatch for {name}: expected {key_type} {fingerprint(expected)} "
            f"from known_hosts {path}, server presented {actual}; refusing to connect "
            "(possible man-in-the-middle, or the server's key was changed)"
        )


def _load(path: Path) -> paramiko.HostKeys:
    try:
        return paramiko.HostKeys(str(path))
    except (OSError, paramiko.SSHException) as exc:
        raise HostKeyError(f"sftp known_hosts {path} cannot be read: {exc}") from exc
