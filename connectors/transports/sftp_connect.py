"""Opening one SFTP session: TCP_NODELAY socket, key exchange, host key check, then auth.

The order matters: the server's host key is verified before any credential is sent, so a
man in the middle never sees a password or a signature made with our key.
"""

from __future__ import annotations

import io
import socket

import paramiko

from canonical.errors import PermanentError, TransientError
from connectors.transports.sftp_errors import AuthError
from connectors.transports.sftp_hostkeys import preferred_key_types, verify_host_key
from connectors.transports.sftp_settings import SftpSettings

_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)
_RSA_TYPES = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


def new_socket(host: str, port: int, timeout: float) -> socket.socket:
    """A connected TCP socket with TCP_NODELAY (without it paramiko transfers can stall)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def open_session(settings: SftpSettings) -> tuple[paramiko.Transport, paramiko.SFTPClient]:
    """A verified, authenticated SFTP session. Network failures surface as library errors
    (the caller maps them); host key and auth problems as our permanent errors."""
    key = load_key(settings)  # a broken key is reported before touching the network
    sock = new_socket(settings.host, settings.port, settings.connect_timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = settings.connect_timeout
        transport.handshake_timeout = settings.connect_timeout
        transport.auth_timeout = settings.connect_timeout
        _prefer_known_key_types(transport, settings)
        transport.start_client(timeout=settings.connect_timeout)
        verify_host_key(settings, transport.get_remote_server_key())
        _authenticate(transport, settings, key)
        if settings.keepalive_seconds:
            transport.set_keepalive(settings.keepalive_seconds)
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise TransientError(f"sftp {settings.endpoint}: could not open the sftp channel")
        channel = sftp.get_channel()
        if channel is not None:
            channel.settimeout(settings.operation_timeout)
    except BaseException:
        transport.close()
        raise
    return transport, sftp


def load_key(settings: SftpSettings) -> paramiko.PKey | None:
    """The private key from ``key_file`` or ``private_key`` text; None when neither is set."""
    passphrase = settings.key_passphrase.get_secret_value() if settings.key_passphrase else None
    if settings.key_file is not None:
        try:
            return paramiko.PKey.from_path(settings.key_file, passphrase)
        except OSError as exc:
            raise PermanentError(
                f"sftp {settings.endpoint}: cannot read key_file {settings.key_file}: "
                f"{exc.strerror or type(exc).__name__}"
            ) from exc
        except (paramiko.SSHException, ValueError) as exc:
            raise PermanentError(
                f"sftp {settings.endpoint}: key_file {settings.key_file} is not a usable "
                f"private key ({type(exc).__name__}; wrong or missing passphrase?)"
            ) from None
    if settings.private_key is not None:
        text = settings.private_key.get_secret_value()
        for cls in _KEY_CLASSES:
            try:
                return cls.from_private_key(io.StringIO(text), passphrase)
            except (paramiko.SSHException, ValueError):
                continue
        raise PermanentError(
            f"sftp {settings.endpoint}: private_key is not a usable Ed25519, ECDSA or RSA "
            "private key (wrong or missing passphrase?)"
        )
    return None


def _prefer_known_key_types(transport: paramiko.Transport, settings: SftpSettings) -> None:
    known = preferred_key_types(settings)
    if not known:
        return
    wanted: list[str] = []
    for kind in known:
        wanted.extend(_RSA_TYPES if kind in _RSA_TYPES else (kind,))
    options = transport.get_security_options()
    available = list(options.key_types)
    first = [k for k in dict.fromkeys(wanted) if k in available]
    options.key_types = first + [k for k in available if k not in first]


def _authenticate(
    transport: paramiko.Transport, settings: SftpSettings, key: paramiko.PKey | None
) -> None:
    tried: list[str] = []
    last: Exception | None = None
    if key is not None:
        tried.append(f"key {settings.key_file or 'private_key'}")
        try:
            if not transport.auth_publickey(settings.username, key):
                return
        except paramiko.AuthenticationException as exc:
            last = exc
    if settings.password is not None:
        tried.append("password")
        try:
            transport.auth_password(settings.username, settings.password.get_secret_value())
            if transport.is_authenticated():
                return
        except paramiko.AuthenticationException as exc:
            last = exc
    if transport.is_authenticated():
        return
    allowed = getattr(last, "allowed_types", None)
    hint = f"; the server accepts {', '.join(allowed)}" if allowed else ""
    raise AuthError(
        f"sftp {settings.endpoint}: authentication failed (tried {' and '.join(tried)}){hint}"
    ) from last
