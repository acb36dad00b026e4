"""Streaming reads of one remote file that survive a dropped connection.

``RemoteReader`` pipelines read requests one window ahead of the consumer (``readv`` over the
next ``window`` bytes, default 8 MiB) and hands data out as the consumer asks for it. Memory
stays bounded by the window whatever the file size, however slow the consumer and wherever it
stops reading. Each read is one retried operation: when the connection
drops, the client reconnects and the reader re-opens the file at the offset it had
delivered, after checking that the file's size and modification time are still those it
started with (a changed file is a ``PermanentError``; resuming would mix two versions).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import paramiko

from canonical.errors import PermanentError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runner(Protocol):
    """Runs ``op`` on the current session, reconnecting and retrying transient failures."""

    def __call__(self, what: str, op: Callable[[paramiko.SFTPClient], T]) -> T: ...


class RemoteReader(io.RawIOBase):
    """A read-only, sequential, resumable raw stream over a remote file.

    ``run`` is the client's retrying runner; ``request_size`` the SFTP read size the server
    accepts. Use through ``io.BufferedReader`` (``SftpClient.open_read`` does).
    """

    def __init__(
        self,
        run: Runner,
        path: str,
        *,
        request_size: int = 32768,
        window: int = 8 * 1024 * 1024,
    ) -> None:
        super().__init__()
        self._window = max(window, request_size)
        self._ahead: Iterator[bytes] | None = None  # pipelined chunks of the current window
        self._left = b""  # the part of a chunk the consumer has not taken yet
        self._ahead_end = 0  # file offset where the current window ends
        self._run = run
        self.path = path
        self._request_size = request_size
        self._file: paramiko.SFTPFile | None = None
        self._owner: paramiko.SFTPClient | None = None
        self._identity: tuple[int, int] | None = None
        self._pos = 0  # bytes handed to the consumer
        self.size, self.mtime = self._run(f"stat {path}", self._stat)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._request_size, self.size - self._pos)
        if wanted <= 0:
            return 0
        data = self._run(f"reading {self.path}", lambda sftp: self._fetch(sftp, wanted))
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except (OSError, EOFError, paramiko.SSHException) as exc:
                log.debug("closing %s: %s", self.path, exc)
            self._file = None
        super().close()

    # -- one retried step each ---------------------------------------------------------

    def _stat(self, sftp: paramiko.SFTPClient) -> tuple[int, int]:
        attrs = sftp.stat(self.path)
        identity = (attrs.st_size or 0, attrs.st_mtime or 0)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise PermanentError(
                f"sftp {self.path} changed while it was being read (size/mtime "
                f"{self._identity} -> {identity}); not resuming a different file"
            )
        return identity

    def _fetch(self, sftp: paramiko.SFTPClient, wanted: int) -> bytes:
        if self._file is None or self._owner is not sftp:
            self._reopen(sftp)
        assert self._file is not None
        data = self._left or (next(self._ahead, b"") if self._ahead is not None else b"")
        if not data:
            self._ahead = self._read_ahead()
            data = next(self._ahead, b"")
        if not data:
            raise PermanentError(
                f"sftp {self.path} shrank while it was being read: end of file at byte "
                f"{self._pos} of {self.size}"
            )
        # a chunk can be longer than the consumer's buffer: keep the rest for the next read
        data, self._left = data[:wanted], data[wanted:]
        return data

    def _read_ahead(self) -> Iterator[bytes]:
        """Pipelined requests for the next window after what the consumer has taken."""
        assert self._file is not None
        start = self._pos
        end = min(self.size, start + self._window)
        step = self._request_size
        chunks = [(offset, min(step, end - offset)) for offset in range(start, end, step)]
        self._ahead_end = end
        return iter(self._file.readv(chunks)) if chunks else iter(())

    def _reopen(self, sftp: paramiko.SFTPClient) -> None:
        if self._owner is not None:
            log.info("sftp %s: resuming at byte %d on a new connection", self.path, self._pos)
        self._stat(sftp)
        handle = sftp.open(self.path, "rb")
        handle.MAX_REQUEST_SIZE = self._request_size
        self._ahead, self._left = None, b""  # resume exactly at what was handed out
        self._file, self._owner = handle, sftp
