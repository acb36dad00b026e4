"""SFTP failures in Tandem's error taxonomy: what is worth a reconnect and what is not."""

from __future__ import annotations

import errno

import paramiko

from canonical.errors import PermanentError, TandemError, TransientError

TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.EHOSTDOWN,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ENETRESET,
    }
)


class HostKeyError(PermanentError):
    """The server's host key is unknown or is not the expected one."""


class AuthError(PermanentError):
    """The server refused the credentials (the message never contains them)."""


class RemoteNotFound(PermanentError):
    """A remote path does not exist."""


class RemoteExists(PermanentError):
    """A rename target exists and overwriting was not asked for."""


def translate(exc: BaseException, what: str, *, alive: bool) -> TandemError | None:
    """Our error for a library exception. ``alive``: the SSH transport and the sftp channel
    still stand, so an ``EOFError`` or a bare ``OSError`` is an answer of the server (paramiko
    raises those for SFTP status codes), not a lost connection."""
    if isinstance(exc, TandemError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyError(f"{what}: host key mismatch: {exc}")
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthError(f"{what}: authentication failed")
    if isinstance(exc, TimeoutError | ConnectionError | paramiko.ChannelException):
        return TransientError(f"{what}: connection lost: {type(exc).__name__}: {exc}")
    if isinstance(exc, EOFError):
        if alive and exc.args:  # an SFTP EOF status carries the server's text; a drop none
            return PermanentError(f"{what}: the server reported end of file: {exc}")
        return TransientError(f"{what}: connection lost: end of stream")
    if isinstance(exc, paramiko.SSHException):
        text = str(exc)
        if "Incompatible" in text or "no acceptable" in text:
            return PermanentError(f"{what}: SSH negotiation failed: {text}")
        return TransientError(f"{what}: SSH connection failed: {text}")
    if isinstance(exc, FileNotFoundError):
        return RemoteNotFound(f"{what}: no such file: {exc.strerror or exc}")
    if isinstance(exc, PermissionError):
        return PermanentError(f"{what}: permission denied: {exc.strerror or exc}")
    if isinstance(exc, OSError):
        if exc.errno in TRANSIENT_ERRNOS or not alive:
            return TransientError(f"{what}: connection lost: {exc}")
        return PermanentError(f"{what}: server refused: {exc}")
    return None
