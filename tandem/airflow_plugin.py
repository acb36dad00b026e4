"""Tandem's webhook receiver inside Airflow's API server, as an Airflow plugin.

Airflow 3 mounts each entry of a plugin's ``fastapi_apps`` on its API server with
``app.mount(url_prefix, app)`` (``airflow.api_fastapi.app.init_plugins``). ``TandemPlugin``
offers the receiver at ``/tandem``, so a web shop posts to
``https://<airflow api server>/tandem/webhooks/webshop``. The receiver authenticates senders by
their HMAC signature; Airflow's own login does not apply to it (senders have none).

Importing this module does no I/O and needs no configuration: the ``Runtime`` (settings, hub
engine, receiver) is built at the first request. Until Tandem is configured, requests get 503
and the API server's log says which setting is missing. ``tandem serve`` never imports this
module; it is only for Airflow (register it with the ``airflow.plugins`` entry point, or put a
file importing ``TandemPlugin`` in Airflow's plugins folder).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

URL_PREFIX = "/tandem"


def _receiver_from_settings() -> ASGIApp:
    from tandem.runtime import Runtime

    return Runtime().webhook_app()


class LazyReceiver:
    """An ASGI app that builds the real receiver with ``factory`` at its first request.

    A build that fails (Tandem not configured) answers 503 and is tried again on the next
    request; the log names the problem (settings errors name the variable, never its value).
    """

    def __init__(self, factory: Callable[[], ASGIApp] = _receiver_from_settings) -> None:
        self._factory = factory
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()  # any event loop, any thread; held only to build

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app or self._build()
        if app is None:
            response = JSONResponse(
                {"error": "Tandem's webhook receiver is not configured; see the server log"},
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
        log.error("Tandem webhook receiver not started: %s", _first_line(failure))
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


class TandemPlugin(AirflowPlugin):
    """Mounts Tandem's webhook receiver on Airflow's API server at ``/tandem``."""

    name = "tandem"
    fastapi_apps = [
        {"app": create_plugin_app(), "url_prefix": URL_PREFIX, "name": "Tandem webhook receiver"}
    ]
