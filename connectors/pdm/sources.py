"""Where catalogue files come from: a local (or mounted) folder, or a folder on an SFTP server.

Both list *stable* files only: two listings ``settle_seconds`` apart must show the same size
and modification time (with 0, one listing). Hidden names (``.x``), upload temp names
(``*.part``, ``*.tmp``, ``*.filepart``) and names not matching ``pattern`` are skipped. Files
come oldest first (modification time, then name), so a full catalogue is read before the
deltas written after it. Nothing is moved or deleted: the PDM owns its outbound folder.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from canonical.errors import PermanentError, TransientError
from connectors.transports.retry import Health, check_health
from connectors.transports.sftp import ONCE, SftpClient, SftpSettings, join

log = logging.getLogger(__name__)
TEMP_SUFFIXES = (".part", ".tmp", ".filepart", ".partial", "~")


@dataclass(frozen=True)
class CatalogFile:
    name: str
    size: int
    mtime: float  # seconds, for ordering
    identity: str  # "size:mtime" as precise as the source tells it

    @classmethod
    def of(cls, name: str, size: int, mtime: float | int, mtime_text: str) -> CatalogFile:
        return cls(name, size, float(mtime), f"{size}:{mtime_text}")


class Source(Protocol):
    where: str

    def files(self) -> list[CatalogFile]: ...

    def open(self, file: CatalogFile) -> BinaryIO: ...

    def health(self) -> Health: ...

    def close(self) -> None: ...


def wanted(name: str, pattern: str) -> bool:
    if name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES):
        return False
    return fnmatch.fnmatch(name.lower(), pattern.lower())


def stable(listing: Callable[[], list[CatalogFile]], settle_seconds: float) -> list[CatalogFile]:
    """Files whose size and mtime did not change across ``settle_seconds``, oldest first."""
    first = listing()
    if settle_seconds > 0 and first:
        time.sleep(settle_seconds)
        before = {f.name: f for f in first}
        found = [f for f in listing() if before.get(f.name) == f]
    else:
        found = first
    return sorted(found, key=lambda f: (f.mtime, f.name))


class FolderSource:
    """Catalogue files in a local or mounted folder."""

    def __init__(self, folder: Path, *, pattern: str = "*.xml", settle_seconds: float = 2.0):
        self.folder = folder
        self.pattern = pattern
        self.settle_seconds = settle_seconds
        self.where = f"folder {folder}"

    def _listing(self) -> list[CatalogFile]:
        try:
            entries = list(os.scandir(self.folder))
        except (FileNotFoundError, NotADirectoryError, PermissionError, OSError) as exc:
            raise TransientError(f"pdm {self.where} cannot be listed: {exc}") from exc
        found: list[CatalogFile] = []
        for entry in entries:
            if not wanted(entry.name, self.pattern):
                continue
            try:
                if not entry.is_file():
                    continue
                info = entry.stat()
            except FileNotFoundError:
                continue  # removed between listing and stat
            found.append(
                CatalogFile.of(entry.name, info.st_size, info.st_mtime, str(info.st_mtime_ns))
            )
        return found

    def files(self) -> list[CatalogFile]:
        return stable(self._listing, self.settle_seconds)

    def open(self, file: CatalogFile) -> BinaryIO:
        try:
            return (self.folder / file.name).open("rb", buffering=1 << 20)
        except FileNotFoundError as exc:
            raise TransientError(f"pdm {self.where}: {file.name} vanished before reading") from exc
        except OSError as exc:
            raise TransientError(f"pdm {self.where}: cannot open {file.name}: {exc}") from exc

    def health(self) -> Health:
        def probe() -> None:
            if not self.folder.is_dir():
                raise TransientError(f"{self.folder} is not a reachable folder")
            if not os.access(self.folder, os.R_OK | os.X_OK):
                raise PermanentError(f"{self.folder} is not readable by this process")

        return check_health(probe, what=f"pdm {self.where}")

    def close(self) -> None:
        return None


class SftpSource:
    """Catalogue files in ``directory`` (relative to the connection's root) on an SFTP server."""

    def __init__(
        self,
        settings: SftpSettings,
        directory: str = "",
        *,
        pattern: str = "*.xml",
        settle_seconds: float = 2.0,
    ) -> None:
        self.client = SftpClient(settings)
        self.directory = directory
        self.pattern = pattern
        self.settle_seconds = settle_seconds
        self.where = f"sftp {settings.endpoint}/{join(settings.root, directory)}"

    def _listing(self) -> list[CatalogFile]:
        return [
            CatalogFile.of(f.name, f.size, f.mtime, str(f.mtime))
            for f in self.client.listdir(self.directory or ".")
            if f.is_file and wanted(f.name, self.pattern)
        ]

    def files(self) -> list[CatalogFile]:
        return stable(self._listing, self.settle_seconds)

    def open(self, file: CatalogFile) -> BinaryIO:
        return self.client.open_read(join(self.directory, file.name))

    def health(self) -> Health:
        path = self.client.path(self.directory or ".")
        return check_health(
            lambda: self.client.run(f"stat {path}", lambda s: s.stat(path), retry=ONCE),
            what=f"pdm {self.where}",
        )

    def close(self) -> None:
        self.client.close()
