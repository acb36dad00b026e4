"""Group commit into the inbox: batches stored once, duplicates answered, failures all-or-nothing.

Runs on SQLite and PostgreSQL (the ``hub`` fixture). A database failure is a real one: a
trigger in the database refuses messages of the topic ``poison``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from canonical.errors import TransientError
from connectors.webhooks import (
    IntakeResult,
    WebhookDelivery,
    WebhookSource,
    create_webhook_app,
    hmac_sha256_base64,
)
from flows.intake import GroupCommitSink, to_incoming
from hub.inbox import receive_many
from hub.schema import Event, InboxMessage
from hub.store import Hub, IncomingMessage, ReceiveResult
from tests.support import serve_asgi

SECRET = "group-commit-secret"


def delivery(number: int, topic: str = "order.created") -> WebhookDelivery:
    body = json.dumps({"id": number, "number": str(number), "status": "processing"}).encode()
    return WebhookDelivery(
        source="webshop",
        scheme="woocommerce",
        topic=topic,
        resource="order",
        event="created",
        webhook_id="7",
        delivery_id=hashlib.sha1(str(number).encode()).hexdigest(),
        content_type="application/json",
        body=body,
        headers={"x-wc-webhook-topic": topic},
        received_at=datetime.now(UTC),
    )


def message(number: int, topic: str = "order.created") -> IncomingMessage:
    return to_incoming(delivery(number, topic))


def count(hub: Hub, table: str, where: str = "") -> int:
    with hub.engine.connect() as conn:
        value = conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()
        return int(value)


def add_poison_trigger(hub: Hub) -> None:
    """Make the database itself refuse inbox rows of topic ``poison``."""
    with hub.engine.begin() as conn:
        if hub.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON inbox WHEN NEW.kind = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned delivery'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.kind = 'poison' THEN RAISE EXCEPTION 'poisoned delivery'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON inbox "
                "FOR EACH ROW EXECUTE FUNCTION poison()"
            )


# --- receive_many -----------------------------------------------------------------------


def test_batch_stores_each_key_once_and_answers_duplicates(hub: Hub) -> None:
    first = receive_many(hub, [message(1), message(2), message(1), message(3)])

    assert [r.duplicate for r in first] == [False, False, True, False]
    assert first[2].message_id == first[0].message_id
    assert len({r.message_id for r in first}) == 3
    assert count(hub, "inbox") == 3

    again = receive_many(hub, [message(4), message(2), message(3), message(4)])

    assert [r.duplicate for r in again] == [False, True, True, True]
    assert again[1].message_id == first[1].message_id
    assert again[2].message_id == first[3].message_id
    assert again[3].message_id == again[0].message_id
    assert count(hub, "inbox") == 4
    assert count(hub, "events", "WHERE kind = 'received'") == 4
    assert count(hub, "events", "WHERE kind = 'duplicate'") == 4


def test_batch_agrees_with_single_receive(hub: Hub) -> None:
    single = hub.receive(message(10))

    batch = receive_many(hub, [message(10), message(11)])

    assert batch[0] == ReceiveResult(single.message_id, duplicate=True)
    assert hub.receive(message(11)) == ReceiveResult(batch[1].message_id, duplicate=True)
    with hub.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT raw_body, correlation_id, status FROM inbox WHERE id = :id"),
            {"id": batch[1].message_id},
        ).one()
    assert bytes(row.raw_body) == delivery(11).body
    assert (row.correlation_id, row.status) == (None, "received")  # set when it is read


def test_batch_rows_read_back_like_single_rows(hub: Hub) -> None:
    sent = [message(20), message(21)]
    stored = [hub.receive(sent[0]).message_id, receive_many(hub, [sent[1]])[0].message_id]

    with hub.begin() as hs:
        rows = [hs.session.get(InboxMessage, message_id) for message_id in stored]
        events = hs.session.scalars(
            sa.select(Event).where(Event.message_id.in_(stored)).order_by(Event.id)
        ).all()
        seen = [(e.kind, e.system, e.detail) for e in events]
    for row, msg in zip(rows, sent, strict=True):
        assert row is not None
        assert row.received_at == msg.received_at  # the same instant, as aware UTC
        assert row.headers == json.dumps(msg.headers, sort_keys=True)
        assert (row.source_system, row.kind, row.delivery_id, row.content_type, row.status) == (
            msg.source_system,
            msg.kind,
            msg.delivery_id,
            msg.content_type,
            "received",
        )
    assert seen == [("received", "webshop", "order.created")] * 2


def test_failed_batch_stores_nothing(hub: Hub) -> None:
    add_poison_trigger(hub)

    with pytest.raises(sa.exc.DBAPIError):
        receive_many(hub, [message(1), message(2, "poison"), message(3)])

    assert count(hub, "inbox") == 0
    assert count(hub, "events") == 0
    assert [r.duplicate for r in receive_many(hub, [message(1), message(3)])] == [False, False]


def test_concurrent_batches_with_overlapping_keys(hub: Hub) -> None:
    results: list[list[ReceiveResult]] = []
    errors: list[BaseException] = []

    def writer(numbers: Sequence[int]) -> None:
        try:
            results.append(receive_many(hub, [message(n) for n in numbers]))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(range(start, start + 60),)) for start in (0, 30)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    stored = [r for batch in results for r in batch if not r.duplicate]
    assert len(stored) == 90 == len({r.message_id for r in stored})
    assert count(hub, "inbox") == 90


# --- GroupCommitSink --------------------------------------------------------------------


def run_sink(sink: GroupCommitSink, deliveries: Sequence[WebhookDelivery]) -> list[object]:
    async def send_all() -> list[object]:
        return await asyncio.gather(*(sink(d) for d in deliveries), return_exceptions=True)

    try:
        return asyncio.run(send_all())
    finally:
        sink.close()


def recording(
    hub: Hub,
) -> tuple[list[int], Callable[[Sequence[IncomingMessage]], list[ReceiveResult]]]:
    sizes: list[int] = []

    def write(batch: Sequence[IncomingMessage]) -> list[ReceiveResult]:
        sizes.append(len(batch))
        return receive_many(hub, batch)

    return sizes, write


def test_concurrent_requests_are_committed_together(hub: Hub) -> None:
    sizes, write = recording(hub)
    woken: list[str] = []
    sink = GroupCommitSink(hub, woken.append, batch_writer=write)

    answers = run_sink(sink, [delivery(n) for n in range(300)])

    assert answers == [IntakeResult.STORED] * 300
    assert count(hub, "inbox") == 300
    assert len(woken) == 300 == len(set(woken))
    assert sum(sizes) == 300
    assert len(sizes) < 300  # requests waiting together shared a commit


def test_duplicates_within_and_across_batches_are_stored_once(hub: Hub) -> None:
    sink = GroupCommitSink(hub, max_batch=7)
    numbers = [n for n in range(40)] * 2 + [5, 5, 5]

    answers = run_sink(sink, [delivery(n) for n in numbers])

    assert answers.count(IntakeResult.STORED) == 40
    assert answers.count(IntakeResult.DUPLICATE) == len(numbers) - 40
    assert count(hub, "inbox") == 40
    redelivered = run_sink(GroupCommitSink(hub), [delivery(3), delivery(39)])
    assert redelivered == [IntakeResult.DUPLICATE, IntakeResult.DUPLICATE]
    assert count(hub, "inbox") == 40


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def test_database_failure_fails_every_request_of_the_batch(hub: Hub) -> None:
    add_poison_trigger(hub)
    gate = threading.Event()
    sizes, write = recording(hub)

    def gated(batch: Sequence[IncomingMessage]) -> list[ReceiveResult]:
        gate.wait(10)
        return write(batch)

    sink = GroupCommitSink(hub, batch_writer=gated)

    async def scenario() -> list[object]:
        first = asyncio.ensure_future(sink(delivery(1)))
        await asyncio.sleep(0)  # let it queue
        await asyncio.to_thread(wait_until, lambda: sink.pending == 0, "the writer to take #1")
        rest = [asyncio.ensure_future(sink(d)) for d in (delivery(2, "poison"), delivery(3))]
        rest.append(asyncio.ensure_future(sink(delivery(4))))
        await asyncio.to_thread(wait_until, lambda: sink.pending == 3, "three queued")
        gate.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    try:
        answers = asyncio.run(scenario())
    finally:
        sink.close()

    assert sizes == [1, 3]
    assert answers[0] is IntakeResult.STORED
    for answer in answers[1:]:
        assert isinstance(answer, TransientError)
        assert isinstance(answer.__cause__, sa.exc.DBAPIError)
    assert count(hub, "inbox") == 1
    # The senders retry; without the poison the rest goes in.
    retried = run_sink(GroupCommitSink(hub), [delivery(3), delivery(4), delivery(1)])
    assert retried == [IntakeResult.STORED, IntakeResult.STORED, IntakeResult.DUPLICATE]


class CountingMiddleware:
    """An operator's middleware on the receiver app: it must see every delivery."""

    seen = 0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            CountingMiddleware.seen += 1
        await self.app(scope, receive, send)


