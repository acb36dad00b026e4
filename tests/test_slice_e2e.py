"""The first slice end to end on loopback: a signed WooCommerce order webhook -> Tandem's
receiver -> hub -> SOAP sandbox ERP, with dedupe, retries, dead letters and replay.

Peers are real servers on sockets: uvicorn runs the receiver, the sandbox ERP is a WSGI SOAP
service described by its WSDL, and the ERP's state is checked with a plain zeep client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import zeep
from typer.testing import CliRunner

from canonical.models import Entity
from flows.registry import FLOWS, RunOptions
from hub.schema import Delivery, DeliveryStatus, InboxMessage, InboxStatus, Xref
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender, wp_json_encode
from tandem.cli import app as cli
from tandem.runtime import Runtime
from tandem.settings import TandemSettings
from tests.support import serve_asgi

SECRET = "wc-secret-for-tests"
FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"


@pytest.fixture
def erp(tmp_path: Path) -> Iterator[ErpHandle]:
    handle = start_in_thread(state_path=tmp_path / "erp.json")
    yield handle
    handle.stop()


def _settings(hub_url: str, erp: ErpHandle) -> TandemSettings:
    return TandemSettings(
        database_url=hub_url,
        erp_soap_url=erp.base_url,
        webshop_webhook_secret=SECRET,
        retry_max_attempts=3,
        retry_base_delay=0.0,
        erp_operation_timeout=5.0,
    )


@pytest.fixture
def runtime(hub_url: str, erp: ErpHandle) -> Iterator[Runtime]:
    rt = Runtime(_settings(hub_url, erp))
    rt.upgrade_db()
    yield rt
    rt.close()


@pytest.fixture
def shop(runtime: Runtime) -> Iterator[WebhookSender]:
    with (
        serve_asgi(runtime.webhook_app()) as base,
        WebhookSender(f"{base}/webhooks/webshop", SECRET, retries=0) as sender,
    ):
        yield sender


@pytest.fixture
def cli_env(runtime: Runtime, erp: ErpHandle) -> dict[str, str]:
    return {
        "TANDEM_DATABASE_URL": runtime.settings.hub_url,
        "TANDEM_ERP_SOAP_URL": erp.base_url,
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": SECRET,
        "TANDEM_RETRY_MAX_ATTEMPTS": "3",
        "TANDEM_RETRY_BASE_DELAY": "0",
        "COLUMNS": "250",
    }


def paid_order(order_id: int) -> dict[str, Any]:
    order = make_order(seed=7, order_id=order_id)
    order["status"] = "processing"
    return order


def erp_orders(erp: ErpHandle, external_document_no: str) -> list[Any]:
    """What the ERP holds, asked with a plain zeep client (not Tandem's connector)."""
    client = zeep.Client(erp.wsdl_url("Sales_Order"))
    service = client.create_service(
        "{urn:microsoft-dynamics-schemas/page/sales_order}Sales_Order_Binding",
        f"{erp.base_url}Sales_Order",
    )
    found = service.ReadMultiple(
        filter=[{"Field": "External_Document_No", "Criteria": f"'{external_document_no}'"}],
        setSize=0,
    )
    return list(found or [])


def run_orders(runtime: Runtime) -> Any:
    return FLOWS["webshop-orders"].run(runtime, RunOptions())


def set_erp(erp: ErpHandle, **knobs: Any) -> None:
    httpx.post(f"{erp.url}/_control", json=knobs).raise_for_status()


def count(runtime: Runtime, model: Any, *where: Any) -> int:
    with runtime.hub.begin() as hs:
        stmt = sa.select(sa.func.count()).select_from(model).where(*where)
        return int(hs.session.scalar(stmt) or 0)


def test_signed_order_becomes_one_erp_order_with_xrefs(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle
) -> None:
    order = paid_order(1042)
    assert shop.send("order.created", order) == [200]
    summary = run_orders(runtime)
    assert (summary.read, summary.changed, summary.delivered, summary.dead) == (1, 1, 2, 0)
    [erp_order] = erp_orders(erp, str(order["number"]))
    assert len(erp_order.SalesLines.Sales_Order_Line) == len(order["line_items"])
    with runtime.hub.begin() as hs:
        xrefs = {(x.entity, x.system): x for x in hs.session.scalars(sa.select(Xref))}
    assert xrefs[(Entity.SALES_ORDER, "erp")].external_id == erp_order.No
    assert xrefs[(Entity.SALES_ORDER, "webshop")].external_id == str(order["id"])
    assert xrefs[(Entity.CUSTOMER, "erp")].external_id == erp_order.Sell_to_Customer_No
    assert (
        xrefs[(Entity.CUSTOMER, "erp")].canonical_id
        == xrefs[(Entity.CUSTOMER, "webshop")].canonical_id
    )
    # running again changes nothing anywhere
    again = run_orders(runtime)
    assert (again.read, again.delivered) == (0, 0)
    assert len(erp_orders(erp, str(order["number"]))) == 1


def test_duplicate_webhooks_also_concurrent_give_one_erp_order(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle
) -> None:
    order = paid_order(2001)
    body = wp_json_encode(order)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def deliver() -> None:
        barrier.wait()
        statuses.extend(shop.send("order.created", body))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses += shop.send("order.created", body, duplicate=3)  # and sequential redeliveries
    assert statuses == [200] * 9
    assert count(runtime, InboxMessage) == 1
    # two workers racing over the inbox and the deliveries
    workers = [threading.Thread(target=run_orders, args=(runtime,)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    run_orders(runtime)
    assert len(erp_orders(erp, str(order["number"]))) == 1
    assert count(runtime, Delivery, Delivery.status == DeliveryStatus.DELIVERED) == 2


def test_erp_down_retries_then_dead_letter_then_replay_delivers_once(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle, cli_env: dict[str, str]
) -> None:
    order = paid_order(3001)
    set_erp(erp, down=True)
    assert shop.send("order.created", order) == [200]
    summary = run_orders(runtime)
    assert (summary.delivered, summary.dead) == (0, 2)
    with runtime.hub.begin() as hs:
        dead = list(hs.session.scalars(sa.select(Delivery).order_by(Delivery.id)))
    assert [d.status for d in dead] == [DeliveryStatus.DEAD] * 2
    assert all(d.attempts == 3 for d in dead)  # retried up to the limit, then parked
    assert all("503" in (d.last_error or "") for d in dead)

    listed = CliRunner().invoke(cli, ["deadletters", "list"], env=cli_env)
    assert listed.exit_code == 0 and "TransientError" in listed.output

    set_erp(erp, down=False)
    replay = CliRunner().invoke(cli, ["deadletters", "replay", "--all"], env=cli_env)
    assert replay.exit_code == 0, replay.output
    assert len(erp_orders(erp, str(order["number"]))) == 1
    again = CliRunner().invoke(cli, ["deadletters", "replay", "--all"], env=cli_env)
    assert again.exit_code == 0 and "no dead letters to replay" in again.output
    missing = CliRunner().invoke(cli, ["deadletters", "replay", "999"], env=cli_env)
    assert missing.exit_code == 1 and "no such dead letter" in missing.output
    assert len(erp_orders(erp, str(order["number"]))) == 1

    shown = CliRunner().invoke(
        cli, ["messages", "show", "--correlation", str(order["number"])], env=cli_env
    )
    assert shown.exit_code == 0
    for event in ("received", "attempt_failed", "dead_letter", "replay_requested", "delivered"):
        assert event in shown.output


def test_bad_signature_is_refused_and_nothing_is_stored(
    runtime: Runtime, shop: WebhookSender
) -> None:
    body = wp_json_encode(paid_order(4001))
    headers = shop.headers_for("order.created", body, shop.new_delivery_id())
    headers["X-WC-Webhook-Signature"] = "c2lnbmVkIHdpdGggYW5vdGhlciBzZWNyZXQ="
    answer = httpx.post(shop.url, content=body, headers=headers)
    del headers["X-WC-Webhook-Signature"]
    unsigned = httpx.post(shop.url, content=body, headers=headers)
    assert (answer.status_code, unsigned.status_code) == (401, 401)
    assert count(runtime, InboxMessage) == 0


def test_malformed_and_invalid_orders_are_quarantined_and_the_batch_goes_on(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle
) -> None:
    malformed = (FIXTURES / "order_malformed.json").read_bytes()
    invalid = (FIXTURES / "order_bad_fields.json").read_bytes()
    good = paid_order(5001)
    for body in (malformed, invalid):
        assert shop.send("order.created", body) == [200]
    assert shop.send("order.created", good) == [200]
    summary = run_orders(runtime)
    assert (summary.read, summary.quarantined, summary.delivered) == (3, 2, 2)
    assert len(erp_orders(erp, str(good["number"]))) == 1
    with runtime.hub.begin() as hs:
        parked = {
            m.raw_body: m
            for m in hs.session.scalars(
                sa.select(InboxMessage).where(InboxMessage.status == InboxStatus.QUARANTINED)
            )
        }
    assert set(parked) == {malformed, invalid}  # raw input kept byte for byte
    assert "body is not valid JSON" in (parked[malformed].error or "")
    bad_id = json.loads(invalid)["id"]
    error = parked[invalid].error or ""
    assert error.startswith(f"webshop order {bad_id}: ")
    assert "line_items[1].quantity: 'abc' is not a number" in error
    assert "billing.email" in error


def test_cli_tracks_an_order_by_its_number(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle, cli_env: dict[str, str]
) -> None:
    order = paid_order(6001)
    shop.send("order.created", order)
    result = CliRunner().invoke(cli, ["run", "webshop-orders"], env=cli_env)
    assert result.exit_code == 0, result.output
    [erp_order] = erp_orders(erp, str(order["number"]))
    shown = CliRunner().invoke(
        cli, ["messages", "show", "--correlation", str(order["number"])], env=cli_env
    )
    assert shown.exit_code == 0, shown.output
    assert erp_order.No in shown.output and "delivered" in shown.output
    missing = CliRunner().invoke(cli, ["messages", "show", "--correlation", "nope"], env=cli_env)
    assert missing.exit_code == 1 and "no message" in missing.output


def erp_customers(erp: ErpHandle) -> list[Any]:
    client = zeep.Client(erp.wsdl_url("Customer"))
    service = client.create_service(
        "{urn:microsoft-dynamics-schemas/page/customer}Customer_Binding",
        f"{erp.base_url}Customer",
    )
    return list(service.ReadMultiple(filter=[{"Field": "No", "Criteria": ""}], setSize=0) or [])


def test_order_updates_and_cancellation_follow_the_order_into_the_erp(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle
) -> None:
    order = paid_order(7001)
    number = str(order["number"])
    shop.send("order.created", order)
    run_orders(runtime)
    [before] = erp_orders(erp, number)
    # the customer changes the quantity of the first line (WooCommerce sends order.updated)
    changed = json.loads(json.dumps(order))
    item = changed["line_items"][0]
    unit = Decimal(item["subtotal"]) / item["quantity"]
    item["quantity"] += 2
    item["subtotal"] = item["total"] = str((unit * item["quantity"]).quantize(Decimal("0.01")))
    changed["date_modified_gmt"] = "2030-01-01T00:00:00"
    shop.send("order.updated", changed)
    summary = run_orders(runtime)
    assert (summary.changed, summary.delivered, summary.dead) == (1, 1, 0)
    [after] = erp_orders(erp, number)
    assert after.No == before.No  # the same ERP order, changed in place
    first = after.SalesLines.Sales_Order_Line[0]
    assert Decimal(first.Quantity) == item["quantity"]
    # an older version arriving late changes nothing
    shop.send("order.updated", order | {"date_modified_gmt": "2029-01-01T00:00:00"})
    late = run_orders(runtime)
    assert (late.stale, late.delivered) == (1, 0)
    # the shop cancels the order: the open ERP order is deleted, once
    cancelled = changed | {"status": "cancelled", "date_modified_gmt": "2030-01-02T00:00:00"}
    shop.send("order.updated", cancelled)
    assert run_orders(runtime).delivered == 1
    assert erp_orders(erp, number) == []


def test_unpaid_order_reaches_the_erp_only_once_paid(
    runtime: Runtime, shop: WebhookSender, erp: ErpHandle
) -> None:
    order = paid_order(8001) | {"status": "pending"}
    shop.send("order.created", order)
    summary = run_orders(runtime)
    assert (summary.changed, summary.delivered) == (1, 0)
    assert erp_orders(erp, str(order["number"])) == []
    assert erp_customers(erp) == []  # no ERP customer for an order nobody paid
    paid = order | {"status": "processing", "date_modified_gmt": "2030-01-01T00:00:00"}
    shop.send("order.updated", paid)
    assert run_orders(runtime).delivered >= 1
    assert len(erp_orders(erp, str(order["number"]))) == 1
    assert len(erp_customers(erp)) == 1
