"""Serving the sandbox ERP: a threaded stdlib WSGI server, in a thread or as a process."""

from __future__ import annotations

import io
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sandbox.erp_soap.app import ErpApp, Knobs


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def handle(self) -> None:
        """Serve one connection, or drop a SOAP call unanswered when the knobs say so (the
        control endpoint and WSDLs are always answered)."""
        app = getattr(self.server, "erp_app", None)
        head = cast(io.BufferedReader, self.rfile).peek(16)
        if app is not None and head.startswith(b"POST /WS/") and app.should_drop():
            self.rfile.readline(65537)  # the client has sent its call; it sees the line die
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are counted at /_control instead of logged line by line."""


@dataclass
class ErpHandle:
    """A running sandbox ERP: ``url`` is the server root, ``base_url`` the page service root."""

    app: ErpApp
    server: WSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/WS/{self.app.company}/Page/"

    def wsdl_url(self, page: str) -> str:
        return f"{self.base_url}{page}?wsdl"

    def codeunit_url(self, codeunit: str) -> str:
        return f"{self.url}/WS/{self.app.company}/Codeunit/{codeunit}"

    def codeunit_wsdl_url(self, codeunit: str) -> str:
        return f"{self.codeunit_url(codeunit)}?wsdl"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def make_erp_server(
    host: str,
    port: int,
    *,
    company: str = "CRONUS",
    state_path: Path | str | None = None,
    knobs: Knobs | None = None,
    credentials: tuple[str, str] | None = None,
    seed: int | None = None,
) -> tuple[ErpApp, WSGIServer]:
    app = ErpApp(
        company=company,
        state_path=Path(state_path) if state_path is not None else None,
        knobs=knobs,
        credentials=credentials,
        seed=seed,
    )
    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    server.erp_app = app  # type: ignore[attr-defined]  # the handler reads the drop knob
    return app, server


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    state_path: Path | str | None = None,
    *,
    company: str = "CRONUS",
    knobs: Knobs | None = None,
    credentials: tuple[str, str] | None = None,
    seed: int | None = None,
) -> ErpHandle:
    """Starts the sandbox ERP in a daemon thread; ``port=0`` picks a free port.

    The ERP starts EMPTY (tests count records); ``seed=N`` fills it with that seed's company
    data (customers, items with inventory, open orders, posted history)."""
    app, server = make_erp_server(
        host,
        port,
        company=company,
        state_path=state_path,
        knobs=knobs,
        credentials=credentials,
        seed=seed,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-erp", daemon=True
    )
    thread.start()
    return ErpHandle(app, server, thread, host, server.server_port)
