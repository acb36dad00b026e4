"""Processing: inbox messages of one system -> canonical records, xrefs and deliveries.

``InboxProcessor`` is the loop every flow shares: claim a batch of the source's unprocessed
messages (of the flow's kinds), and for each, in ONE transaction, let the flow's ``process``
map it and store what it says; then mark the message processed. A message whose content is
wrong (``InvalidRecord``, ``PermanentError``) is quarantined with the reason, its raw body
kept; a transient failure gives the message back for a later run. Two messages about one new
record may race to create it: the xref's unique constraint fails one transaction, whose
second try finds the record the first created.

A run asked for some records only (``entity_ids``: the source system's ids) processes the
messages about them (``flows/selection.py`` says how a message names its record) and leaves
every other message waiting, unclaimed, for a later run.

``routes`` decides who hears of a change: every configured target except the system the
change came from (no echo). Which targets a run *delivers* to is the delivery step's choice
(``RunOptions.targets``); processing always queues for every target that needs the change.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from canonical.errors import PermanentError, TransientError
from canonical.models import Entity
from flows.faults import fault_point
from flows.selection import drain_selected, record_ids
from flows.summary import FlowSummary
from hub.schema import InboxMessage, InboxStatus
from hub.store import Hub, HubSession, UpsertOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Processed:
    """What one message became: the business chain it belongs to and its main record."""

    correlation_id: str | None
    entity: str | None = None
    canonical_id: str | None = None
    outcome: UpsertOutcome | None = None


def enqueue_change(
    hs: HubSession,
    message: InboxMessage,
    target: str,
    entity: Entity,
    outcome: UpsertOutcome,
    correlation: str | None,
) -> None:
    """Queue the delivery of a stored change (``outcome``) to ``target``."""
    hs.enqueue(
        message_id=message.id,
        target_system=target,
        entity=entity,
        canonical_id=outcome.canonical_id,
        record_version=outcome.version,
        correlation_id=correlation,
    )


def routes(targets: Iterable[str], source: str) -> list[str]:
    """The targets of a change from ``source``: all but the source itself (no echo)."""
    return [t for t in targets if t != source]


def parse_json(message: InboxMessage) -> Any:
    try:
        return json.loads(message.raw_body)
    except (ValueError, RecursionError) as exc:  # bad UTF-8, syntax, 5,000 digits, nesting
        raise PermanentError(f"message {message.id} is not valid JSON: {exc}") from exc


class InboxProcessor(ABC):
    """Subclasses set ``flow``, ``system`` and ``kinds`` and write ``process``; ``id_fields``
    names body fields that also identify a message's record (``flows/selection.py``)."""

    flow: str = ""
    system: str = ""
    kinds: tuple[str, ...] = ()
    id_fields: tuple[str, ...] = ()
    retry_after: float = 30.0  # seconds before a message that failed transiently is retried

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @abstractmethod
    def process(
        self, hs: HubSession, message: InboxMessage, doc: Any, summary: FlowSummary
    ) -> Processed:
        """Store what one message says (records, xrefs, deliveries) and count it."""

    def run(
        self,
        *,
        since: datetime | None = None,
        message_ids: Sequence[str] | None = None,
        entity_ids: Collection[str] | None = None,
        batch: int = 100,
        summary: FlowSummary | None = None,
    ) -> FlowSummary:
        """Process what waits (received ``since``; only ``message_ids``; only the messages
        about the records ``entity_ids``, the others left waiting)."""
        summary = summary or FlowSummary(self.flow)
        if entity_ids is None:
            return self._drain(since, message_ids, batch, summary)
        drain_selected(
            self.hub, self.system, entity_ids,
            lambda part: self._drain(since, part, batch, summary),
            kinds=self.kinds or None, since=since, message_ids=message_ids,
            ids_of=self.record_ids, notes=summary.notes,
        )  # fmt: skip
        return summary

    def record_ids(self, message: InboxMessage) -> set[str]:
        """The source's ids of the record ``message`` is about."""
        return record_ids(message, self.id_fields)

    def _drain(
        self,
        since: datetime | None,
        message_ids: Sequence[str] | None,
        batch: int,
        summary: FlowSummary,
    ) -> FlowSummary:
        while True:
            messages = self.hub.claim_inbox(
                self.system,
                limit=batch,
                since=since,
                message_ids=message_ids,
                kinds=self.kinds or None,
            )
            if not messages:
                return summary
            for message in messages:
                self._one(message, summary)

    def _one(self, message: InboxMessage, summary: FlowSummary) -> None:
        summary.read += 1
        for attempt in (1, 2):
            try:
                with self.hub.begin() as hs:  # an exception rolls the whole message back
                    done = self.process(hs, message, parse_json(message), summary)
                    fault_point("mid_processing")
                    hs.finish_inbox(
                        message.id,
                        InboxStatus.PROCESSED,
                        correlation_id=done.correlation_id,
                        entity=done.entity,
                        canonical_id=done.canonical_id,
                    )
                fault_point("after_hub_write")
                return
            except IntegrityError:
                if attempt == 2:
                    self.hub.release_inbox(message.id)
                    raise
            except PermanentError as exc:  # InvalidRecord included
                self._quarantine(message, exc, summary)
                return
            except TransientError as exc:
                log.warning(
                    "message %s will be processed again in %.0f s: %s",
                    message.id,
                    self.retry_after,
                    exc,
                )
                self.hub.defer_inbox(message.id, self.retry_after)  # not again in this run
                summary.retrying += 1
                return

    def _quarantine(self, message: InboxMessage, exc: Exception, summary: FlowSummary) -> None:
        summary.quarantined += 1
        log.warning("quarantined message %s: %s", message.id, exc)
        with self.hub.begin() as hs:
            hs.finish_inbox(message.id, InboxStatus.QUARANTINED, error=str(exc))

    # -- helpers for subclasses ------------------------------------------------------------

    @staticmethod
    def count(outcome: UpsertOutcome, summary: FlowSummary) -> None:
        if outcome.stale:
            summary.stale += 1
        elif outcome.changed:
            summary.changed += 1
        else:
            summary.unchanged += 1
