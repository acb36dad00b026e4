"""The declarative mapping engine: mapping files in, fast compiled functions out.

``load_mapping(path)`` reads, checks and compiles a mapping file once; ``.map(record)`` maps
one record (``InvalidRecord`` lists every bad field), ``.run(record)`` returns the values and
the errors without raising. docs/mappings.md describes the file language.
"""

from mappings.engine import geo, numbers, text, times  # noqa: F401  (register the transforms)
from mappings.engine.compiled import (
    FROM_CANONICAL,
    TO_CANONICAL,
    CompiledMapping,
    Mapped,
    MappingFileError,
    Outcome,
    compile_file,
    load_mapping,
)
from mappings.engine.registry import TRANSFORMS, register_function
from mappings.engine.valuemaps import ValueMap, load_value_map
from mappings.engine.yamlio import DataFileError

__all__ = [
    "FROM_CANONICAL",
    "TO_CANONICAL",
    "TRANSFORMS",
    "CompiledMapping",
    "DataFileError",
    "Mapped",
    "MappingFileError",
    "Outcome",
    "ValueMap",
    "compile_file",
    "load_mapping",
    "load_value_map",
    "register_function",
]
