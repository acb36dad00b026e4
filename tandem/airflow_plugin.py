"""Tandem's webhook receiver inside Airflow's API server, as an Airflow plugin.

Airflow 3 mounts each entry of a plugin's ``fastapi_apps`` on its API server with
``app.mount(url_prefix, app)`` (``airflow.api_fastapi.app.init_plugins``). ``TandemPlugin``
offers the receiver at ``/tandem``, so a web shop posts to
``https://<airflow api server>/tandem/webhooks/webshop``. The receiver authenticates senders by
their HMAC signature; Airflow's own login does not apply to it (senders have none).

``TandemPlugin`` also mounts the monitoring dashboard at ``/tandem-monitor`` (a link in
Airflow's navigation, shown inside the Airflow UI). Airflow does not guard plugin apps, so
the dashboard checks Airflow's JWT itself (``Authorization: Bearer`` or the UI's ``_token``
cookie) with Airflow's auth manager: viewing needs access to Airflow's website, replay and
discard need the right to change DAG runs.

Importing this module does no I/O and needs no configuration: the ``Runtime`` (settings, hub
engine, receiver) is built at the first request. Until Tandem is configured, requests get 503
and the API server's log says which setting is missing. ``tandem serve`` never imports this
module; it is only for Airflow (register it with the ``airflow.plugins`` entry point, or put a
file importing ``TandemPlugin`` in Airflow's plugins folder).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from monitoring.web.auth import Identity

log = logging.getLogger(__name__)

URL_PREFIX = "/tandem"
MONITOR_PREFIX = "/tandem-monitor"


def _receiver_from_settings() -> ASGIApp:
    """The receiver; each stored message pokes the flow's DAG when Airflow's API is set
    (``TANDEM_AIRFLOW_API_URL``): the inbox first, then the trigger."""
    from tandem.runtime import Runtime

    runtime = Runtime()
    trigger = runtime.event_trigger()
    return runtime.webhook_app((lambda _message_id: trigger.poke()) if trigger else None)


class LazyReceiver:
    """An ASGI app that builds the real receiver with ``factory`` at its first request.

    A build that fails (Tandem not configured) answers 503 and is tried again on the next
    request; the log names the problem (settings errors name the variable, never its value).
    """

    def __init__(
        self,
        factory: Callable[[], ASGIApp] = _receiver_from_settings,
        what: str = "webhook receiver",
    ) -> None:
        self._factory = factory
        self._what = what
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()  # any event loop, any thread; held only to build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or self._build()
        if app is None:
            response = JSONResponse(
                {"error": f"Tandem's {self._what} is not configured; see the server log"},
                status_code=503,
                headers={"Retry-After": "60"},
            )
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    def _build(self) -> ASGIApp | None:
        with self._lock:
            if self._app is not None:
                return self._app
            try:
                self._app = self._factory()
            except Exception as exc:
                failure: Exception = exc
            else:
                return self._app
        # First line only: it names the setting; a validation error's detail may quote a value.
        log.error("Tandem %s not started: %s", self._what, _first_line(failure))
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def create_plugin_app(factory: Callable[[], ASGIApp] = _receiver_from_settings) -> FastAPI:
    """A FastAPI app with the receiver (built lazily) at its root: ``/webhooks/{source}``."""
    api = FastAPI(
        title="Tandem webhook receiver",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    api.mount("/", LazyReceiver(factory))
    return api


class AirflowLogin:
    """The dashboard's user is Airflow's: a valid Airflow JWT, checked by the auth manager."""

    def __init__(self, auth_manager: Callable[[], Any] | None = None) -> None:
        self._auth_manager = auth_manager or _airflow_auth_manager

    async def identify(self, request: Request) -> Identity | None:
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
        from airflow.api_fastapi.auth.managers.models.resource_details import (
            AccessView,
            DagAccessEntity,
        )

        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else None
        token = token or request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        if not token:
            return None
        manager = self._auth_manager()
        try:
            user = await manager.get_user_from_token(token)
        except Exception as exc:  # expired or forged: log in again
            log.info("Tandem monitor: Airflow token refused: %s", type(exc).__name__)
            return None
        if not manager.is_authorized_view(access_view=AccessView.WEBSITE, user=user):
            raise HTTPException(403, "your Airflow role may not see this")
        can_act = manager.is_authorized_dag(
            method="PUT", access_entity=DagAccessEntity.RUN, user=user
        )
        return Identity(f"airflow:{user.get_name()}", can_act=bool(can_act), session=user.get_id())

    def login_url(self, request: Request, next_path: str) -> str:
        root = request.scope.get("root_path", "")
        return str(self._auth_manager().get_url_login(next_url=root + next_path))


def _airflow_auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def _airflow_csrf_key() -> bytes:
    """Shared by every API server worker: derived from Airflow's own secret key."""
    from airflow.configuration import conf

    secret = conf.get("api", "secret_key", fallback="") or ""
    return hashlib.sha256(b"tandem-monitor\0" + secret.encode()).digest()


def _dashboard_from_settings() -> ASGIApp:
    from monitoring.web.app import create_app
    from tandem.cli_monitor import dashboard_for
    from tandem.runtime import Runtime

    dash = dashboard_for(Runtime(), auth=AirflowLogin())
    dash.csrf_key = _airflow_csrf_key()
    return create_app(dash)


def create_monitor_app(factory: Callable[[], ASGIApp] = _dashboard_from_settings) -> FastAPI:
    """The monitoring dashboard (built lazily, like the receiver) for ``/tandem-monitor``."""
    api = FastAPI(title="Tandem monitor", docs_url=None, redoc_url=None, openapi_url=None)
    api.mount("/", LazyReceiver(factory, what="monitoring dashboard"))
    return api


class TandemPlugin(AirflowPlugin):
    """Mounts Tandem's webhook receiver at ``/tandem`` and its monitoring dashboard at
    ``/tandem-monitor`` on Airflow's API server, with a link in Airflow's navigation."""

    name = "tandem"
    fastapi_apps = [
        {"app": create_plugin_app(), "url_prefix": URL_PREFIX, "name": "Tandem webhook receiver"},
        {"app": create_monitor_app(), "url_prefix": MONITOR_PREFIX, "name": "Tandem monitor"},
    ]
    external_views = [
        {
            "name": "Tandem monitor",
            "href": MONITOR_PREFIX + "/",
            "destination": "nav",
            "category": "browse",
            "url_route": "tandem-monitor",
        }
    ]
