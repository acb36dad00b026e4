"""An inbound drop folder on an SFTP server, polled by one or many workers.

Layout under ``base`` (names from the settings)::

    inbound/      where the partner drops files
    processing/   a file a worker has claimed
    archive/      done: the hub holds what the file carried
    failed/       quarantined, each with ``<name>.error.txt`` beside it

- ``poll()`` lists ``inbound/`` and returns only *stable* files: with ``stability="listing"``
  a file whose size and mtime did not change between two listings at least
  ``settle_seconds`` apart; with ``stability="marker"`` a file whose marker
  (``name + marker_suffix``) exists. Hidden files, upload temp names and markers are skipped.
- ``claim(file)`` renames it into ``processing/``. A plain SFTP rename never replaces a
  target and cannot succeed twice for one source, so of two workers claiming one file
  exactly one wins; the loser gets ``None``.
- ``open_claimed(claimed)`` streams it; ``archive(claimed)`` moves it to ``archive/`` (the
  flow calls it only after the hub commit); ``fail(claimed, report)`` moves it to
  ``failed/`` and writes the report beside it. Name clashes get a UTC timestamp suffix.
  Nothing is ever deleted.
- A claim whose rename may have happened without our seeing the answer (the connection
  dropped at that moment) is not taken: the file stays in ``processing/`` where
  ``claimed_files()`` shows it, rather than risk two workers processing it.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from canonical.errors import TransientError
from connectors.transports.sftp import RemoteExists, RemoteFile, RemoteNotFound, SftpClient, join

log = logging.getLogger(__name__)
REPORT_SUFFIX = ".error.txt"


@dataclass(frozen=True)
class ClaimedFile:
    """A file this worker owns: ``name`` as dropped, ``path`` where it is now."""

    name: str
    path: str
    size: int
    mtime: int
    marker: str | None = None


class SftpInbox:
    """Polls and moves files in one drop folder; ``base`` is relative to the settings root."""

    def __init__(self, client: SftpClient, base: str = "") -> None:
        self.client = client
        settings = client.settings
        self.settings = settings
        self.inbound = join(base, settings.inbound_dir)
        self.processing = join(base, settings.processing_dir)
        self.archive_dir = join(base, settings.archive_dir)
        self.failed_dir = join(base, settings.failed_dir)
        self._previous: dict[str, RemoteFile] | None = None
        self._previous_at = 0.0
        self._ready = False

    def ensure_dirs(self) -> None:
        if not self._ready:
            for path in (self.inbound, self.processing, self.archive_dir, self.failed_dir):
                self.client.makedirs(path)
            self._ready = True

    # -- finding work ----------------------------------------------------------------------

    def poll(self) -> list[RemoteFile]:
        """Stable files in ``inbound/``, oldest first."""
        self.ensure_dirs()
        if self.settings.stability == "marker":
            return self._with_markers(self._list())
        if self._previous is None:
            self._previous, self._previous_at = self._list(), time.monotonic()
        wait = self.settings.settle_seconds - (time.monotonic() - self._previous_at)
        if wait > 0:
            time.sleep(wait)
        current = {f.name: f for f in self._list().values() if not self._is_marker(f.name)}
        previous = self._previous
        self._previous, self._previous_at = current, time.monotonic()
        stable = [
            f
            for name, f in current.items()
            if name in previous and (previous[name].size, previous[name].mtime) == (f.size, f.mtime)
        ]
        return sorted(stable, key=lambda f: (f.mtime, f.name))

    def _list(self) -> dict[str, RemoteFile]:
        return {
            f.name: f
            for f in self.client.listdir(self.inbound)
            if f.is_file and not f.name.startswith(".") and not self.settings.is_temp_name(f.name)
        }

    def _is_marker(self, name: str) -> bool:
        return self.settings.stability == "marker" and name.endswith(self.settings.marker_suffix)

    def _with_markers(self, files: dict[str, RemoteFile]) -> list[RemoteFile]:
        suffix = self.settings.marker_suffix
        ready = [
            f for name, f in files.items() if not name.endswith(suffix) and name + suffix in files
        ]
        return sorted(ready, key=lambda f: (f.mtime, f.name))

    # -- claiming --------------------------------------------------------------------------

    def claim(self, file: RemoteFile | str) -> ClaimedFile | None:
        """Moves ``file`` into ``processing/``; None when another worker took it first."""
        self.ensure_dirs()
        name = file if isinstance(file, str) else file.name
        source = join(self.inbound, name)
        target = self._free_name(self.processing, name)
        self.client.connect()  # connection problems before the rename are retried as usual
        try:
            self.client.rename(source, target, retry=False)
        except RemoteNotFound:
            return None  # claimed by someone else (or withdrawn by the sender)
        except RemoteExists as exc:
            log.warning("sftp claim of %s skipped: %s", source, exc)
            return None
        except TransientError as exc:
            self._after_lost_claim(source, target, exc)
            return None
        if self._previous is not None:  # a new file of this name must settle afresh
            self._previous.pop(name, None)
        found = self.client.stat(target)
        marker = self._claim_marker(name) if self.settings.stability == "marker" else None
        log.info("sftp claimed %s -> %s", source, target)
        return ClaimedFile(
            name=name, path=target, size=found.size, mtime=found.mtime, marker=marker
        )

    def _after_lost_claim(self, source: str, target: str, exc: TransientError) -> None:
        if self.client.exists(source):
            log.warning("sftp claim of %s failed before the rename (%s); will retry", source, exc)
        elif self.client.exists(target):
            log.warning(
                "sftp claim of %s: connection lost during the rename; the file is in %s but "
                "this worker cannot be sure it moved it, so it leaves it there for recovery",
                source,
                target,
            )

    def _claim_marker(self, name: str) -> str | None:
        marker = name + self.settings.marker_suffix
        return self._move_aside(join(self.inbound, marker), self.processing, marker)

    def _marker_name(self, data_path: str) -> str:
        return data_path.rpartition("/")[2] + self.settings.marker_suffix

    def claimed_files(self) -> list[RemoteFile]:
        """What is in ``processing/`` now (claims in progress, or left by a crashed worker)."""
        self.ensure_dirs()
        return [f for f in self.client.listdir(self.processing) if f.is_file]

    # -- processing ------------------------------------------------------------------------

    def open_claimed(self, claimed: ClaimedFile) -> io.BufferedReader:
        """A streaming reader of the claimed file (resumes after a dropped connection)."""
        return self.client.open_read(claimed.path)

    def archive(self, claimed: ClaimedFile) -> str:
        """Moves the file to ``archive/`` (call after the hub holds its content); new path."""
        path = self._move(claimed.path, self.archive_dir, claimed.name)
        if claimed.marker:
            self._move_aside(claimed.marker, self.archive_dir, self._marker_name(path))
        log.info("sftp archived %s -> %s", claimed.path, path)
        return path

    def fail(self, claimed: ClaimedFile, report: str) -> str:
        """Moves the file to ``failed/`` with ``<name>.error.txt`` beside it; new path."""
        target = self._free_name(self.failed_dir, claimed.name, report=True)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        text = f"file: {claimed.name}\nsize: {claimed.size}\nfailed_at: {stamp}\n\n{report}\n"
        self.client.put_bytes(text.encode(), target + REPORT_SUFFIX)
        path = self._move(claimed.path, self.failed_dir, claimed.name, target=target)
        if claimed.marker:
            self._move_aside(claimed.marker, self.failed_dir, self._marker_name(path))
        log.warning("sftp quarantined %s -> %s", claimed.path, path)
        return path

    # -- moves that never overwrite --------------------------------------------------------

    def _free_name(self, directory: str, name: str, *, report: bool = False) -> str:
        """``directory/name``, or with a timestamp suffix when taken (by the file or, for
        ``report``, by a leftover ``.error.txt``)."""
        target = join(directory, name)
        while self.client.exists(target) or (report and self.client.exists(target + REPORT_SUFFIX)):
            target = join(directory, f"{name}.{_stamp()}")
        return target

    def _move(self, source: str, directory: str, name: str, *, target: str | None = None) -> str:
        target = target or self._free_name(directory, name)
        for _ in range(5):
            try:
                self.client.rename(source, target)
                return target
            except RemoteNotFound:
                if self.client.exists(target):  # a retry after the move went through
                    return target
                raise
            except RemoteExists:
                target = join(directory, f"{name}.{_stamp()}")
        raise RemoteExists(f"sftp could not find a free name for {name} in {directory}")

    def _move_aside(self, source: str, directory: str, name: str) -> str | None:
        try:
            return self._move(source, directory, name)
        except (RemoteNotFound, RemoteExists) as exc:
            log.warning("sftp marker %s not moved: %s", source, exc)
            return None


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
