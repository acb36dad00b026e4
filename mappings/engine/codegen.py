"""Compile a checked mapping (a ``Spec`` tree) into one Python function, once.

The generated function reads each distinct path prefix once per scope (the record, or one
element inside ``each:``), runs the transforms as plain calls, and appends ``(path, message)``
for every problem instead of stopping, so a record's errors are all reported together.
An element's error path (``line_items[2].``) is only built when an error happens.
A field's transforms that parse (decimals, timestamps, countries...) are run once per distinct
input text: a small bounded ``Memo`` keeps their results, since amounts, quantities, dates and
codes repeat from record to record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mappings.engine.paths import Path, blank_to_none, get, step
from mappings.engine.runtime import (
    COMPARISONS,
    MEMO_KEYS,
    MEMO_WORTHY,
    MISSING,
    TUPLE_KEYS,
    Memo,
    compare,
    concat,
    concat_lists,
    matches,
    remember,
)
from mappings.engine.spec import NO_DEFAULT, Cond, Spec

RunFn = Callable[[Any, Mapping[str, Any], list[tuple[str, str]]], tuple[dict[str, Any], Any]]
_FAIL = (ValueError, TypeError, ArithmeticError, LookupError)
_LITERALS = (str, int, float, bool, type(None))


@dataclass
class Scope:
    node: str  # the variable holding this scope's node
    prefix: str  # an expression for the error path prefix of this scope ('""' at the root)
    index: str | None = None  # the loop variable inside each:
    position: str | None = None  # $position inside each: (counts the elements kept)
    hoist: bool = True
    hoists: dict[tuple[str | int, ...], str] = field(default_factory=dict)
    cleans: dict[tuple[str | int, ...], str] = field(default_factory=dict)  # trimmed values
    reads: dict[str, list[tuple[str, str | int]]] = field(default_factory=dict)  # by parent
    clean_lines: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def preamble(self) -> list[str]:
        """The hoisted reads, one type test per parent node (children of a dict are read
        with ``dict.get``; anything else goes through ``_step``), then the trimmed values.
        Parents come in the order they were read, so a node is assigned before it is used."""
        out: list[str] = []
        for parent, children in self.reads.items():
            fast = [
                f"{name} = {parent}.get({key!r})"
                if isinstance(key, str)
                else f"{name} = _step({parent}, {key})"
                for name, key in children
            ]
            slow = [f"{name} = _step({parent}, {key!r})" for name, key in children]
            out.append(f"if {parent}.__class__ is dict:")
            out.extend(f"    {line}" for line in fast)
            out.append("else:")
            out.extend(f"    {line}" for line in slow)
        return out + self.clean_lines


class CodeGen:
    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "_step": step,
            "_get": get,
            "_nb": blank_to_none,
            "_concat": concat,
            "_concat_lists": concat_lists,
            "_compare": compare,
            "_matches": matches,
            "_FAIL": _FAIL,
            "_MEMO_KEYS": MEMO_KEYS,
            "_TKEYS": TUPLE_KEYS,
            "_MISS": MISSING,
            "_remember": remember,
        }
        self._n = 0
        self.root = Scope("rec", '""')

    def var(self, stem: str) -> str:
        self._n += 1
        return f"_{stem}{self._n}"

    def const(self, value: Any) -> str:
        if isinstance(value, _LITERALS) and not isinstance(value, float):
            return repr(value)
        name = self.var("c")
        self.namespace[name] = value
        return name

    # -- reading paths ------------------------------------------------------------------

    def _hoist(self, scope: Scope, steps: tuple[str | int, ...]) -> str:
        if not steps:
            return scope.node
        if steps in scope.hoists:
            return scope.hoists[steps]
        parent = self._hoist(scope, steps[:-1])
        name = self.var("h")
        scope.reads.setdefault(parent, []).append((name, steps[-1]))
        scope.hoists[steps] = name
        return name

    def clean_read(self, scope: Scope, path: Path) -> str | None:
        """A variable holding the value at ``path`` trimmed (empty text: None), read once per
        scope; None when the path is not read once per scope (read it with ``read``)."""
        if not path.steps or path.var not in (None, "record"):
            return None
        if path.var == "record":
            scope = self.root
        elif not scope.hoist:
            return None
        if path.steps not in scope.cleans:
            raw = self._hoist(scope, path.steps)
            name = self.var("c")
            scope.clean_lines.append(
                f"{name} = {raw}.strip() or None if {raw}.__class__ is str else {raw}"
            )
            scope.cleans[path.steps] = name
        return scope.cleans[path.steps]

    def simple(self, spec: Spec, scope: Scope) -> str | None:
        """The expression of a field that is a constant or a named value as it is, else None."""
        if spec.when is not None or spec.steps or spec.required is not None:
            return None
        if spec.default is not NO_DEFAULT:
            return None
        if spec.kind == "value":
            return self.const(spec.const)
        path = spec.path
        if spec.kind == "from" and path and not path.steps and path.var not in (None, "record"):
            return self.read(scope, path)
        return None

    def read(self, scope: Scope, path: Path) -> str:
        if path.var is None:
            if scope.hoist:
                return self._hoist(scope, path.steps)
            return f"_get({scope.node}, {path.steps!r})" if path.steps else scope.node
        if path.var == "record":
            return self._hoist(self.root, path.steps)
        if path.var in ("position", "index"):
            assert scope.index is not None
            if path.var == "index":
                return scope.index
            return scope.position or f"({scope.index} + 1)"
        base = f"_v_{path.var}"
        return f"_get({base}, {path.steps!r})" if path.steps else base

    def error_path(self, scope: Scope, spec: Spec) -> str:
        text, relative = spec.error_path()
        if relative and scope.prefix != '""':
            return f"{scope.prefix} + {text!r}"
        return repr(text)

    # -- conditions ---------------------------------------------------------------------

    def cond(self, cond: Cond, scope: Scope) -> str:
        if cond.op in ("all", "any"):
            joined = f" {'and' if cond.op == 'all' else 'or'} ".join(
                f"({self.cond(c, scope)})" for c in cond.subs
            )
            return joined or ("True" if cond.op == "all" else "False")
        if cond.op == "not":
            return f"not ({self.cond(cond.subs[0], scope)})"
        assert cond.path is not None
        value = self.clean_read(scope, cond.path) or f"_nb({self.read(scope, cond.path)})"
        if cond.op == "present":
            return f"{value} is not None"
        if cond.op == "absent":
            return f"{value} is None"
        if cond.op == "matches":
            return f"_matches({self.const(re.compile(str(cond.arg)))}, {value})"
        if cond.op in COMPARISONS:
            return f"_compare({value}, {self.const(COMPARISONS[cond.op])}, {self.const(cond.arg)})"
        if isinstance(cond.arg, Path):  # equals: $name
            return f"{value} == {self.read(scope, cond.arg)}"
        op = {"equals": "==", "in": "in", "not_in": "not in"}[cond.op]
        return f"{value} {op} {self.const(cond.arg)}"

    # -- fields -------------------------------------------------------------------------

    def emit(
        self, spec: Spec, scope: Scope, target: str, ind: str, *, skip_when: bool = False
    ) -> None:
        out = scope.lines
        inner = ind
        if spec.when is not None and not skip_when:
            out.append(f"{ind}if {self.cond(spec.when, scope)}:")
            inner = ind + "    "
        count = None
        if spec.required is not None and (spec.steps or spec.kind not in ("from", "value")):
            count = self.var("n")
            out.append(f"{inner}{count} = len(errs)")
        keys = self.tuple_keys(spec, scope)
        if keys is None:
            self.source(spec, scope, target, inner)
            self.steps(spec, scope, target, inner)
        else:
            self.memo_tuple(spec, scope, target, inner, keys)
        if spec.default is not NO_DEFAULT:
            out.append(f"{inner}if {target} is None: {target} = {self.const(spec.default)}")
        if spec.required is not None:
            test = f"{target} is None" + (f" and len(errs) == {count}" if count else "")
            where = self.error_path(scope, spec)
            out.append(f"{inner}if {test}: errs.append(({where}, {spec.required!r}))")
        if inner != ind:
            out.append(f"{ind}else:")
            out.append(f"{inner}{target} = None")

    def steps(self, spec: Spec, scope: Scope, target: str, inner: str) -> None:
        """``target = step_n(...step_1(target))`` with a step's failure reported as an error."""
        out = scope.lines
        if spec.steps:
            out.append(f"{inner}try:")
            step_ind = inner + "    "
            names = {s.name for s in spec.steps}
            if names & MEMO_WORTHY and "call" not in names:
                memo = self.var("m")
                self.namespace[memo] = Memo(tuple(s.fn for s in spec.steps))
                out.append(
                    f"{step_ind}if {target}.__class__ in _MEMO_KEYS: {target} = {memo}[{target}]"
                )
                out.append(f"{step_ind}else:")
                step_ind += "    "
            for s in spec.steps:
                fn = self.var("t")
                self.namespace[fn] = s.fn
                out.append(f"{step_ind}if {target} is not None: {target} = {fn}({target})")
            out.append(f"{inner}except _FAIL as _e:")
            out.append(f"{inner}    errs.append(({self.error_path(scope, spec)}, str(_e)))")
            out.append(f"{inner}    {target} = None")

    def tuple_keys(self, spec: Spec, scope: Scope) -> list[str] | None:
        """For ``from: [a, b]`` with parsing steps over plain source fields: the variables of
        the trimmed source values, which then key one memo of the whole computation (parts
        and steps); None when the field does not qualify."""
        if spec.kind != "tuple" or not spec.steps or not spec.parts:
            return None
        names = {s.name for s in spec.steps}
        keys: list[str] = []
        for part in spec.parts:
            if part.kind != "from" or part.when is not None or part.path is None:
                return None
            names |= {s.name for s in part.steps}
            clean = self.clean_read(scope, part.path)
            if clean is None:
                return None
            keys.append(clean)
        if "call" in names or not names & MEMO_WORTHY:
            return None
        return keys

    def memo_tuple(self, spec: Spec, scope: Scope, target: str, ind: str, keys: list[str]) -> None:
        """A memo hit skips the parts and the steps; a miss computes them and keeps the result
        when it is immutable and came without errors. Keys are texts, whole numbers or None
        (never bools, floats or Decimals, which compare equal across types)."""
        out = scope.lines
        memo, key, count = self.var("m"), self.var("k"), self.var("n")
        self.namespace[memo] = {}
        plain = " and ".join(f"{k}.__class__ in _TKEYS" for k in keys)
        out.append(f"{ind}{key} = ({', '.join(keys)},) if {plain} else None")
        out.append(f"{ind}{target} = {memo}.get({key}, _MISS)")
        out.append(f"{ind}if {target} is _MISS:")
        inner = ind + "    "
        out.append(f"{inner}{count} = len(errs)")
        self.source(spec, scope, target, inner)
        self.steps(spec, scope, target, inner)
        out.append(
            f"{inner}if {key} is not None and len(errs) == {count}: "
            f"_remember({memo}, {key}, {target})"
        )

    def source(self, spec: Spec, scope: Scope, t: str, ind: str) -> None:
        out = scope.lines
        kind = spec.kind
        if kind == "value":
            out.append(f"{ind}{t} = {self.const(spec.const)}")
        elif kind == "from":
            assert spec.path is not None
            clean = self.clean_read(scope, spec.path)
            if clean is not None:
                out.append(f"{ind}{t} = {clean}")
                return
            out.append(f"{ind}{t} = {self.read(scope, spec.path)}")
            if spec.path.steps or spec.path.var in (None, "record"):  # named values are clean
                out.append(f"{ind}if {t}.__class__ is str: {t} = {t}.strip() or None")
        elif kind in ("tuple", "concat", "list", "concat_lists"):
            parts = [self.var("p") for _ in spec.parts]
            for part, name in zip(spec.parts, parts, strict=True):
                self.emit(part, scope, name, ind)
            joined = ", ".join(parts) + ("," if len(parts) == 1 else "")
            if kind == "tuple":
                empty = " and ".join(f"{p} is None" for p in parts)
                out.append(f"{ind}{t} = None if {empty} else ({joined})")
            elif kind == "concat":
                out.append(f"{ind}{t} = _concat({spec.sep!r}, ({joined}))")
            elif kind == "concat_lists":
                out.append(f"{ind}{t} = _concat_lists(({joined}))")
            else:
                out.append(f"{ind}{t} = [_x for _x in ({joined}) if _x is not None] or None")
        elif kind == "first":
            inner = ind
            for i, part in enumerate(spec.parts):
                if i:
                    out.append(f"{inner}if {t} is None:")
                    inner += "    "
                self.emit(part, scope, t, inner)
        elif kind == "cases":
            self._cases(spec, scope, t, ind)
        elif kind == "fields":
            self._object(spec, scope, t, ind)
        elif kind == "each":
            self._each(spec, scope, t, ind)
        elif kind == "find":
            self._find(spec, scope, t, ind)

    def _cases(self, spec: Spec, scope: Scope, t: str, ind: str) -> None:
        out = scope.lines
        opened = False
        for part in spec.parts:
            if part.when is None:
                out.append(f"{ind}else:" if opened else f"{ind}if True:")
                self.emit(part, scope, t, ind + "    ")
                return
            out.append(f"{ind}{'elif' if opened else 'if'} {self.cond(part.when, scope)}:")
            self.emit(part, scope, t, ind + "    ", skip_when=True)
            opened = True
        out.append(f"{ind}else:")
        out.append(f"{ind}    {t} = None")

    def _object(self, spec: Spec, scope: Scope, t: str, ind: str) -> None:
        out = scope.lines
        obj = self.var("o")
        if not spec.anchor:
            out.append(f"{ind}{obj} = {{}}")
            for name, part in spec.fields.items():
                self.put(part, scope, obj, name, ind)
            out.append(f"{ind}{t} = {obj} or None")
            return
        # the whole object is missing when its anchor field is: build it only when present
        anchor = self.var("f")
        self.emit(spec.fields[spec.anchor], scope, anchor, ind)
        out.append(f"{ind}if {anchor} is not None:")
        inner = ind + "    "
        out.append(f"{inner}{obj} = {{{spec.anchor!r}: {anchor}}}")
        for name, part in spec.fields.items():
            if name != spec.anchor:
                self.put(part, scope, obj, name, inner)
        out.append(f"{inner}{t} = {obj}")
        out.append(f"{ind}else:")
        out.append(f"{inner}{t} = None")

    def put(self, spec: Spec, scope: Scope, obj: str, name: str, ind: str) -> None:
        """``obj[name] = <the field's value>`` unless the value is missing."""
        expr = self.simple(spec, scope)
        if expr is None:
            value = self.var("f")
            self.emit(spec, scope, value, ind)
            scope.lines.append(f"{ind}if {value} is not None: {obj}[{name!r}] = {value}")
        elif (spec.kind == "value" and spec.const is not None) or (
            spec.path is not None and spec.path.var in ("position", "index")  # never missing
        ):
            scope.lines.append(f"{ind}{obj}[{name!r}] = {expr}")
        elif spec.kind != "value":
            scope.lines.append(f"{ind}if {expr} is not None: {obj}[{name!r}] = {expr}")

    def _each(self, spec: Spec, scope: Scope, t: str, ind: str) -> None:
        assert spec.path is not None and spec.item is not None
        out = scope.lines
        src, i, node, value = self.var("s"), self.var("i"), self.var("e"), self.var("v")
        where = self.error_path(scope, spec)
        out.append(f"{ind}{src} = {self.read(scope, spec.path)}")
        out.append(f"{ind}if {src}.__class__ is dict: {src} = [{src}]")
        out.append(f"{ind}if {src} is None:")
        out.append(f"{ind}    {t} = None")
        out.append(f"{ind}elif not isinstance({src}, (list, tuple)):")
        out.append(
            f"{ind}    errs.append(({where}, 'expected a list, got ' + type({src}).__name__))"
        )
        out.append(f"{ind}    {t} = None")
        out.append(f"{ind}else:")
        out.append(f"{ind}    {t} = []")
        prefix = f"{where} + '[' + str({i}) + '].'"
        inner = Scope(node, f"({prefix})", index=i)
        test = None
        if spec.test is not None:  # where: only the elements that match, counted by $position
            inner.position = self.var("k")
            out.append(f"{ind}    {inner.position} = 0")
            test = self.cond(spec.test, inner)
        out.append(f"{ind}    for {i}, {node} in enumerate({src}):")
        self.emit(spec.item, inner, value, "")
        body = ind + "        "
        out.extend(body + line for line in inner.preamble())
        if test is not None:
            out.append(f"{body}if not ({test}): continue")
            out.append(f"{body}{inner.position} += 1")
        out.extend(body + line for line in inner.lines)
        out.append(f"{body}if {value} is not None: {t}.append({value})")
        out.append(f"{ind}    {t} = {t} or None")

    def _find(self, spec: Spec, scope: Scope, t: str, ind: str) -> None:
        assert spec.path is not None
        out = scope.lines
        element = self.var("x")
        test = (
            "True" if spec.test is None else self.cond(spec.test, Scope(element, '""', hoist=False))
        )
        source, i = self.var("s"), self.var("i")
        out.append(f"{ind}{t} = None")
        out.append(f"{ind}{source} = {self.read(scope, spec.path)}")
        out.append(f"{ind}if {source}.__class__ is dict: {source} = [{source}]  # one XML element")
        out.append(f"{ind}if not isinstance({source}, (list, tuple)): {source} = ()")
        out.append(f"{ind}for {i}, {element} in enumerate({source}):")
        out.append(f"{ind}    if {test}:")
        out.append(f"{ind}        {t} = {element}")
        out.append(f"{ind}        break")
        if spec.item is None:
            return
        where = self.error_path(scope, spec)
        inner = Scope(t, f"({where} + '[' + str({i}) + '].')")
        value = self.var("v")
        self.emit(spec.item, inner, value, "")
        out.append(f"{ind}if {t} is not None:")
        out.extend(f"{ind}    {line}" for line in inner.preamble() + inner.lines)
        out.append(f"{ind}    {t} = {value}")


def generate(
    fields: dict[str, Spec],
    lets: dict[str, Spec],
    params: dict[str, Any],
    key: Spec | None,
) -> tuple[RunFn, str]:
    """The mapping as one function ``run(record, params, errors) -> (values, key)``."""
    gen = CodeGen()
    root = gen.root
    for name, default in params.items():
        root.lines.append(f"_v_{name} = params.get({name!r}, {gen.const(default)})")
    for name, spec in lets.items():
        gen.emit(spec, root, f"_v_{name}", "")
    if key is not None:
        gen.emit(key, root, "_key", "")
    else:
        root.lines.append("_key = None")
    root.lines.append("_out = {}")
    for name, spec in fields.items():
        gen.put(spec, root, "_out", name, "")
    root.lines.append("return _out, _key")
    lines = root.preamble() + root.lines
    source = "def run(rec, params, errs):\n" + "".join(f"    {line}\n" for line in lines)
    code = compile(source, "<mapping>", "exec")
    exec(code, gen.namespace)  # noqa: S102 - source generated from a checked mapping
    return gen.namespace["run"], source
