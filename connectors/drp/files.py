"""Which of a distributor's files a read still has to take, and the cursor that says so.

Files stay where the distributor put them (a read has no side effects; see ``archive`` in
the connector for housekeeping after the hub holds them). The cursor remembers, per
distributor, the newest modification time read (``w``) and every file read whose mtime is
within ``window`` seconds of it, by name with its mtime and size (``s``): a file is new when
it is not in that list with the same mtime and size (a file rewritten under the same name is
read again) and not older than the window. So files written in the same second, or listed
out of order, are not skipped, and the cursor stays small.

A file counts only when it is *stable*: not hidden, not an upload temp name (``.part``,
``.tmp``, ``.filepart``), and, when ``settle_seconds`` is set, the same size and mtime in two
listings that far apart.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from canonical.errors import PermanentError, TransientError
from connectors.transports.sftp import RemoteExists, RemoteFile, RemoteNotFound, SftpClient, join

TEMP_SUFFIXES = (".part", ".tmp", ".filepart", ".partial", ".crdownload", ".lock")


def matches(name: str, patterns: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatch(lowered, p.lower()) for p in patterns)


def is_candidate(file: RemoteFile, client: SftpClient) -> bool:
    name = file.name
    return (
        file.is_file
        and not name.startswith(".")
        and not name.lower().endswith(TEMP_SUFFIXES)
        and not client.settings.is_temp_name(name)
    )


def listing(client: SftpClient, folder: str) -> dict[str, RemoteFile]:
    """The candidate files of ``folder`` by name (a missing folder has none)."""
    try:
        entries = client.listdir(folder)
    except RemoteNotFound:
        return {}
    return {f.name: f for f in entries if is_candidate(f, client)}


def stable(first: dict[str, RemoteFile], second: dict[str, RemoteFile]) -> list[RemoteFile]:
    """Files unchanged between two listings, oldest first."""
    same = [
        f for name, f in second.items()
        if name in first and (first[name].size, first[name].mtime) == (f.size, f.mtime)
    ]  # fmt: skip
    return sorted(same, key=lambda f: (f.mtime, f.name))


Listed = list[RemoteFile] | TransientError


def _listing(client: SftpClient, folder: str) -> dict[str, RemoteFile] | TransientError:
    try:
        return listing(client, folder)
    except TransientError as exc:
        return exc


def settled_listings(
    folders: Sequence[tuple[SftpClient, str]],
    settle_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Listed]:
    """Stable files of every folder, with one wait of ``settle_seconds`` for all of them; a
    folder whose server cannot be reached gives its ``TransientError`` instead."""
    first = [_listing(client, folder) for client, folder in folders]
    if settle_seconds > 0 and any(isinstance(f, dict) for f in first):
        sleep(settle_seconds)
    out: list[Listed] = []
    for before, (client, folder) in zip(first, folders, strict=True):
        if isinstance(before, TransientError):
            out.append(before)
        elif settle_seconds <= 0:
            out.append(sorted(before.values(), key=lambda f: (f.mtime, f.name)))
        else:
            after = _listing(client, folder)
            out.append(after if isinstance(after, TransientError) else stable(before, after))
    return out


def move_aside(client: SftpClient, name: str, source: str, target: str) -> int:
    """Moves ``source/name`` into ``target`` without overwriting; 1 when moved, 0 when the
    file was gone already."""
    client.makedirs(target)
    final = join(target, name)
    for attempt in range(3):
        try:
            client.rename(join(source, name), final)
            return 1
        except RemoteNotFound:
            return 0
        except RemoteExists:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            final = join(target, f"{name}.{stamp}.{attempt}")
    raise RemoteExists(f"sftp: no free name for {name} in {target}")


@dataclass
class FolderState:
    """What has been read of one distributor's folder."""

    watermark: int = 0
    seen: dict[str, str] = field(default_factory=dict)  # name -> "mtime:size"

    def is_new(self, file: RemoteFile, window: float) -> bool:
        if file.mtime < self.watermark - window:
            return False
        return self.seen.get(file.name) != f"{file.mtime}:{file.size}"

    def mark(self, file: RemoteFile, window: float) -> None:
        self.watermark = max(self.watermark, file.mtime)
        self.seen[file.name] = f"{file.mtime}:{file.size}"
        oldest = self.watermark - window
        self.seen = {n: v for n, v in self.seen.items() if int(v.split(":")[0]) >= oldest}


@dataclass
class Cursor:
    """Per distributor key, its ``FolderState``."""

    folders: dict[str, FolderState] = field(default_factory=dict)

    def folder(self, key: str) -> FolderState:
        return self.folders.setdefault(key, FolderState())

    def encode(self) -> str:
        data: dict[str, Any] = {
            "v": 1,
            "d": {k: {"w": s.watermark, "s": s.seen} for k, s in sorted(self.folders.items())},
        }
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        if len(text) < 2048:
            return text
        return "z:" + base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode()

    @classmethod
    def decode(cls, cursor: str | None) -> Cursor:
        if not cursor:
            return cls()
        try:
            text = cursor
            if cursor.startswith("z:"):
                text = zlib.decompress(base64.urlsafe_b64decode(cursor[2:])).decode()
            data = json.loads(text)
            folders = {
                str(key): FolderState(
                    int(value["w"]), {str(n): str(v) for n, v in value["s"].items()}
                )
                for key, value in data["d"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:
            raise PermanentError(f"drp cursor is not one this connector wrote: {exc}") from exc
        return cls(folders)
