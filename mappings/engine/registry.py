"""Named transforms and registered Python functions.

A transform is made once per use in a mapping file, from its name and its argument
(``{round: 4}``: name ``round``, argument ``4``), into a plain ``value -> value`` function.
The function is only called with a value that is not ``None``; it raises ``ValueError`` (or
``TypeError``/``ArithmeticError``) with a message that finishes ``<field path>: ...``.
A bad argument is a ``BadArgument`` at compile time, so ``tandem mapping check`` reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

Transform = Callable[[Any], Any]


class BadArgument(Exception):
    """A transform's argument in a mapping file is wrong; the message says how."""


class ValueMapSource(Protocol):
    def lookup_table(self, name: str) -> tuple[dict[str, Any], str]:
        """The value map ``name``: its table and its title (for error messages)."""
        ...


Factory = Callable[[Any, ValueMapSource], Transform]


@dataclass(frozen=True)
class TransformInfo:
    name: str
    factory: Factory
    summary: str
    takes_argument: bool | None  # True: required, False: none, None: optional


TRANSFORMS: dict[str, TransformInfo] = {}
FUNCTIONS: dict[str, Callable[[Any], Any]] = {}


def transform(
    name: str, summary: str, *, argument: bool | None = False
) -> Callable[[Factory], Factory]:
    """Register a transform factory under ``name`` (used by the engine's own modules)."""

    def register(factory: Factory) -> Factory:
        TRANSFORMS[name] = TransformInfo(name, factory, summary, argument)
        return factory

    return register


def simple(name: str, summary: str) -> Callable[[Transform], Transform]:
    """Register a transform that takes no argument: the function itself is the transform."""

    def register(fn: Transform) -> Transform:
        TRANSFORMS[name] = TransformInfo(name, lambda _arg, _maps: fn, summary, False)
        return fn

    return register


def register_function(name: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """The escape hatch: make a Python function usable as ``{call: name}`` in a mapping.

    Keep such functions pure (no I/O) and raise ``ValueError`` for bad input.
    """

    def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if name in FUNCTIONS and FUNCTIONS[name] is not fn:
            raise ValueError(f"a mapping function named {name!r} is already registered")
        FUNCTIONS[name] = fn
        return fn

    return register


def build(name: str, argument: Any, maps: ValueMapSource) -> Transform:
    info = TRANSFORMS.get(name)
    if info is None:
        raise BadArgument(f"unknown transform {name!r}")
    if info.takes_argument is True and argument is None:
        raise BadArgument(f"{name} needs an argument: {{{name}: ...}}")
    if info.takes_argument is False and argument is not None:
        raise BadArgument(f"{name} takes no argument")
    return info.factory(argument, maps)


def need(condition: bool, message: str) -> None:
    if not condition:
        raise BadArgument(message)


def options(argument: Any, name: str, allowed: set[str]) -> dict[str, Any]:
    """A transform's argument as a dict of options, refusing unknown ones."""
    if argument is None:
        return {}
    need(isinstance(argument, dict), f"{name}: expected options {sorted(allowed)}")
    unknown = set(argument) - allowed
    need(not unknown, f"{name}: unknown option(s) {sorted(unknown)}; known: {sorted(allowed)}")
    return dict(argument)
