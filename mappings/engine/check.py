"""``tandem mapping check``: every mapping file, value map and part under a directory.

Beyond compiling (unknown keys, transforms, value maps, parts, paths), a mapping is checked
against its canonical model: fields written into a canonical model must exist in it, every
field the model requires must be mapped, and fields read from a canonical model must exist.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel

from mappings.engine.compiled import TO_CANONICAL, ParsedFile, parse_file
from mappings.engine.paths import Path
from mappings.engine.spec import PART_SUFFIX, Cond, Spec
from mappings.engine.valuemaps import SUFFIX as VALUES_SUFFIX
from mappings.engine.valuemaps import load_value_map
from mappings.engine.yamlio import DataFileError, read_yaml

MAPPING_SUFFIXES = (".to_canonical.yaml", ".from_canonical.yaml")


@dataclass(frozen=True)
class Problem:
    file: FilePath
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The canonical model inside ``Address | None``, ``tuple[OrderLine, ...]`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := model_of(arg)) is not None:
                return found
    return None


def _field_model(model: type[BaseModel], name: str) -> tuple[bool, type[BaseModel] | None]:
    info = model.model_fields.get(name)
    return (False, None) if info is None else (True, model_of(info.annotation))


# -- system -> canonical: what is written ---------------------------------------------------


def _outputs(fields: dict[str, Spec], model: type[BaseModel], where: str, out: list[str]) -> None:
    for name, spec in fields.items():
        known, sub = _field_model(model, name)
        if not known:
            out.append(f"{spec.where}: {model.__name__} has no field {name!r}")
        elif sub is not None:
            _value(spec, sub, out)
    for name, info in model.model_fields.items():
        if info.is_required() and name not in fields:
            out.append(f"{where}: required {model.__name__} field {name!r} is not mapped")


def _value(spec: Spec, model: type[BaseModel], out: list[str]) -> None:
    if spec.kind == "fields":
        _outputs(spec.fields, model, spec.where, out)
    elif spec.kind in ("each", "find") and spec.item is not None:
        _value(spec.item, model, out)
    elif spec.kind in ("list", "first", "cases", "concat_lists"):
        for part in spec.parts:
            _value(part, model, out)


# -- canonical -> system: what is read ------------------------------------------------------


class _Reads:
    def __init__(self, root: type[BaseModel], out: list[str]) -> None:
        self.root, self.out = root, out
        self.names: dict[str, type[BaseModel] | None] = {}

    def path(self, path: Path | None, scope: type[BaseModel] | None, where: str) -> Any:
        if path is None:
            return None
        model: type[BaseModel] | None
        if path.var is None:
            model = scope
        elif path.var == "record":
            model = self.root
        else:
            model = self.names.get(path.var)
        for step in path.steps:
            if model is None:
                return None
            if isinstance(step, int):
                continue
            known, sub = _field_model(model, step)
            if not known:
                self.out.append(f"{where}: {model.__name__} has no field {step!r}")
                return None
            model = sub
        return model

    def cond(self, cond: Cond | None, scope: type[BaseModel] | None, where: str) -> None:
        if cond is not None:
            self.path(cond.path, scope, where)
            if isinstance(cond.arg, Path):  # equals: $name
                self.path(cond.arg, scope, where)
            for sub in cond.subs:
                self.cond(sub, scope, where)

    def spec(self, spec: Spec, scope: type[BaseModel] | None) -> type[BaseModel] | None:
        self.cond(spec.when, scope, spec.where)
        found = self.path(spec.path, scope, spec.where)
        if spec.kind in ("each", "find"):
            self.cond(spec.test, found, spec.where)
            if spec.item is not None:
                item = self.spec(spec.item, found)
                found = item if spec.kind == "find" else found
        for part in spec.parts:
            part_model = self.spec(part, scope)
            found = found or part_model
        for value in spec.fields.values():
            self.spec(value, scope)
        return found if spec.kind in ("from", "find", "first") else None


def schema_problems(mapping: ParsedFile) -> list[str]:
    out: list[str] = []
    if mapping.model is None or mapping.direction is None:
        return out
    if mapping.direction == TO_CANONICAL:
        _outputs(mapping.fields, mapping.model, "fields", out)
        return out
    reads = _Reads(mapping.model, out)
    for name, spec in mapping.lets.items():
        reads.names[name] = reads.spec(spec, mapping.model)
    if mapping.key is not None:
        reads.spec(mapping.key, mapping.model)
    for spec in mapping.fields.values():
        reads.spec(spec, mapping.model)
    return out


# -- files ----------------------------------------------------------------------------------


def check_file(file: FilePath) -> list[Problem]:
    name = file.name
    messages: list[str]
    if name.endswith(VALUES_SUFFIX):
        try:
            load_value_map(file.resolve())
            messages = []
        except DataFileError as exc:
            messages = [str(exc).split(": ", 1)[-1]]
    elif name.endswith(PART_SUFFIX):
        try:
            part = read_yaml(file)
            messages = [] if isinstance(part, dict) else ["a part is a mapping of field options"]
        except DataFileError as exc:
            messages = [str(exc).split(": ", 1)[-1]]
    elif name.endswith(MAPPING_SUFFIXES):
        parsed = parse_file(file)
        messages = parsed.problems + schema_problems(parsed)
    else:
        messages = [
            "not a mapping (*.to_canonical.yaml, *.from_canonical.yaml), "
            "value map (*.values.yaml) or part (*.part.yaml)"
        ]
    return [Problem(file, m) for m in messages]


def mapping_files(root: FilePath) -> list[FilePath]:
    """Every data file under ``root`` (a file is its own list)."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.y*ml") if p.is_file())


def check_tree(root: FilePath) -> tuple[list[FilePath], list[Problem]]:
    files = mapping_files(root)
    problems = [p for f in files for p in check_file(f)]
    return files, problems
