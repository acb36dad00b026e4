"""Reading the 3PL's outbound folder with a cursor that remembers the files processed.

The 3PL leaves files in its outbound folder and Tandem never moves or deletes them there
(the 3PL's retention is its own); so a read from ``None`` re-reads everything still there
(a replay) and the cursor says what was already read:

- ``w``: the newest modification time (server seconds) among the files read;
- ``seen``: each file read whose mtime is within ``lag_seconds`` of ``w`` (name -> mtime);
  older files count as read. Files with the same mtime second, and a file renamed into
  place after a newer one (its mtime is when it was written), are not skipped as long as
  they are within the lag;
- ``f``/``n``: a file read only in part (a large 846 paged): its name and how many items
  (records and quarantined sets) of it were already given out.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from canonical.errors import PermanentError
from connectors.base import Page, Quarantined, RawRecord
from connectors.transports.sftp import RemoteFile, SftpClient

Item = RawRecord | Quarantined
Parser = Callable[[RemoteFile, BinaryIO], Iterator[Item]]


@dataclass
class FileCursor:
    w: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    f: str = ""
    n: int = 0

    @classmethod
    def decode(cls, text: str | None) -> FileCursor:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(
                int(data["w"]),
                {str(k): int(v) for k, v in data["seen"].items()},
                str(data.get("f", "")),
                int(data.get("n", 0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PermanentError(f"logistics cursor {text[:60]!r} is not one of ours") from exc

    def encode(self) -> str:
        data: dict[str, object] = {"w": self.w, "seen": dict(sorted(self.seen.items()))}
        if self.f:
            data.update(f=self.f, n=self.n)
        return json.dumps(data, separators=(",", ":"))

    def is_new(self, file: RemoteFile, lag: int) -> bool:
        return file.mtime >= self.w - lag and file.name not in self.seen

    def finished(self, file: RemoteFile, lag: int) -> FileCursor:
        w = max(self.w, file.mtime)
        seen = {k: v for k, v in {**self.seen, file.name: file.mtime}.items() if v >= w - lag}
        return FileCursor(w, seen)

    def partial(self, file: RemoteFile, done: int) -> FileCursor:
        return FileCursor(self.w, dict(self.seen), file.name, done)


def matches(name: str, patterns: Sequence[str]) -> bool:
    return not name.startswith(".") and any(fnmatch.fnmatch(name, p) for p in patterns)


def new_files(
    client: SftpClient, folder: str, patterns: Sequence[str], cursor: FileCursor, lag: int
) -> list[RemoteFile]:
    """Finished files (no hidden or temp names) matching ``patterns``, not yet read, oldest
    first; the partly read file of the cursor comes first."""
    settings = client.settings
    found = [
        f
        for f in client.listdir(folder)
        if f.is_file
        and not settings.is_temp_name(f.name)
        and matches(f.name, patterns)
        and cursor.is_new(f, lag)
    ]
    return sorted(found, key=lambda f: (f.name != cursor.f, f.mtime, f.name))


def read_pages(
    client: SftpClient,
    folder: str,
    patterns: Sequence[str],
    cursor_text: str | None,
    parse: Parser,
    *,
    page_size: int,
    lag: int,
) -> Iterator[Page]:
    """Pages of what ``parse`` makes of each new file, each with the cursor after it."""
    cursor = FileCursor.decode(cursor_text)
    for file in new_files(client, folder, patterns, cursor, lag):
        skip = cursor.n if file.name == cursor.f else 0
        records: list[RawRecord] = []
        quarantined: list[Quarantined] = []
        done = 0
        with client.open_read(file.path) as stream:
            for item in parse(file, stream):
                done += 1
                if done <= skip:
                    continue
                if isinstance(item, RawRecord):
                    records.append(item)
                else:
                    quarantined.append(item)
                if len(records) + len(quarantined) >= page_size:
                    yield Page(records, cursor.partial(file, done).encode(), quarantined)
                    records, quarantined = [], []
        cursor = cursor.finished(file, lag)
        yield Page(records, cursor.encode(), quarantined)
