"""What a flow is to the rest of Tandem: a name, where from, where to, how to run it.

Each flow module defines ``FLOW = FlowSpec(...)``; ``flows.registry`` finds them. The CLI, the
tests and the Airflow DAGs run a flow only through its spec, with ``RunOptions`` (the
parameters of an on-demand run) and ``Services`` (the hub and the connectors, built by the
application from its settings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from connectors.base import Connector
from flows.delivery import Handler
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from flows.summary import FlowSummary
from hub.store import Hub


@dataclass(frozen=True)
class RunOptions:
    """An on-demand run: everything again (``full``), only changes since a time, only some
    records (``entity_ids``: the source system's ids), only some ``targets``, or a dry run
    that reports what would happen and changes nothing."""

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
