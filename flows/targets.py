"""Delivery to a connector: canonical record -> the system's shape -> ``write`` -> xref.

A ``ConnectorTarget`` turns a delivery task into one write on one stream of one connector:

1. load the canonical record the task points at, and the system's id for it when known;
2. map it to the system's shape (the flow's ``to_target``: a mapping file, mostly);
3. if the system was last sent exactly this payload, do not send it again (an update that
   changes nothing the system holds is skipped and counted as such);
4. write it; an ``Ack`` becomes the xref (with the payload's hash), a ``Rejected`` raises its
   error, transient or permanent, for the delivery worker's retry policy.

Connectors make the write itself idempotent (they look up the record before creating it), so
a retry after a lost answer does not create a second record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from canonical.errors import PermanentError
from canonical.models import Entity, Record
from connectors.base import Ack, Connector, Rejected
from flows.delivery import Delivered, Handler, Link
from hub.store import DeliveryTask, Hub, HubSession
from hub.views import sent_hash

ToTarget = Callable[[HubSession, Record, str | None], Mapping[str, Any]]
"""(transaction, canonical record, the system's id for it or None) -> the system's record."""


def payload_hash(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ConnectorTarget:
    system: str
    entity: Entity
    model: type[Record]
    connector: Connector
    stream: str
    to_target: ToTarget

    def handler(self, hub: Hub) -> Handler:
        def deliver(task: DeliveryTask) -> Delivered:
            return self.deliver(hub, task)

        return deliver

    def deliver(self, hub: Hub, task: DeliveryTask) -> Delivered:
        with hub.begin() as hs:
            record = hs.load(task.canonical_id, self.model)
            known = hs.external_id(self.entity, task.canonical_id, self.system)
            payload = dict(self.to_target(hs, record, known))
            digest = payload_hash(payload)
            if known is not None and sent_hash(hs, self.entity, task.canonical_id, self.system) == (
                digest
            ):
                return Delivered(known, detail="unchanged: not sent again", skipped=True)
        outcome = self.connector.write(self.stream, [payload])
        if len(outcome) != 1:
            raise PermanentError(
                f"{self.system} {self.stream}: {len(outcome)} answers for 1 record"
            )
        answer = outcome[0]
        if isinstance(answer, Rejected):
            raise answer.error
        assert isinstance(answer, Ack)
        link = Link(
            self.entity,
            task.canonical_id,
            self.system,
            answer.external_id,
            answer.version,
            sent_hash=digest,
        )
        return Delivered(
            answer.external_id, links=(link,), detail="created" if answer.created else ""
        )
