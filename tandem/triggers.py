"""Event triggers that lose nothing: the inbox first, then a nudge to Airflow.

A webhook is stored in the hub's inbox before the sender hears 2xx; only then does the
receiver ``poke`` a ``DagRunTrigger``, which asks Airflow's REST API for a run of the flow's DAG
(``POST /api/v2/dags/{dag_id}/dagRuns``, with a token from ``POST /auth/token``). Pokes are
coalesced: a burst of 200 webhooks gives one run now and at most one more after it (the DAG
takes every message waiting in the inbox), not 200 runs. A trigger that fails (Airflow
restarting, a network blip) is only logged: the DAG's frequent schedule is the sweep that picks
up whatever is still waiting, so a lost trigger delays a message, never loses it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

log = logging.getLogger(__name__)


@dataclass
class DagRunTrigger:
    api_url: str  # the Airflow API server, e.g. http://127.0.0.1:8080
    dag_id: str
    username: str
    password: SecretStr
    min_interval: float = 0.2  # at most one trigger request per interval
    timeout: float = 5.0
    triggered: int = 0
    failed: int = 0
    _wake: threading.Event = field(default_factory=threading.Event, repr=False)
    _token: str | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _stop: bool = False

    def poke(self) -> None:
        """Ask for a run soon; returns at once (safe from any thread or event loop)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="dag-trigger", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)

    def _loop(self) -> None:
        with httpx.Client(base_url=self.api_url.rstrip("/"), timeout=self.timeout) as client:
            while not self._stop:
                self._wake.wait()
                if self._stop:
                    return
                self._wake.clear()  # pokes from now on ask for one more run
                self._trigger(client)
                time.sleep(self.min_interval)

    def _trigger(self, client: httpx.Client) -> None:
        try:
            for attempt in (1, 2):
                response = client.post(
                    f"/api/v2/dags/{self.dag_id}/dagRuns",
                    json={"logical_date": None, "conf": {"reason": "event"}},
                    headers={"Authorization": f"Bearer {self._bearer(client)}"},
                )
                if response.status_code == 401 and attempt == 1:
                    self._token = None  # expired: log in again once
                    continue
                response.raise_for_status()
                self.triggered += 1
                return
        except httpx.HTTPError as exc:
            self.failed += 1
            log.warning(
                "could not trigger %s (the schedule will pick the work up): %s", self.dag_id, exc
            )

    def _bearer(self, client: httpx.Client) -> str:
        if self._token is None:
            response = client.post(
                "/auth/token",
                json={"username": self.username, "password": self.password.get_secret_value()},
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token
