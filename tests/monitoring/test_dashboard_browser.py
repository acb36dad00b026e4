"""The standalone dashboard in a real headless Chromium: log in, find an order by its web
shop number, see its timeline across systems, replay a dead letter after the peer is fixed
and see it delivered. Screenshots are kept (tmp dir and var/test-artifacts/)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.schema import Xref
from monitoring.web.app import create_app
from tandem.cli_monitor import dashboard_for, password_login
from tests.monitoring.conftest import ARTIFACTS, PASSWORD, Seeded, set_erp
from tests.services import need_program
from tests.support import serve_asgi

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    need_program(CHROMIUM, "apt-get install -y chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 860})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


class Shots:
    def __init__(self, page: Any, tmp: Path) -> None:
        self.page, self.tmp = page, tmp
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(self, name: str) -> Path:
        path = self.tmp / f"monitor-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        shutil.copy(path, ARTIFACTS / path.name)
        return path


def test_operator_tracks_an_order_and_replays_its_dead_letter(
    seeded: Seeded, browser_page: Any, tmp_path: Path
) -> None:
    rt = seeded.runtime
    app = create_app(dashboard_for(rt, auth=password_login(rt.settings)))
    page, shots = browser_page, Shots(browser_page, tmp_path)
    with serve_asgi(app) as base:
        page.goto(f"{base}/deadletters")
        assert page.url.startswith(f"{base}/login")  # not logged in: sent to the login page
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]")
        assert "Wrong user name or password" in page.content()
        shots.take("login-failed")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/deadletters")  # back where the operator wanted to go

        page.goto(base + "/")
        page.wait_for_selector("svg.chart")
        assert page.locator("svg.chart").count() == 4
        shots.take("overview")

        # find the delivered order by its web shop number
        number = str(seeded.delivered["number"])
        page.goto(f"{base}/messages")
        page.fill("input[name=q]", number)
        page.click("form.filters button[type=submit]")
        rows = page.locator("table tr:has(td)")
        assert rows.count() == 1
        shots.take("messages-search")
        page.click(f"a:text-is('{number}')")
        timeline = page.locator("section.card", has_text="Timeline")
        for kind in ("received", "delivery_queued", "delivered"):
            assert timeline.locator(f"span.badge.{kind}").count() >= 1
        ids = page.locator("section.card", has_text="Ids in every system")
        assert ids.locator("td", has_text="webshop").count() >= 1
        assert ids.locator("td", has_text="erp").count() >= 1
        payloads = page.locator("section.card", has_text="Messages and payloads").inner_text()
        email = seeded.delivered["billing"]["email"]
        assert email not in payloads and "•••@" in payloads  # personal data masked
        shots.take("order-timeline")

        # the dead-lettered order: ERP down at the time; fix the peer, then replay
        dead_number = str(seeded.dead["number"])
        page.goto(f"{base}/deadletters")
        dead_rows = page.locator("table tr:has(input[name=ids])")
        assert dead_rows.count() == 2
        assert "503" in page.locator("table").inner_text()
        shots.take("dead-letters")
        page.locator("a", has_text="inspect").first.click()
        assert "Attempts and actions" in page.content()
        assert page.locator("span.badge.attempt_failed").count() >= 1
        shots.take("dead-letter-detail")

        set_erp(seeded.erp, down=False)
        page.goto(f"{base}/deadletters")
        for box in page.locator("input[name=ids]").all():
            box.check()
        page.click("button:text('Replay selected')")
        notice = page.locator(".notice").inner_text()
        assert re.search(r"#\d+ delivered, #\d+ delivered", notice), notice
        assert "no dead letters" in page.content()
        shots.take("after-replay")

        page.goto(f"{base}/chain?key={dead_number}")
        timeline_text = page.locator("section.card", has_text="Timeline").inner_text()
        assert "replay_requested" in timeline_text and "admin" in timeline_text
        deliveries = page.locator("section.card", has_text="Deliveries")
        assert deliveries.locator("span.badge.delivered").count() == 2
        shots.take("replayed-timeline")

        # the customer behind the order, found by its ERP number, in every system
        with rt.hub.begin() as hs:
            erp_no = hs.session.scalars(
                sa.select(Xref.external_id).where(Xref.entity == "customer", Xref.system == "erp")
            ).first()
        page.goto(f"{base}/customers?q={erp_no}")
        assert (
            page.locator("section.card", has_text="In every system")
            .locator("td", has_text="webshop")
            .count()
            >= 1
        )
        timeline_text = page.locator("section.card", has_text="Orders, shipments").inner_text()
        assert f"sales order {number}" in timeline_text
        shots.take("customer-360")


def test_screenshots_are_readable_pngs() -> None:
    """The artifacts the browser test leaves are real PNG files (checked when present)."""
    shots = sorted(ARTIFACTS.glob("monitor-*.png")) if ARTIFACTS.exists() else []
    if not shots:
        pytest.skip("run the browser test first")
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
