"""The monitoring commands against the seeded hub and the sandbox ERP: health probes,
reconciliation (with drift made on the ERP's side), customer 360, search by any id."""

from __future__ import annotations

import asyncio
import re

import httpx
import sqlalchemy as sa
from starlette.requests import Request

from hub.schema import Event, ReconciliationReport, Xref
from monitoring.masking import Masker
from monitoring.tracking import MessageQuery, chain, search_messages
from monitoring.web.app import create_app
from monitoring.web.auth import SESSION_COOKIE, PasswordLogin, hash_password, verify_password
from tandem.cli_monitor import dashboard_for, password_login
from tests.monitoring.conftest import PASSWORD, Seeded, invoke, set_erp
from tests.support import serve_asgi


def test_health_probe_is_recorded_for_monitoring(seeded: Seeded) -> None:
    down = invoke(seeded, "health", "erp")
    assert down.exit_code == 1 and "FAILED" in down.output and "503" in down.output
    set_erp(seeded.erp, down=False)
    up = invoke(seeded, "health", "erp", "nosuch")
    assert up.exit_code == 1  # an unknown system named explicitly is a failure
    assert "not configured" in up.output
    with seeded.runtime.hub.begin() as hs:
        kinds = [
            (e.kind, e.system)
            for e in hs.session.scalars(
                sa.select(Event).where(Event.kind.like("health_%")).order_by(Event.id)
            )
        ]
    assert kinds == [("health_failed", "erp"), ("health_ok", "erp"), ("health_failed", "nosuch")]


def test_reconcile_finds_drift_and_keeps_the_report(seeded: Seeded) -> None:
    set_erp(seeded.erp, down=False)
    args = ("reconcile", "--system", "erp", "--stream", "sales_orders", "--entity", "sales_order")
    first = invoke(seeded, *args)
    assert first.exit_code == 0, first.output
    assert "in_step" in first.output
    # the hub forgets the ERP order's link: the ERP has an order the hub does not know,
    # and the hub has a stale version of another
    with seeded.runtime.hub.begin() as hs:
        link = hs.session.scalars(
            sa.select(Xref).where(Xref.system == "erp", Xref.entity == "sales_order")
        ).one()
        erp_no = link.external_id
        hs.session.add(
            Xref(entity="sales_order", canonical_id=link.canonical_id, system="erp",
                 external_id="SO-GHOST", external_version="1;x;")
        )  # fmt: skip
        link.external_version = "0;stale;"
    drift = invoke(seeded, *args)
    assert drift.exit_code == 3, drift.output
    with seeded.runtime.hub.begin() as hs:
        report = hs.session.scalars(
            sa.select(ReconciliationReport).order_by(ReconciliationReport.id.desc())
        ).first()
    assert report is not None and report.status == "drift"
    assert (report.missing_in_hub, report.missing_in_system, report.version_drift) == (0, 1, 1)
    assert report.system_checksum != report.hub_checksum

    rt = seeded.runtime
    with serve_asgi(create_app(dashboard_for(rt, auth=password_login(rt.settings)))) as base:
        client = httpx.Client(base_url=base)
        client.post("/login", data={"username": "admin", "password": PASSWORD, "next": "/"})
        page = client.get(f"/reconcile/{report.id}")
        assert page.status_code == 200
        assert "SO-GHOST" in page.text and erp_no in page.text
        assert f"/records/{link.canonical_id}" in page.text  # drift links to the record
        record = client.get(f"/records/{link.canonical_id}")
        assert record.status_code == 200 and "SO-GHOST" in record.text


def test_reconcile_needs_a_scope(seeded: Seeded) -> None:
    result = invoke(seeded, "reconcile", "--system", "erp")
    assert result.exit_code == 2 and "together" in result.output


def test_customer_show_by_any_system_id(seeded: Seeded) -> None:
    with seeded.runtime.hub.begin() as hs:
        erp_no = hs.session.scalars(
            sa.select(Xref.external_id).where(Xref.entity == "customer", Xref.system == "erp")
        ).one()
    shown = invoke(seeded, "customer", "show", erp_no)
    assert shown.exit_code == 0, shown.output
    assert "sales order 1042" in shown.output and "webshop" in shown.output
    assert seeded.delivered["billing"]["email"] not in shown.output  # masked
    assert invoke(seeded, "customer", "show", "nobody").exit_code == 1


