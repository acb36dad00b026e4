"""Serving a sandbox ASGI peer with uvicorn: in a background thread, or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

# A request held by the ``timeout`` knob must not keep a stopping server waiting.
GRACEFUL_SHUTDOWN_SECONDS = 1


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; ``port=0`` picks a free one (read it back with ``getsockname``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _config(app: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


class ServerThread:
    """uvicorn serving ``app`` on ``sock`` in a daemon thread until ``stop()``."""

    def __init__(self, app: Any, sock: socket.socket, name: str) -> None:
        self._sock = sock
        self._server = uvicorn.Server(_config(app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5)
        self._sock.close()


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Serves in the foreground until SIGINT/SIGTERM."""
    try:
        uvicorn.Server(_config(app)).run(sockets=[sock])
    finally:
        sock.close()
