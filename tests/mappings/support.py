"""Writing small mapping files into a temporary directory for the engine's tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mappings.engine import CompiledMapping, compile_file

HEADER = """\
system: shop
entity: {entity}
direction: {direction}
canonical: {canonical}
record_id: {record_id}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def mapping(
    directory: Path,
    body: str,
    *,
    canonical: str = "Product",
    direction: str = "to_canonical",
    entity: str = "item",
    record_id: str = "id",
) -> CompiledMapping:
    """Compile ``body`` (fields, let, params...) under a standard header; fail on problems."""
    head = HEADER.format(
        entity=entity, direction=direction, canonical=canonical, record_id=record_id
    )
    path = write(directory, f"{entity}.{direction}.yaml", head + textwrap.dedent(body))
    compiled, problems = compile_file(path)
    assert compiled is not None, problems
    return compiled
