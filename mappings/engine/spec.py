"""The mapping file language, read into a tree of ``Spec`` nodes (checked, not yet compiled).

A field is either a path (``billing.email``) or a mapping with exactly one *source*
(``from``, ``value``, ``first``, ``concat``, ``cases``, ``each``, ``list``, ``concat_lists``,
``fields``, ``find``, ``money``) and optional *modifiers* (``do``, ``when``, ``default``,
``required``, ``at``, ``item``, ``sep``, ``where``, ``currency``). ``use: <part>`` merges a shared
``<part>.part.yaml`` from the same directory under the field's own keys. docs/mappings.md
explains each; ``Parser`` collects every problem with where it is instead of stopping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Any

from mappings.engine import registry
from mappings.engine.paths import Path, parse_path
from mappings.engine.valuemaps import load_value_map, resolve
from mappings.engine.yamlio import DataFileError, read_yaml

NO_DEFAULT: Any = object()
SOURCES = (
    "from", "value", "first", "concat", "cases", "each", "list", "concat_lists", "fields",
    "find", "money",
)  # fmt: skip
MODIFIERS = {"do", "when", "default", "required", "at", "item", "sep", "where", "currency"}
PART_SUFFIX = ".part.yaml"
REQUIRED = "is required but missing or empty"
BUILTIN_VARS = {"record", "position", "index"}
COMPARISONS = ("gt", "ge", "lt", "le")  # numbers: greater than, at least, less than, at most


@dataclass
class Cond:
    op: str  # present, absent, equals, in, not_in, matches, gt, ge, lt, le, all, any, not
    path: Path | None = None
    arg: Any = None  # a Path for ``equals: $name`` (compare with a named value)
    subs: list[Cond] = field(default_factory=list)


@dataclass
class Step:
    name: str
    fn: registry.Transform


@dataclass
class Spec:
    where: str  # where in the file, e.g. "fields.lines.item.fields.sku"
    kind: str  # one of SOURCES, "tuple" (from: [a, b]) or "money"
    path: Path | None = None
    parts: list[Spec] = field(default_factory=list)
    fields: dict[str, Spec] = field(default_factory=dict)
    item: Spec | None = None
    const: Any = None
    sep: str = " "
    steps: list[Step] = field(default_factory=list)
    when: Cond | None = None
    default: Any = NO_DEFAULT
    required: str | None = None
    required_path: str | None = None
    anchor: str | None = None  # objects: the whole is missing when this field is
    test: Cond | None = None  # find: which element; each: which elements

    def error_path(self) -> tuple[str, bool]:
        """The source path an error about this field names, and whether it is relative."""
        if self.required_path is not None:
            return self.required_path, True
        if self.path is not None and self.kind in ("from", "each", "find"):
            return self.path.text, self.path.var is None
        if self.kind == "fields" and self.anchor:
            return self.fields[self.anchor].error_path()
        for part in self.parts:
            if (found := part.error_path())[0] != "":
                return found
        return "", True


class Parser:
    """Reads one mapping file's fields; ``problems`` lists every mistake found."""

    def __init__(self, directory: FilePath, variables: set[str]) -> None:
        self.directory = directory
        self.variables = set(variables) | BUILTIN_VARS
        self.problems: list[str] = []
        self._parts: dict[str, Any] = {}
        self._each_depth = 0

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    # -- value maps (registry.ValueMapSource) ------------------------------------------

    def lookup_table(self, name: str) -> tuple[dict[str, Any], str]:
        try:
            vm = load_value_map(resolve(self.directory, name))
        except DataFileError as exc:
            raise registry.BadArgument(f"value map {name!r}: {exc}") from exc
        return vm.table, vm.title

    # -- paths and conditions -----------------------------------------------------------

    def path(self, raw: Any, where: str, base: tuple[tuple[str | int, ...], str]) -> Path | None:
        try:
            parsed = parse_path(raw)
        except ValueError as exc:
            self.problem(where, str(exc))
            return None
        if parsed.var is not None and parsed.var not in self.variables:
            self.problem(where, f"${parsed.var} is not defined (params, let, $record, $position)")
        if parsed.var in ("position", "index") and (self._each_depth == 0 or parsed.steps):
            self.problem(where, f"${parsed.var} is only known inside each:")
        return parsed.under(*base)

    def cond(self, raw: Any, where: str, base: tuple[tuple[str | int, ...], str]) -> Cond | None:
        if isinstance(raw, str):
            raw = {"path": raw, "present": True}
        if not isinstance(raw, dict):
            self.problem(
                where, "a condition is {path: P, present|absent|equals|in|not_in|matches: ...}"
            )
            return None
        for op in ("all", "any"):
            if op in raw:
                subs = [
                    self.cond(c, f"{where}.{op}[{i}]", base) for i, c in enumerate(raw[op] or [])
                ]
                return Cond(op, subs=[c for c in subs if c is not None])
        if "not" in raw:
            sub = self.cond(raw["not"], f"{where}.not", base)
            return None if sub is None else Cond("not", subs=[sub])
        ops = [k for k in raw if k != "path"]
        if "path" not in raw or len(ops) != 1:
            self.problem(where, "a condition names one path and one test")
            return None
        op, arg = ops[0], raw[ops[0]]
        path = self.path(raw["path"], f"{where}.path", base)
        if op in ("present", "absent"):
            return Cond(
                op if arg is not False else ("absent" if op == "present" else "present"), path
            )
        if op in ("in", "not_in") and not isinstance(arg, list):
            self.problem(where, f"{op}: expected a list")
        elif op in COMPARISONS:
            if isinstance(arg, bool) or not isinstance(arg, (int, float)):
                self.problem(where, f"{op}: expected a number")
                return None
            return Cond(op, path, Decimal(str(arg)))
        elif op == "equals" and isinstance(arg, str) and arg.startswith("$"):
            named = self.path(arg, f"{where}.equals", base)
            return None if named is None else Cond(op, path, named)
        elif op not in ("equals", "in", "not_in", "matches"):
            self.problem(where, f"unknown test {op!r}")
        return Cond(op, path, tuple(arg) if isinstance(arg, list) else arg)

    # -- pipelines ----------------------------------------------------------------------

    def steps(self, raw: Any, where: str) -> list[Step]:
        if raw is None:
            return []
        items = raw if isinstance(raw, list) else [raw]
        result: list[Step] = []
        for i, item in enumerate(items):
            at = f"{where}.do[{i}]"
            if isinstance(item, str):
                name, argument = item, None
            elif isinstance(item, dict) and len(item) == 1:
                name, argument = next(iter(item.items()))
            else:
                self.problem(at, "a step is a name or {name: argument}")
                continue
            try:
                result.append(Step(str(name), registry.build(str(name), argument, self)))
            except registry.BadArgument as exc:
                self.problem(at, str(exc))
        return result

    # -- fields -------------------------------------------------------------------------

    def _use(self, raw: dict[str, Any], where: str) -> dict[str, Any]:
        name = raw.pop("use")
        if name not in self._parts:
            try:
                part = read_yaml(self.directory / f"{name}{PART_SUFFIX}")
            except DataFileError as exc:
                self.problem(where, f"use: part {name!r}: {exc}")
                part = {}
            self._parts[name] = part if isinstance(part, dict) else {}
        merged = dict(self._parts[name])
        fields = dict(merged.get("fields") or {}) | dict(raw.pop("fields", None) or {})
        merged |= raw
        if fields:
            merged["fields"] = fields
        return merged

    def spec(
        self, raw: Any, where: str, base: tuple[tuple[str | int, ...], str] = ((), "")
    ) -> Spec:
        if isinstance(raw, str):
            raw = {"from": raw}
        if not isinstance(raw, dict):
            self.problem(where, "a field is a path or a mapping with one of " + ", ".join(SOURCES))
            return Spec(where, "value")
        raw = dict(raw)
        if "use" in raw:
            raw = self._use(raw, where)
        for key in raw:
            if key not in SOURCES and key not in MODIFIERS:
                self.problem(where, f"unknown key {key!r}")
        sources = [k for k in SOURCES if k in raw and not (k == "fields" and "each" in raw)]
        if len(sources) != 1:
            self.problem(
                where, f"needs exactly one of {', '.join(SOURCES)} (has {sources or 'none'})"
            )
            return Spec(where, "value")
        if "at" in raw:
            at = self.path(raw["at"], f"{where}.at", base)
            if at is not None and at.var is None:
                base = (at.steps, at.text + ".")
        spec = self._source(sources[0], raw, where, base)
        spec.steps = self.steps(raw.get("do"), where)
        if "when" in raw:
            spec.when = self.cond(raw["when"], f"{where}.when", base)
        spec.default = raw.get("default", NO_DEFAULT)
        self._required(spec, raw.get("required", False), where, base)
        return spec

    def _required(
        self, spec: Spec, raw: Any, where: str, base: tuple[tuple[str | int, ...], str]
    ) -> None:
        if raw is True:
            spec.required = REQUIRED
        elif isinstance(raw, str):
            spec.required = raw
        elif isinstance(raw, dict) and set(raw) <= {"path", "message"}:
            spec.required = str(raw.get("message", REQUIRED))
            if "path" in raw and (p := self.path(raw["path"], f"{where}.required", base)):
                spec.required_path = p.text
        elif raw is not False:
            self.problem(where, "required: true, a message, or {path, message}")

    def _source(
        self, kind: str, raw: dict[str, Any], where: str, base: tuple[tuple[str | int, ...], str]
    ) -> Spec:
        arg = raw[kind]
        spec = Spec(where, kind)
        if kind == "value":
            spec.const = arg
        elif kind == "from" and isinstance(arg, list):
            spec.kind = "tuple"
            spec.parts = [self.spec(p, f"{where}.from[{i}]", base) for i, p in enumerate(arg)]
        elif kind in ("from", "each", "find"):
            spec.path = self.path(arg, f"{where}.{kind}", base)
        elif kind in ("first", "concat", "list", "concat_lists", "cases"):
            if not isinstance(arg, list) or not arg:
                self.problem(where, f"{kind}: expected a non-empty list")
                arg = []
            spec.parts = [self.spec(p, f"{where}.{kind}[{i}]", base) for i, p in enumerate(arg)]
            spec.sep = str(raw.get("sep", " "))
        elif kind == "fields":
            if not isinstance(arg, dict):
                self.problem(where, "fields: expected a mapping of name -> field")
                arg = {}
            spec.fields = {str(k): self.spec(v, f"{where}.{k}", base) for k, v in arg.items()}
        elif kind == "money":
            amount = {"from": arg, "do": ["decimal"]} if isinstance(arg, str) else arg
            spec.kind, spec.anchor = "fields", "amount"
            spec.fields = {
                "amount": self.spec(amount, f"{where}.money", base),
                "currency": self.spec(raw.get("currency", "$currency"), f"{where}.currency", base),
            }
        if kind == "each":
            self._each_depth += 1
            item = {"fields": raw["fields"]} if "fields" in raw else raw.get("item")
            if item is None:
                self.problem(where, "each: needs item: (or fields:) saying what each element gives")
                item = {"value": None}
            spec.item = self.spec(item, f"{where}.item")
            self._each_depth -= 1
        if kind == "find" or (kind == "each" and "where" in raw):
            spec.test = self.cond(raw.get("where"), f"{where}.where", ((), ""))
        if kind == "find" and "item" in raw:  # what the element found gives, else itself
            spec.item = self.spec(raw["item"], f"{where}.item")
        for key in ("sep", "item", "where", "currency"):
            owners = {"sep": ("concat",), "item": ("each", "find"), "where": ("find", "each"),
                      "currency": ("money",)}[key]  # fmt: skip
            if key in raw and kind not in owners:
                self.problem(where, f"{key}: only goes with {' or '.join(owners)}:")
        if "at" in raw and kind != "fields":
            self.problem(where, "at: only goes with fields:")
        return spec
