"""Writing small mapping files into a temporary directory for the engine's tests."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

from mappings.engine import CompiledMapping, compile_file

GOLDEN = Path(__file__).parent / "golden"

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


def golden(name: str, produced: dict[str, Any]) -> dict[str, Any]:
    """The stored expectation; ``TANDEM_UPDATE_GOLDEN=1`` rewrites it from what was produced."""
    path = GOLDEN / name
    if os.environ.get("TANDEM_UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(produced, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    expected: dict[str, Any] = json.loads(path.read_text())
    return expected
