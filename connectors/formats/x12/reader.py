"""A streaming X12 reader: interchanges -> groups -> transaction sets, chunk by chunk.

The input is read in chunks (1 MiB by default) and split on the segment terminator the
ISA declares, so a file of any size runs in the memory of one chunk plus one transaction
set. Each interchange's ISA is read afresh, so a file may hold interchanges with different
delimiters. CR/LF after terminators is ignored.

The reader yields, in file order, each well-formed ``TransactionSet`` and an ``X12Error``
for each problem; a bad set does not stop the others. Group and interchange trailer
problems (GE01/GE02, IEA01/IEA02) are yielded after the sets they cover, since those sets
were already passed on. Content that is not X12 at all is one ``X12Error`` of level "file".
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from connectors.formats.x12.isa import not_edi, parse_isa
from connectors.formats.x12.model import (
    ISA_LENGTH,
    InterchangeHeader,
    TransactionSet,
    X12Error,
)
from connectors.formats.x12.scanner import InterchangeScanner

Item = TransactionSet | X12Error
CHUNK_SIZE = 1 << 20
MAX_SET_SEGMENTS = 2_000_000


class X12Reader:
    """Iterate over ``TransactionSet`` and ``X12Error`` items of one binary stream."""

    def __init__(
        self,
        stream: BinaryIO,
        source: str = "",
        *,
        encoding: str = "utf-8",
        chunk_size: int = CHUNK_SIZE,
        max_set_segments: int = MAX_SET_SEGMENTS,
    ) -> None:
        self.stream = stream
        self.source = source
        self.chunk_size = chunk_size
        self.max_set_segments = max_set_segments
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self.buffer = ""
        self._eof = False
        self.segments_read = 0  # segments consumed so far (file-wide position)
        self.interchanges = 0

    # -- input ------------------------------------------------------------------------------

    def fill(self) -> bool:
        """Append one decoded chunk to the buffer; False at the end of the input."""
        if self._eof:
            return False
        data = self.stream.read(self.chunk_size)
        try:
            if not data:
                self._eof = True
                self.buffer += self._decoder.decode(b"", final=True)
                return False
            self.buffer += self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            self._eof = True
            raise X12Error(
                f"byte {exc.object[exc.start : exc.start + 1]!r} is not valid "
                f"{exc.encoding} ({exc.reason}); set the partner's encoding",
                source=self.source,
                level="file",
                raw=bytes(exc.object[max(0, exc.start - 64) : exc.start + 64]),
            ) from exc
        return True

    def _next_isa(self) -> InterchangeHeader | None:
        while True:
            self.buffer = self.buffer.lstrip("\ufeff \t\r\n\x00")
            if len(self.buffer) >= ISA_LENGTH or not self.fill():
                break
        if not self.buffer:
            return None
        if self.interchanges and not self.buffer.startswith("ISA"):
            raise X12Error(
                f"content after interchange {self.interchanges} is not an ISA: "
                f"{self.buffer[:24]!r}",
                source=self.source,
                level="file",
                raw=self.buffer[:4096].encode("utf-8", "replace"),
            )
        header, _ = parse_isa(self.buffer, self.source)
        self.buffer = self.buffer[ISA_LENGTH:]
        self.segments_read += 1
        self.interchanges += 1
        return header

    # -- iteration ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Item]:
        try:
            head = self._peek_start()
            if head is None:
                yield X12Error("empty input: no ISA", source=self.source, level="file")
                return
            if not head.startswith("ISA"):
                yield not_edi(head, self.source)
                return
            while (header := self._next_isa()) is not None:
                yield from InterchangeScanner(self, header).run()
        except X12Error as exc:
            yield exc

    def _peek_start(self) -> str | None:
        while len(self.buffer.lstrip("\ufeff \t\r\n\x00")) < 3 and self.fill():
            pass
        text = self.buffer.lstrip("\ufeff \t\r\n\x00")
        return text or None


def read_x12(
    data: bytes | str | Path | BinaryIO, source: str = "", **options: object
) -> Iterator[Item]:
    """Iterate over the sets and errors of bytes, text, a file path or a binary stream."""
    import io

    if isinstance(data, Path):
        with data.open("rb") as stream:
            yield from X12Reader(stream, source or data.name, **options)  # type: ignore[arg-type]
        return
    if isinstance(data, str):
        data = data.encode("utf-8")
    stream_in = io.BytesIO(data) if isinstance(data, bytes) else data
    yield from X12Reader(stream_in, source, **options)  # type: ignore[arg-type]
