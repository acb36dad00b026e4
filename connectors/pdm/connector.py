"""``PdmConnector``: the PDM's BMEcat catalogues (full and delta) as one ``products`` stream.

Each read lists the source's stable catalogue files, oldest first, skips the files the cursor
records as done (same name, same size and mtime), and streams each remaining file through
``CatalogReader``: pages of ``page_size`` products, each page's cursor naming the file and
the products delivered so far, the last page of a file marking it done. A file left part of
the way (a crash, a stopped run) is re-parsed from its start on the next read and the
products already delivered are passed over unread, so nothing is yielded twice. A file
that is not well-formed or not safe to parse is quarantined (with line/column) after the
products before the break, and counts as done: it is not read again unless it changes.
Read-only: the PDM owns its catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from connectors.base import Connector, Health, Page, Quarantined, RawRecord, Stream
from connectors.pdm.bmecat import STREAM, CatalogReader
from connectors.pdm.cursor import FileCursor
from connectors.pdm.settings import PdmSettings
from connectors.pdm.sources import CatalogFile, FolderSource, SftpSource, Source

log = logging.getLogger(__name__)
POOL_MIN_BYTES = 16 << 20  # smaller files are parsed in this process (no worker start-up)


class ProductsStream(Stream):
    name = STREAM

    def __init__(
        self, source: Source, *, page_size: int = 1000, keep_raw: bool = False, workers: int = 1
    ) -> None:
        self.source = source
        self.page_size = page_size
        self.keep_raw = keep_raw
        self.workers = workers

    def read(self, cursor: str | None) -> Iterator[Page]:
        state = FileCursor.decode(cursor)
        files = self.source.files()
        state.keep_only(f.name for f in files)
        for file in files:
            if not state.is_done(file.name, file.identity):
                yield from self._read_file(file, state)

    def _read_file(self, file: CatalogFile, state: FileCursor) -> Iterator[Page]:
        skip = state.resume_at(file.name, file.identity)
        records: list[RawRecord] = []
        quarantined: list[Quarantined] = []
        log.info("pdm reading %s from %s (after product %d)", file.name, self.source.where, skip)
        with self.source.open(file) as stream:
            reader = CatalogReader(
                stream,
                file.name,
                skip=skip,
                keep_raw=self.keep_raw,
                workers=self.workers if file.size >= POOL_MIN_BYTES else min(self.workers, 1),
                reopen=lambda: self.source.open(file),
            )
            for item in reader:
                if isinstance(item, RawRecord):
                    records.append(item)
                else:
                    quarantined.append(item)
                if len(records) + len(quarantined) >= self.page_size:
                    cursor = state.at(file.name, file.identity, reader.position)
                    yield Page(records, cursor, quarantined)
                    records, quarantined = [], []
        log.info(
            "pdm %s done: %d product(s)%s",
            file.name,
            reader.position,
            " (quarantined as a file: see the page)" if reader.broken else "",
        )
        yield Page(records, state.finish(file.name, file.identity), quarantined)


class PdmConnector(Connector):
    """BMEcat 2005 / 1.2 catalogues from a folder or an SFTP server (see the module doc)."""

    system = "pdm"

    def __init__(self, settings: PdmSettings) -> None:
        self.settings = settings
        self.source = make_source(settings)
        super().__init__(
            [
                ProductsStream(
                    self.source,
                    page_size=settings.page_size,
                    keep_raw=settings.keep_raw,
                    workers=settings.workers,
                )
            ]
        )

    def health(self) -> Health:
        return self.source.health()

    def close(self) -> None:
        self.source.close()


def make_source(settings: PdmSettings) -> Source:
    if settings.folder is not None:
        return FolderSource(
            settings.folder, pattern=settings.pattern, settle_seconds=settings.settle_seconds
        )
    assert settings.sftp is not None
    return SftpSource(
        settings.sftp,
        settings.directory,
        pattern=settings.pattern,
        settle_seconds=settings.settle_seconds,
    )
