"""Loading a mapping file and running it: ``load_mapping(path).map(record)``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from canonical import models
from canonical.errors import FieldError, InvalidRecord
from mappings.engine.codegen import RunFn, generate
from mappings.engine.paths import Path, get, parse_path
from mappings.engine.spec import Parser, Spec
from mappings.engine.yamlio import DataFileError, read_yaml

TO_CANONICAL = "to_canonical"
FROM_CANONICAL = "from_canonical"
DIRECTIONS = (TO_CANONICAL, FROM_CANONICAL)
_TOP = {"description", "version", "system", "entity", "direction", "canonical", "record_id",
        "key", "params", "let", "fields", "python"}  # fmt: skip


# pydantic error types that follow from a field the mapping already reported as bad
_CONSEQUENCES = frozenset({"missing", "too_short"})


class MappingFileError(DataFileError):
    """A mapping file with mistakes; ``problems`` lists each with where it is in the file."""

    def __init__(self, path: FilePath, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Outcome(NamedTuple):
    """What a mapping made of one record, before canonical validation."""

    values: dict[str, Any]
    key: str | None
    errors: list[FieldError]


@dataclass(frozen=True)
class Mapped:
    value: Any  # the canonical model (to_canonical) or the system's record as a dict
    key: str | None  # the record's key in the source system (``key:``), for the xref


@dataclass(frozen=True)
class MappingHeader:
    system: str
    entity: str
    direction: str
    model: type[BaseModel]
    record_id: Path | None
    params: dict[str, Any]


def _an(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


class CompiledMapping:
    def __init__(
        self,
        path: FilePath,
        header: MappingHeader,
        fields: dict[str, Spec],
        lets: dict[str, Spec],
        key: Spec | None,
    ) -> None:
        self.path = path
        self.header = header
        self.system, self.entity, self.direction = header.system, header.entity, header.direction
        self.model = header.model
        self.fields, self.lets, self.key = fields, lets, key
        self._run: RunFn
        self._run, self.source = generate(fields, lets, header.params, key)

    def __repr__(self) -> str:
        return f"<mapping {self.path.parent.name}/{self.path.name}>"

    def run(self, record: Any, params: Mapping[str, Any] | None = None) -> Outcome:
        """Map one record; every problem is in ``errors`` (nothing raised for bad input)."""
        errors: list[tuple[str, str]] = []
        if record.__class__ is not dict and not self._accepts(record):
            kind = "a JSON object" if self.direction == TO_CANONICAL else f"a {self.model.__name__}"
            message = f"{_an(self.entity)} must be {kind}, got {type(record).__name__}"
            return Outcome({}, None, [FieldError("", message)])
        values, key = self._run(record, params or _NO_PARAMS, errors)
        found = [FieldError(p, m) for p, m in dict.fromkeys(errors)] if errors else []
        return Outcome(values, None if key is None else str(key), found)

    def _accepts(self, record: Any) -> bool:
        if self.direction == TO_CANONICAL:
            return isinstance(record, Mapping)
        return isinstance(record, (self.model, Mapping))

    def finish(self, outcome: Outcome) -> tuple[BaseModel | None, list[FieldError]]:
        """The canonical model, or every error: the mapping's and the model's own.

        With mapping errors the model is still checked, for errors the mapping could not see
        (an e-mail address's syntax); fields missing because of a reported error are not
        reported twice.
        """
        try:
            model = self.model.model_validate(outcome.values)
        except ValidationError as exc:
            seen = {e.path for e in outcome.errors}
            found = [
                FieldError(self.locate(tuple(e["loc"])), e["msg"])
                for e in exc.errors()
                if not (outcome.errors and e["type"] in _CONSEQUENCES)
            ]
            return None, outcome.errors + [e for e in found if e.path not in seen]
        return (None, outcome.errors) if outcome.errors else (model, [])

    def locate(self, loc: tuple[str | int, ...]) -> str:
        """The source path that fed a canonical location such as ``("lines", 2, "sku")``."""
        spec: Spec | None = None
        fields, prefix = self.fields, ""
        for part in loc:
            if spec is not None and spec.kind == "each" and isinstance(part, int):
                assert spec.path is not None and spec.item is not None
                prefix += f"{spec.path.text}[{part}]."
                spec = spec.item
            elif spec is not None and spec.kind == "list" and isinstance(part, int):
                if part >= len(spec.parts):
                    break
                spec = spec.parts[part]
            elif isinstance(part, str) and (spec is None or spec.kind == "fields"):
                fields = self.fields if spec is None else spec.fields
                if part not in fields:
                    break
                spec = fields[part]
            else:
                break
        if spec is None:
            return ".".join(str(p) for p in loc)
        text, relative = spec.error_path()
        return (prefix + text if relative else text) or prefix.rstrip(".")

    def record_id(self, record: Any) -> str | None:
        path = self.header.record_id
        if path is None or not self._accepts(record):
            return None
        value = get(record, path.steps)
        return None if value in (None, "") else str(value)

    def invalid(
        self, record: Any, errors: list[FieldError], *, source: str | None = None
    ) -> InvalidRecord:
        unique = list(dict.fromkeys(errors))
        return InvalidRecord(
            source or self.system, self.record_id(record), unique, entity=self.entity
        )

    def map(
        self, record: Any, *, params: Mapping[str, Any] | None = None, source: str | None = None
    ) -> Mapped:
        """Map and validate one record; ``InvalidRecord`` lists every bad field."""
        outcome = self.run(record, params)
        errors = outcome.errors
        value: Any = outcome.values
        if self.direction == TO_CANONICAL and self._accepts(record):
            value, errors = self.finish(outcome)
        if errors:
            raise self.invalid(record, errors, source=source)
        return Mapped(value, outcome.key)


def _header(raw: dict[str, Any], path: FilePath, problems: list[str]) -> MappingHeader | None:
    for key in raw:
        if key not in _TOP:
            problems.append(f"unknown key {key!r} (known: {', '.join(sorted(_TOP))})")
    for key in ("system", "entity", "direction", "canonical", "fields"):
        if key not in raw:
            problems.append(f"{key}: required")
    direction = raw.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        problems.append(f"direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    elif direction is not None and not path.name.endswith(f".{direction}.yaml"):
        problems.append(f"direction: {direction} but the file is not named *.{direction}.yaml")
    model = getattr(models, str(raw.get("canonical")), None)
    if "canonical" in raw and not (isinstance(model, type) and issubclass(model, BaseModel)):
        problems.append(f"canonical: {raw['canonical']!r} is not a canonical model")
        model = None
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        problems.append("params: expected a mapping of name -> default value")
        params = {}
    record_id = None
    if raw.get("record_id") is not None:
        try:
            record_id = parse_path(raw["record_id"])
        except ValueError as exc:
            problems.append(f"record_id: {exc}")
    for module in raw.get("python") or []:
        if not str(module).startswith("mappings."):
            problems.append(f"python: {module!r}: only modules under mappings. are imported")
            continue
        try:
            importlib.import_module(str(module))
        except ImportError as exc:
            problems.append(f"python: {module!r} cannot be imported ({exc})")
    if model is None or problems:
        return None
    return MappingHeader(
        str(raw["system"]), str(raw["entity"]), str(direction), model, record_id, params
    )


@dataclass
class ParsedFile:
    """A mapping file read and checked, compiled or not: ``check`` looks at all of it."""

    path: FilePath
    header: MappingHeader | None
    fields: dict[str, Spec]
    lets: dict[str, Spec]
    key: Spec | None
    problems: list[str]
    model: type[BaseModel] | None = None
    direction: str | None = None


def parse_file(path: FilePath) -> ParsedFile:
    try:
        raw = read_yaml(path)
    except DataFileError as exc:
        return ParsedFile(path, None, {}, {}, None, [str(exc).removeprefix(f"{path}: ")])
    if not isinstance(raw, dict):
        problem = "a mapping file is a mapping with system, entity, direction, fields"
        return ParsedFile(path, None, {}, {}, None, [problem])
    problems: list[str] = []
    header = _header(raw, path, problems)
    params: dict[str, Any] = raw["params"] if isinstance(raw.get("params"), dict) else {}
    parser = Parser(path.parent, {str(p) for p in params})
    lets: dict[str, Spec] = {}
    for name, value in (raw.get("let") or {}).items():
        lets[str(name)] = parser.spec(value, f"let.{name}")
        parser.variables.add(str(name))
    key = parser.spec(raw["key"], "key") if "key" in raw else None
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict):
        raw_fields = {}
        problems.append("fields: expected a mapping of name -> field")
    fields = {str(k): parser.spec(v, f"fields.{k}") for k, v in raw_fields.items()}
    model = getattr(models, str(raw.get("canonical")), None)
    parsed = ParsedFile(path, header, fields, lets, key, problems + parser.problems)
    if isinstance(model, type) and issubclass(model, BaseModel):
        parsed.model = model
    parsed.direction = raw.get("direction") if raw.get("direction") in DIRECTIONS else None
    return parsed


def compile_file(path: FilePath) -> tuple[CompiledMapping | None, list[str]]:
    """Compile one mapping file, or say everything that is wrong with it."""
    parsed = parse_file(path)
    if parsed.header is None or parsed.problems:
        return None, parsed.problems
    return CompiledMapping(path, parsed.header, parsed.fields, parsed.lets, parsed.key), []


@cache
def load_mapping(path: FilePath | str) -> CompiledMapping:
    """The compiled mapping of a file (compiled once per process)."""
    file = FilePath(path).resolve()
    compiled, problems = compile_file(file)
    if compiled is None:
        raise MappingFileError(file, problems)
    return compiled
