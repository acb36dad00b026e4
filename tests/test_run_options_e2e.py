"""On-demand runs of the web order slice with real peers (signed webhooks into the receiver,
the sandbox SOAP ERP): some orders only (``entity_ids``), some target systems only
(``targets``), from the API and from ``tandem run``."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from canonical.errors import PermanentError
from canonical.models import Entity
from flows.registry import FLOWS, RunOptions
from flows.webshop_orders import OrderIntake
from hub.schema import CanonicalRecord, Delivery, DeliveryStatus, InboxMessage, InboxStatus
from tandem.cli import app as cli
from tests.reliability.slice import Slice, cli_env, erp_orders, paid_order, running_slice

FLOW = FLOWS["webshop-orders"]


def waiting(world: Slice) -> Counter[str]:
    with world.runtime.hub.begin() as hs:
        return Counter(hs.session.scalars(sa.select(InboxMessage.status)))


def queue_for_the_crm(world: Slice) -> int:
    """A delivery another flow (the customer sync) queued for the CRM: a web customer."""
    with world.runtime.hub.begin() as hs:
        message_id = hs.session.scalars(
            sa.select(InboxMessage.id).where(InboxMessage.status == InboxStatus.PROCESSED)
        ).first()
        customer_id = hs.session.scalars(
            sa.select(CanonicalRecord.id).where(CanonicalRecord.entity == Entity.CUSTOMER)
        ).first()
        assert message_id is not None and customer_id is not None
        hs.enqueue(
            message_id=message_id, target_system="crm", entity=Entity.CUSTOMER,
            canonical_id=customer_id, record_version=1, correlation_id="crm-copy",
        )  # fmt: skip
        return int(hs.session.scalar(sa.select(sa.func.max(Delivery.id))) or 0)


def test_web_orders_run_for_chosen_orders_and_targets_only(hub_url: str) -> None:
    with running_slice(hub_url) as world:
        orders = [paid_order(n) for n in (9101, 9102, 9103)]
        orders[1]["number"] = "W-9102"  # a shop numbering its orders itself
        for order in orders:
            assert world.sender.send("order.created", order) == [200]

        with pytest.raises(PermanentError, match=r"'crm'; valid targets: erp, erp_soap$"):
            FLOW.run(world.runtime, RunOptions(targets=["crm"]))
        with pytest.raises(PermanentError, match="webshop-orders: entity_ids is empty"):
            FLOW.run(world.runtime, RunOptions(entity_ids=[]))
        assert waiting(world) == {InboxStatus.RECEIVED: 3}, "nothing taken on a wrong option"

        first = FLOW.run(world.runtime, RunOptions(entity_ids=["9101"], targets=["erp"]))
        assert (first.read, first.changed, first.delivered, first.dead) == (1, 1, 2, 0)
        assert erp_orders(world.erp) == Counter({"9101": 1})
        assert waiting(world) == {InboxStatus.PROCESSED: 1, InboxStatus.RECEIVED: 2}

        # the CLI: an order by its number, the ERP by its system's name; another flow's
        # delivery to the CRM stays queued, untouched
        crm = queue_for_the_crm(world)
        env = cli_env(hub_url, world.erp)
        args = ["run", "webshop-orders", "--entity-id", "W-9102", "--target", "erp_soap"]
        done = CliRunner().invoke(cli, args, env=env)
        assert done.exit_code == 0, done.output
        assert erp_orders(world.erp) == Counter({"9101": 1, "W-9102": 1})
        with world.runtime.hub.begin() as hs:
            queued = hs.session.get(Delivery, crm)
            assert queued is not None
            assert (queued.status, queued.attempts) == (DeliveryStatus.PENDING, 0)
        wrong = CliRunner().invoke(cli, ["run", "webshop-orders", "--target", "crm"], env=env)
        assert wrong.exit_code == 1 and "valid targets: erp, erp_soap" in wrong.output

        later = FLOW.run(world.runtime, RunOptions(targets=["erp"]))  # every order
        assert (later.read, later.delivered) == (1, 2)
        assert erp_orders(world.erp) == Counter({"9101": 1, "W-9102": 1, "9103": 1})
        assert waiting(world) == {InboxStatus.PROCESSED: 3}


def test_the_deliver_flow_delivers_what_is_due_for_chosen_orders_only(hub_url: str) -> None:
    with running_slice(hub_url) as world:
        orders = [paid_order(n) for n in (9201, 9202)]
        for order in orders:
            assert world.sender.send("order.created", order) == [200]
        OrderIntake(world.runtime.hub).run()  # processed and queued, nothing delivered yet
        deliver = FLOWS["deliver"]
        with pytest.raises(PermanentError, match="deliver: unknown target system 'shop'"):
            deliver.run(world.runtime, RunOptions(targets=["shop"]))

        first = deliver.run(world.runtime, RunOptions(entity_ids=["9202"]))
        assert (first.delivered, first.dead) == (2, 0)  # its customer and its order
        assert erp_orders(world.erp) == Counter({"9202": 1})
        with world.runtime.hub.begin() as hs:
            left = Counter(hs.session.scalars(sa.select(Delivery.status)))
        assert left == {DeliveryStatus.DELIVERED: 2, DeliveryStatus.PENDING: 2}

        assert deliver.run(world.runtime, RunOptions(targets=["erp"])).delivered == 2
        assert erp_orders(world.erp) == Counter({"9201": 1, "9202": 1})
