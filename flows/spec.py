"""What a flow is to the rest of Tandem: a name, where from, where to, how to run it.

Each flow module defines ``FLOW = FlowSpec(...)``; ``flows.registry`` finds them. The CLI, the
tests and the Airflow DAGs run a flow only through its spec, with ``RunOptions`` (the
parameters of an on-demand run) and ``Services`` (the hub and the connectors, built by the
application from its settings).

``FlowSpec.run`` checks a run's options before the flow sees them (``check_options``): an
unknown target system, or an empty list of targets or entity ids, is a ``PermanentError``
naming what is valid; the targets it passes on are every name of each chosen system, its
role and the system playing it (``erp`` and ``erp_soap``), so a flow asks
``chosen_targets(options, candidates)`` with the names it queues deliveries under.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from canonical.errors import PermanentError
from connectors.base import Connector
from flows.delivery import Handler
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from flows.summary import FlowSummary
from hub.store import Hub


@dataclass(frozen=True)
class RunOptions:
    """An on-demand run: everything again (``full``), only changes since a time, only some
    records (``entity_ids``: the source system's ids; the messages about other records wait
    in the inbox), only some ``targets`` (roles such as ``erp`` or system names such as
    ``erp_soap``; deliveries to the others stay queued), or a dry run that reports what would
    happen and changes nothing. None: no limit."""

    since: datetime | None = None
    full: bool = False
    dry_run: bool = False
    entity_ids: Sequence[str] | None = None
    targets: Sequence[str] | None = None
    message_ids: Sequence[str] | None = None
    delivery_ids: Sequence[int] | None = None
    partition: str | None = None  # "i/n": this run does the i-th of n independent parts


class Services(Protocol):
    """What flows need from the application: the hub, connectors and policies."""

    @property
    def hub(self) -> Hub: ...
    @property
    def retry_policy(self) -> RetryPolicy: ...
    def erp(self) -> ErpWriter: ...
    def connector(self, system: str) -> Connector:
        """The connector of a system or role (``erp`` is whichever ERP is configured)."""
        ...

    def system_name(self, role: str) -> str:
        """The system that plays a role (``erp`` -> ``erp_soap``); other names as they are."""
        ...


HandlerMap = Mapping[tuple[str, str], Handler]


@dataclass(frozen=True)
class FlowSpec:
    """A flow. ``run`` is given as the flow's function and kept behind ``check_options``:
    whoever calls ``spec.run`` (the CLI, a DAG task, a test) runs it with checked options."""

    name: str
    description: str
    source: str
    targets: tuple[str, ...]
    run: Callable[[Services, RunOptions], FlowSummary]
    # the delivery handlers this flow brings, by (target system, entity)
    handlers: Callable[[Services], HandlerMap] | None = None
    schedule: str | None = None  # default schedule (cron or preset) for its DAG
    # a flow whose work splits into independent parts: how many (its DAG maps over them)
    partitions: int = 1
    tags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        run = self.run.flow if isinstance(self.run, _Checked) else self.run
        object.__setattr__(self, "run", _Checked(self, run))


class _Checked:
    """A flow's run behind ``check_options``: what ``FlowSpec.run`` calls."""

    def __init__(self, spec: FlowSpec, flow: Callable[[Services, RunOptions], FlowSummary]):
        self.spec = spec
        self.flow = flow

    def __call__(self, services: Services, options: RunOptions) -> FlowSummary:
        return self.flow(services, check_options(self.spec, services, options))


def target_names(spec: FlowSpec, services: Services) -> list[str]:
    """The names a run of ``spec`` may choose targets by: its roles and their systems."""
    names = [name for role in spec.targets for name in (role, services.system_name(role))]
    return list(dict.fromkeys(names))


def _listed(spec: FlowSpec, what: str, value: Sequence[str]) -> list[str]:
    if isinstance(value, str):  # a string is a sequence of one-letter names
        raise PermanentError(f"{spec.name}: {what} must be a list, not the string {value!r}")
    items = [str(item).strip() for item in value]
    if not items or not all(items):
        hint = (
            "give the source system's ids of the records to sync, or none for every record"
            if what == "entity_ids"
            else "choose at least one, or none for every target"
        )
        raise PermanentError(f"{spec.name}: {what} is empty or holds a blank name: {hint}")
    return list(dict.fromkeys(items))


def check_options(spec: FlowSpec, services: Services, options: RunOptions) -> RunOptions:
    """``options`` checked against the flow, the targets with every name of each system."""
    entity_ids = options.entity_ids
    if entity_ids is not None:
        entity_ids = _listed(spec, "entity_ids", entity_ids)
    targets = options.targets
    if targets is not None:
        targets = _listed(spec, "targets", targets)
        valid = target_names(spec, services)
        unknown = [t for t in targets if t not in valid]
        if unknown:
            raise PermanentError(
                f"{spec.name}: unknown target system {', '.join(map(repr, unknown))}; "
                f"valid targets: {', '.join(valid) or 'none (the flow delivers nothing)'}"
            )
        chosen = {*targets, *(services.system_name(t) for t in targets)}
        chosen |= {role for role in spec.targets if services.system_name(role) in chosen}
        targets = sorted(chosen)
    return replace(options, entity_ids=entity_ids, targets=targets)


def chosen_targets(options: RunOptions, candidates: Iterable[str]) -> list[str]:
    """The ``candidates`` (the names a flow queues deliveries under) the run may deliver to:
    all when no targets were chosen. Expects options as ``FlowSpec.run`` passes them on."""
    if options.targets is None:
        return list(candidates)
    return [c for c in candidates if c in options.targets]