def test_search_by_order_number_erp_number_and_canonical_id(seeded: Seeded) -> None:
    hub = seeded.runtime.hub
    with hub.begin() as hs:
        link = hs.session.scalars(
            sa.select(Xref).where(Xref.system == "erp", Xref.entity == "sales_order")
        ).one()
    for key in ("1042", link.external_id, link.canonical_id):
        page = search_messages(hub, MessageQuery(text=key))
        assert [m.correlation_id for m in page.rows] == ["1042"], key
    assert search_messages(hub, MessageQuery(status="quarantined")).rows == []
    page = search_messages(hub, MessageQuery(), limit=1)
    assert len(page.rows) == 1 and page.has_next
    found = chain(hub, link.external_id, Masker(["email"]))
    assert found is not None and {"webshop", "erp"} <= set(found.systems)


def test_masking_policy() -> None:
    masker = Masker(["email", "phone", "first_name", "street"])
    masked = masker.mask(
        {"billing": {"email": "ann@example.com", "phone": "+33 1 23 45 67 89",
                     "first_name": "Ann", "city": "Paris"},
         "lines": [{"street": "1 Rue X", "sku": "A1"}], "billing_email": "b@x.org"}
    )  # fmt: skip
    assert masked == {
        "billing": {"email": "•••@example.com", "phone": "•••89", "first_name": "•••",
                    "city": "Paris"},
        "lines": [{"street": "•••", "sku": "A1"}], "billing_email": "•••@x.org",
    }  # fmt: skip
    assert "not shown" in masker.mask_text(b"<xml>Ann</xml>")


def test_discard_from_the_dashboard_needs_a_reason_and_is_audited(seeded: Seeded) -> None:
    rt = seeded.runtime
    with serve_asgi(create_app(dashboard_for(rt, auth=password_login(rt.settings)))) as base:
        client = httpx.Client(base_url=base)
        client.post("/login", data={"username": "admin", "password": PASSWORD, "next": "/"})
        listing = client.get("/deadletters", params={"entity": "sales_order"})
        [delivery_id] = re.findall(r'name="ids" value="(\d+)"', listing.text)
        detail = client.get(f"/deadletters/{delivery_id}")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', detail.text)
        assert token is not None
        url = f"/deadletters/{delivery_id}/discard"
        assert client.post(url, data={"csrf": token.group(1)}).status_code == 400
        assert client.post(url, data={"reason": "x", "csrf": "forged"}).status_code == 403
        done = client.post(url, data={"reason": "order cancelled by phone", "csrf": token.group(1)})
        assert done.status_code == 303 and "discarded" in done.headers["location"]
        after = client.get(f"/deadletters/{delivery_id}")
        assert "discarded" in after.text and "order cancelled by phone" in after.text
    with rt.hub.begin() as hs:
        event = hs.session.scalars(sa.select(Event).where(Event.kind == "discarded")).one()
    assert (event.actor, event.detail) == ("admin", "order cancelled by phone")


def test_sessions_are_signed_and_expire() -> None:
    login = PasswordLogin("admin", hash_password("pw"), "secret", max_age=60)
    assert login.check("admin", "pw") and not login.check("admin", "PW")
    assert not login.check("root", "pw")
    assert verify_password("pw", hash_password("pw")) and not verify_password("pw", "garbage")
    cookie = login.issue()
    other = PasswordLogin("admin", hash_password("pw"), "another secret")
    scope = {"type": "http", "headers": [(b"cookie", f"{SESSION_COOKIE}={cookie}".encode())]}
    assert asyncio.run(login.identify(Request(scope))) is not None
    assert asyncio.run(other.identify(Request(scope))) is None  # signed with another key
    expired = PasswordLogin("admin", hash_password("pw"), "secret", max_age=-1)
    assert asyncio.run(expired.identify(Request(scope))) is None
