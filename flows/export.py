"""Files flows write for people and planning tools: CSV a spreadsheet will not run, rewritten
only when their content changes.

- ``safe_cell``: a value as CSV text a spreadsheet shows as text (no formula injection);
- ``render_csv``: rows as CSV bytes, every cell through ``safe_cell``;
- ``write_if_changed``: a file written atomically (temporary name, then rename), and not at
  all when it already holds exactly these bytes (so a rerun leaves its bytes and its mtime);
- ``write_parquet``: the same table as Parquet when pyarrow is installed (optional).
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import os
import tempfile
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# what makes a spreadsheet treat a cell as a formula (OWASP CSV injection), full-width included
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> str:
    """``value`` as text a spreadsheet shows as text: a cell that would start a formula gets
    a leading ``'``. Plain numbers (``-12.5``) stay numbers."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        try:
            Decimal(text)
        except InvalidOperation:
            return "'" + text
        return text if text.strip() == text else "'" + text
    return text


def render_csv(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, delimiter: str = ","
) -> bytes:
    """UTF-8 CSV (CRLF line ends, quoted where needed), every cell through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless the file holds it already; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def write_parquet(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> bool:
    """The table as Parquet (all columns as text, exact), rewritten only when its content
    changed; False when pyarrow is not installed or nothing changed."""
    if not parquet_available():
        return False
    pa: Any = importlib.import_module("pyarrow")
    pq: Any = importlib.import_module("pyarrow.parquet")

    columns = {
        name: [None if row[i] is None else str(row[i]) for row in rows]
        for i, name in enumerate(header)
    }
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="zstd")
    return write_if_changed(path, buffer.getvalue().to_pybytes())
