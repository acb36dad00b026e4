"""The dashboard inside Airflow's API server: Airflow's own plugin code mounts it, and it
accepts only Airflow's JWT (cookie or bearer), with Airflow's roles deciding who may replay."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.monitoring.conftest import Seeded, set_erp
from tests.support import serve_asgi


@pytest.fixture(scope="module")
def airflow_auth() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as home:
        previous = os.environ.get("AIRFLOW_HOME")
        os.environ.setdefault("AIRFLOW_HOME", home)
        try:
            from airflow.api_fastapi.app import create_auth_manager
            from airflow.utils import db

            db.initdb()
            manager = create_auth_manager()
            manager.init()
            yield manager
        finally:
            if previous is None and os.environ.get("AIRFLOW_HOME") == home:
                del os.environ["AIRFLOW_HOME"]


def _token(manager: Any, username: str, role: str) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(manager.generate_jwt(SimpleAuthManagerUser(username=username, role=role)))


def test_plugin_mounts_the_dashboard_with_a_navigation_link(airflow_auth: Any) -> None:
    from tandem.airflow_plugin import MONITOR_PREFIX, TandemPlugin

    prefixes = [entry["url_prefix"] for entry in TandemPlugin.fastapi_apps]
    assert prefixes == ["/tandem", MONITOR_PREFIX]
    [view] = TandemPlugin.external_views
    assert view["href"] == MONITOR_PREFIX + "/" and view["destination"] == "nav"


def test_only_airflow_users_see_it_and_only_operators_replay(
    airflow_auth: Any, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow import plugins_manager
    from airflow.api_fastapi.app import init_plugins

    from tandem.airflow_plugin import TandemPlugin

    for name, value in seeded.env.items():
        monkeypatch.setenv(name, value)
    TandemPlugin.validate()
    monkeypatch.setattr(
        plugins_manager,
        "get_fastapi_plugins",
        lambda: (TandemPlugin.fastapi_apps, TandemPlugin.fastapi_root_middlewares),
    )
    parent = FastAPI()
    init_plugins(parent)  # Airflow's own mounting code, as its API server runs it
    viewer = _token(airflow_auth, "vera", "viewer")
    operator = _token(airflow_auth, "otto", "op")
    with serve_asgi(parent) as base, httpx.Client(base_url=base) as client:
        anonymous = client.get("/tandem-monitor/deadletters")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/auth/login?next=%2Ftandem-monitor%2Fdeadletters"
        client.cookies.set("_token", viewer[:-4] + "AAAA")
        forged = client.get("/tandem-monitor/")
        assert forged.status_code == 303
        client.cookies.set("_token", viewer)
        page = client.get("/tandem-monitor/deadletters")
        assert page.status_code == 200 and "airflow:vera (read only)" in page.text
        assert "Replay selected" not in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert csrf is not None
        refused = client.post(
            "/tandem-monitor/deadletters/replay",
            data={"ids": ["3"], "csrf": csrf.group(1)},
        )
        assert refused.status_code == 403
        client.cookies.clear()

        set_erp(seeded.erp, down=False)
        bearer = {"Authorization": f"Bearer {operator}"}
        page = client.get("/tandem-monitor/deadletters", headers=bearer)
        ids = re.findall(r'name="ids" value="(\d+)"', page.text)
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert len(ids) == 2 and csrf is not None
        no_csrf = client.post(
            "/tandem-monitor/deadletters/replay", data={"ids": ids}, headers=bearer
        )
        assert no_csrf.status_code == 403
        done = client.post(
            "/tandem-monitor/deadletters/replay",
            data={"ids": ids, "csrf": csrf.group(1)},
            headers=bearer,
        )
        assert done.status_code == 303
        assert done.headers["location"].startswith("/tandem-monitor/deadletters?notice=")
        chain = client.get(f"/tandem-monitor/chain?key={seeded.dead['number']}", headers=bearer)
        assert "airflow:otto" in chain.text and "replay_requested" in chain.text