@pytest.mark.parametrize("middleware", [False, True], ids=["plain", "with-middleware"])
def test_receiver_over_http_acknowledges_only_committed_deliveries(
    hub: Hub, middleware: bool
) -> None:
    source = WebhookSource(name="webshop", scheme="woocommerce", secret=SecretStr(SECRET))
    sink = GroupCommitSink(hub)
    app = create_webhook_app({"webshop": source}, sink)
    CountingMiddleware.seen = 0
    if middleware:
        app.add_middleware(CountingMiddleware)
    bodies = [delivery(n).body for n in range(120)] + [delivery(7).body]

    async def post_all(base_url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/webhooks/webshop",
                        content=body,
                        headers={
                            "Content-Type": "application/json",
                            "X-WC-Webhook-Topic": "order.created",
                            "X-WC-Webhook-Signature": hmac_sha256_base64(body, SECRET),
                        },
                    )
                    for body in bodies
                )
            )

    try:
        with serve_asgi(app) as base_url:
            responses = asyncio.run(post_all(base_url))
    finally:
        sink.close()

    assert [r.status_code for r in responses] == [200] * 121
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("accepted") == 120
    assert statuses.count("duplicate") == 1
    assert count(hub, "inbox") == 120
    assert CountingMiddleware.seen == (121 if middleware else 0)


def test_closed_sink_refuses_with_transient_error(hub: Hub) -> None:
    sink = GroupCommitSink(hub)
    sink.close()

    assert isinstance(run_sink(sink, [delivery(1)])[0], TransientError)
    assert count(hub, "inbox") == 0


def test_idle_writer_retires_and_comes_back(hub: Hub) -> None:
    sink = GroupCommitSink(hub, idle_seconds=0.05)

    async def two_visits() -> list[IntakeResult]:
        first = await sink(delivery(1))
        assert sink.writing
        await asyncio.to_thread(wait_until, lambda: not sink.writing, "the idle writer to end")
        return [first, await sink(delivery(2))]

    try:
        assert asyncio.run(two_visits()) == [IntakeResult.STORED, IntakeResult.STORED]
    finally:
        sink.close()
    assert count(hub, "inbox") == 2
