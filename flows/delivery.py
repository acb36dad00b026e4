"""The delivery worker: takes due deliveries from the hub and hands each to its target's handler.

Transient failures are retried with backoff (state in the hub, so any worker can continue);
permanent failures, and transient ones past the retry limit, become dead letters with their
reason. Nothing is retried in memory across runs and nothing is dropped.

A run may deliver to some target systems only (``targets``) or only what came of some source
records (``entity_ids``, ``flows/selection.py``: the ``deliver`` flow): every other delivery
stays queued, as it was, for a later run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from canonical.errors import PermanentError, TransientError
from canonical.models import Entity
from connectors.transports.sql import translate_sql_error
from flows.faults import fault_point
from flows.policy import RetryPolicy, describe
from flows.selection import open_deliveries
from flows.summary import FlowSummary
from hub.deliveries import DeliveryLedger
from hub.store import DeliveryTask, Hub
from hub.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    """An xref to record together with a successful delivery."""

    entity: Entity
    canonical_id: str
    system: str
    external_id: str
    version: str | None = None
    sent_hash: str | None = None  # hash of the payload written, to skip an unchanged resend


@dataclass(frozen=True)
class Delivered:
    external_id: str
    links: Sequence[Link] = field(default_factory=tuple)
    detail: str = ""
    skipped: bool = False  # nothing was written: the target already holds this content


Handler = Callable[[DeliveryTask], Delivered]
"""Writes one delivery to its target; raises TransientError/PermanentError on failure."""


class DeliveryWorker:
    def __init__(
        self,
        hub: Hub,
        handlers: Mapping[tuple[str, str], Handler],
        policy: RetryPolicy,
    ) -> None:
        self.hub = hub
        self.ledger = DeliveryLedger(hub)
        self.handlers = dict(handlers)
        self.policy = policy

    def run(
        self,
        *,
        target_system: str | None = None,
        targets: Collection[str] | None = None,
        entity_ids: Collection[str] | None = None,
        ids: Sequence[int] | None = None,
        batch: int = 50,
        max_rounds: int = 1000,
    ) -> FlowSummary:
        """Deliver everything due now (including retries that fall due during the run): to
        ``target_system`` or the systems ``targets`` only, of the records ``entity_ids`` only,
        the deliveries ``ids`` only. None: no limit."""
        summary = FlowSummary("deliver")
        if entity_ids is not None:
            about = open_deliveries(self.hub, entity_ids)
            ids = about if ids is None else sorted(set(ids) & set(about))
            if not ids:
                return summary
        systems: list[str | None] = [target_system]
        if targets is not None:
            systems = [t for t in sorted(set(targets)) if target_system in (None, t)]
        for system in systems:
            self._run(system, ids, batch, max_rounds, summary)
        return summary

    def _run(
        self,
        target_system: str | None,
        ids: Sequence[int] | None,
        batch: int,
        max_rounds: int,
        summary: FlowSummary,
    ) -> None:
        for _ in range(max_rounds):
            tasks = self.ledger.claim_due(target_system=target_system, ids=ids, limit=batch)
            if not tasks:
                return
            for task in tasks:
                self._deliver(task, summary)

    def _deliver(self, task: DeliveryTask, summary: FlowSummary) -> None:
        handler = self.handlers.get((task.target_system, task.entity))
        try:
            if handler is None:
                raise PermanentError(f"no handler delivers {task.entity} to {task.target_system}")
            fault_point("before_delivery")
            outcome = handler(task)
            fault_point("mid_delivery")
        except (TransientError, PermanentError) as exc:
            self._failed(task, exc, summary)
            return
        except Exception as exc:
            lost = _lost_database(exc, task)
            if lost is not None:  # the hub's database went away mid-delivery: try again later
                self._failed(task, lost, summary)
                return
            # a bug must not lose the message: park it, visibly
            log.exception("delivery %s to %s crashed", task.id, task.target_system)
            self._failed(task, exc, summary)
            return
        self.ledger.succeed(
            task,
            external_id=outcome.external_id,
            detail=outcome.detail,
            links=[
                (lk.entity, lk.canonical_id, lk.system, lk.external_id, lk.version)
                for lk in outcome.links
            ],
            sent=[
                (lk.entity, lk.canonical_id, lk.system, lk.sent_hash)
                for lk in outcome.links
                if lk.sent_hash is not None
            ],
        )
        if outcome.skipped:
            summary.skipped += 1
        else:
            summary.delivered += 1
        log.info(
            "delivered %s %s to %s as %s",
            task.entity,
            task.correlation_id,
            task.target_system,
            outcome.external_id,
        )

    def _failed(self, task: DeliveryTask, exc: Exception, summary: FlowSummary) -> None:
        retry_at = self.policy.next_attempt(task.attempts, exc, utcnow())
        dead = self.ledger.fail(task, error=describe(exc), retry_at=retry_at)
        if dead:
            summary.dead += 1
            log.warning(
                "dead letter: %s %s to %s: %s",
                task.entity,
                task.correlation_id,
                task.target_system,
                describe(exc),
            )
        else:
            summary.retrying += 1
            log.info("will retry %s to %s at %s", task.id, task.target_system, retry_at)


def _lost_database(exc: Exception, task: DeliveryTask) -> TransientError | None:
    """A transient database failure (connection lost, deadlock, lock timeout) met while
    delivering, as a TransientError with its cause; None for anything else."""
    error = translate_sql_error(exc, what=f"delivery {task.id} to {task.target_system}")
    if not isinstance(error, TransientError):
        return None
    error.__cause__ = exc
    return error
