"""SFTP transport (paramiko): verified host keys, atomic uploads, resumable streaming reads.

- ``SftpSettings`` (``sftp_settings``): endpoint, credentials and policy, read from an
  Airflow-style connection URI or environment variable, never from code.
- ``SftpClient``: one SSH connection over a ``TCP_NODELAY`` socket with connect and operation
  timeouts. The host key is checked against known_hosts or a pinned fingerprint before any
  credential is sent; an unknown or wrong key is a ``HostKeyError``, failed authentication an
  ``AuthError`` (both permanent, neither message contains a secret). Every operation is
  retried (``connectors.transports.retry``) only on transient network failures (socket
  errors, end of stream, a dropped transport), reconnecting first.
- Uploads write ``name.part`` (``settings.temp_name``) and rename it into place, so a reader
  never sees a half file under the final name; a failed upload removes its temp file.
- Reads stream (``open_read``) with pipelined requests, memory bounded by the SSH channel
  window, and resume at the same offset after a reconnect.

One client per thread: a client holds one connection and is not shared between threads.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import stat as stat_mode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TypeVar

import paramiko
from paramiko.sftp import CMD_EXTENDED

from canonical.errors import TandemError, TransientError
from connectors.transports.retry import Health, RetryPolicy, check_health, with_retries
from connectors.transports.sftp_connect import open_session
from connectors.transports.sftp_errors import (
    TRANSIENT_ERRNOS,
    AuthError,
    HostKeyError,
    RemoteExists,
    RemoteNotFound,
    translate,
)
from connectors.transports.sftp_hostkeys import known_hosts_name
from connectors.transports.sftp_settings import SftpSettings
from connectors.transports.sftp_stream import RemoteReader

__all__ = [
    "AuthError",
    "HostKeyError",
    "RemoteExists",
    "RemoteFile",
    "RemoteNotFound",
    "SftpClient",
    "SftpSettings",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_REQUEST = 32768  # the size every SFTP server must accept
MAX_REQUEST = 256 * 1024
ONCE = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class RemoteFile:
    """One directory entry: full remote ``path``, ``name``, ``size`` in bytes, ``mtime`` (s)."""

    path: str
    name: str
    size: int
    mtime: int
    is_file: bool
    is_dir: bool

    @classmethod
    def from_attrs(cls, path: str, attrs: paramiko.SFTPAttributes) -> RemoteFile:
        mode = attrs.st_mode or 0
        return cls(
            path=path,
            name=path.rpartition("/")[2],
            size=attrs.st_size or 0,
            mtime=attrs.st_mtime or 0,
            is_file=stat_mode.S_ISREG(mode),
            is_dir=stat_mode.S_ISDIR(mode),
        )


def join(*parts: str) -> str:
    """Remote path join (always '/'); empty parts are skipped."""
    path = ""
    for part in parts:
        if not part:
            continue
        path = part if not path or part.startswith("/") else f"{path.rstrip('/')}/{part}"
    return path or "."


class SftpClient:
    """A connection to one SFTP server; connects on first use, reconnects after a drop."""

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self.read_size = DEFAULT_REQUEST
        self.write_size = DEFAULT_REQUEST
        self.connects = 0  # how many sessions were opened (a reconnect adds one)

    # -- connection ------------------------------------------------------------------------

    def __enter__(self) -> SftpClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._alive()

    def connect(self) -> None:
        """Opens the session now (retried on transient failures); a no-op when connected."""
        self.run("connect", lambda sftp: None)

    def close(self) -> None:
        sftp, transport = self._sftp, self._transport
        self._sftp = self._transport = None
        for closer in (sftp, transport):
            if closer is not None:
                try:
                    closer.close()
                except (OSError, EOFError, paramiko.SSHException) as exc:
                    log.debug("sftp %s: closing: %s", self.settings.endpoint, exc)

    def _alive(self) -> bool:
        """The transport is up and the sftp channel neither closed nor at end of stream."""
        if self._transport is None or self._sftp is None or not self._transport.is_active():
            return False
        channel = self._sftp.get_channel()
        return channel is not None and not (channel.closed or channel.eof_received)

    def _session(self) -> paramiko.SFTPClient:
        if self._sftp is not None and self._alive():
            return self._sftp
        self.close()
        self._transport, self._sftp = open_session(self.settings)
        self.connects += 1
        self.read_size, self.write_size = _request_sizes(self._sftp)
        return self._sftp

    # -- retries ---------------------------------------------------------------------------

    def run(
        self,
        what: str,
        op: Callable[[paramiko.SFTPClient], T],
        *,
        retry: RetryPolicy | None = None,
    ) -> T:
        """``op(session)`` with library errors mapped; transient ones reconnect and retry
        (``retry`` overrides the settings' policy; ``ONCE`` for a single attempt)."""
        policy = retry or self.settings.retry
        label = f"sftp {self.settings.endpoint}: {what}"

        def attempt() -> T:
            try:
                return op(self._session())
            except Exception as exc:
                mapped = translate(exc, label, alive=self._alive())
                if mapped is None:
                    raise
                if isinstance(mapped, TransientError):
                    self.close()
                if mapped is exc:
                    raise
                raise mapped from exc

        return with_retries(attempt, policy, what=label)

    def ping(self) -> Health:
        """One probe (connect if needed, stat the root), reported instead of raised."""
        root = self.path(".")
        return check_health(
            lambda: self.run(f"stat {root}", lambda s: s.stat(root), retry=ONCE),
            what=f"sftp {self.settings.endpoint}",
        )

    def path(self, remote: str) -> str:
        """``remote`` resolved against ``settings.root``."""
        return join(self.settings.root, remote)

    # -- metadata and moves ----------------------------------------------------------------

    def listdir(self, remote: str) -> list[RemoteFile]:
        base = self.path(remote)
        entries = self.run(f"list {base}", lambda s: s.listdir_attr(base))
        return [RemoteFile.from_attrs(join(base, e.filename), e) for e in entries]

    def stat(self, remote: str) -> RemoteFile:
        path = self.path(remote)
        return RemoteFile.from_attrs(path, self.run(f"stat {path}", lambda s: s.stat(path)))

    def exists(self, remote: str) -> bool:
        path = self.path(remote)
        return self.run(f"stat {path}", lambda s: _exists(s, path))

    def makedirs(self, remote: str) -> None:
        path = self.path(remote)
        self.run(f"mkdir {path}", lambda s: _makedirs(s, path))

    def rename(self, src: str, dst: str, *, overwrite: bool = False, retry: bool = True) -> None:
        """Moves ``src`` to ``dst``. Without ``overwrite`` an existing ``dst`` is never
        replaced (``RemoteExists``); a missing ``src`` is ``RemoteNotFound``."""
        source, target = self.path(src), self.path(dst)
        policy = None if retry else ONCE
        self.run(
            f"rename {source} -> {target}",
            lambda s: _rename(s, source, target, overwrite=overwrite),
            retry=policy,
        )

    # -- transfers -------------------------------------------------------------------------

    def open_read(self, remote: str) -> io.BufferedReader:
        """A streaming reader of ``remote`` that resumes after a dropped connection."""
        path = self.path(remote)
        self.connect()  # learn the server's read size first
        raw = RemoteReader(self.run, path, request_size=self.read_size)
        return io.BufferedReader(raw, buffer_size=max(self.read_size, io.DEFAULT_BUFFER_SIZE))

    def read_bytes(self, remote: str) -> bytes:
        with self.open_read(remote) as reader:
            return reader.read()

    def get(self, remote: str, local: Path) -> int:
        """Downloads to ``local`` through ``local.part`` (resuming after drops); bytes read."""
        part = local.with_name(local.name + ".part")
        try:
            with self.open_read(remote) as reader, part.open("wb") as out:
                shutil.copyfileobj(reader, out, 1024 * 1024)
                size = out.tell()
            os.replace(part, local)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return size

    def put(self, source: Path | BinaryIO, remote: str, *, overwrite: bool = True) -> int:
        """Uploads atomically: writes the temp name, checks its size, renames it to ``remote``.

        ``source`` is a local path or a binary file object (read from its current position;
        a seekable one is rewound for a retry, a non-seekable one gets a single attempt).
        Returns the bytes written. On failure the temp file is removed and ``remote`` is
        untouched.
        """
        target = self.path(remote)
        temp = self.settings.temp_path(target)
        with _opened(source) as (stream, start):
            policy = None if stream.seekable() else ONCE
            try:
                return self.run(
                    f"put {target}",
                    lambda s: self._put_once(
                        s, stream, start=start, temp=temp, target=target, overwrite=overwrite
                    ),
                    retry=policy,
                )
            except TandemError:
                self._discard(temp)
                raise

    def put_bytes(self, data: bytes, remote: str, *, overwrite: bool = True) -> int:
        return self.put(io.BytesIO(data), remote, overwrite=overwrite)

    def _put_once(
        self,
        sftp: paramiko.SFTPClient,
        stream: BinaryIO,
        *,
        start: int,
        temp: str,
        target: str,
        overwrite: bool,
    ) -> int:
        if stream.seekable():
            stream.seek(start)
        if not overwrite and _exists(sftp, target):
            raise RemoteExists(f"sftp {target} already exists; not overwriting it")
        size = 0
        with sftp.open(temp, "wb", bufsize=0) as handle:
            handle.MAX_REQUEST_SIZE = self.write_size
            handle.set_pipelined(True)
            while chunk := stream.read(self.write_size):
                handle.write(chunk)
                size += len(chunk)
        written = sftp.stat(temp).st_size
        if written != size:
            raise TransientError(f"sftp {temp}: size after upload {written}, sent {size}")
        _rename(sftp, temp, target, overwrite=overwrite)
        return size

    def _discard(self, temp: str) -> None:
        """Removes our own upload temp file after a failed put (best effort, one attempt)."""
        try:
            self.run(f"remove {temp}", lambda s: _remove_if_exists(s, temp))
        except TandemError as exc:
            log.warning("sftp %s: could not remove temp file %s: %s", self.name, temp, exc)

    @property
    def name(self) -> str:
        return known_hosts_name(self.settings.host, self.settings.port)


# -- small pieces --------------------------------------------------------------------------


@contextmanager
def _opened(source: Path | BinaryIO) -> Iterator[tuple[BinaryIO, int]]:
    if isinstance(source, Path):
        with source.open("rb") as stream:
            yield stream, 0
    else:
        yield source, source.tell() if source.seekable() else 0


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


def _makedirs(sftp: paramiko.SFTPClient, path: str) -> None:
    if _exists(sftp, path):
        return
    parent = path.rstrip("/").rpartition("/")[0]
    if parent and parent not in {".", "/"}:
        _makedirs(sftp, parent)
    try:
        sftp.mkdir(path)
    except OSError:
        if not _exists(sftp, path):  # another worker may have made it meanwhile
            raise


def _remove_if_exists(sftp: paramiko.SFTPClient, path: str) -> None:
    if _exists(sftp, path):
        sftp.remove(path)


def _rename(sftp: paramiko.SFTPClient, src: str, dst: str, *, overwrite: bool) -> None:
    """Plain SFTP rename never replaces an existing target (OpenSSH links then unlinks, so two
    renames of one source cannot both succeed); posix-rename@openssh.com replaces atomically."""
    try:
        if overwrite:
            try:
                sftp.posix_rename(src, dst)
                return
            except OSError as exc:
                if exc.errno is not None or "unsupported" not in str(exc).lower():
                    raise
                if _exists(sftp, dst) and _exists(sftp, src):
                    sftp.remove(dst)  # the server lacks posix-rename: replace in two steps
        sftp.rename(src, dst)
    except OSError as exc:
        if isinstance(exc, ConnectionError | TimeoutError) or exc.errno in TRANSIENT_ERRNOS:
            raise
        if not _exists(sftp, src):
            raise RemoteNotFound(f"sftp rename {src} -> {dst}: {src} does not exist") from exc
        if _exists(sftp, dst):
            raise RemoteExists(f"sftp rename {src} -> {dst}: {dst} already exists") from exc
        raise


def _request_sizes(sftp: paramiko.SFTPClient) -> tuple[int, int]:
    """Read and write sizes from OpenSSH's limits@openssh.com extension (32 KiB without)."""
    try:
        kind, msg = sftp._request(CMD_EXTENDED, "limits@openssh.com")  # type: ignore[attr-defined]
        if kind != 201:  # SSH_FXP_EXTENDED_REPLY
            return DEFAULT_REQUEST, DEFAULT_REQUEST
        _packet, read_len, write_len = msg.get_int64(), msg.get_int64(), msg.get_int64()
    except (OSError, paramiko.SSHException, EOFError):
        return DEFAULT_REQUEST, DEFAULT_REQUEST

    def fit(value: int) -> int:
        return max(DEFAULT_REQUEST, min(value or DEFAULT_REQUEST, MAX_REQUEST))

    return fit(read_len), fit(write_len)
