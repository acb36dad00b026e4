"""Airflow 3's REST API as the sandbox's Airflow processes use it: a token, then /api/v2.

A mixin for a class that has ``url`` (the API server), ``password`` (the admin's) and
``_token`` (None until the first call).
"""

from __future__ import annotations

import time
from typing import Any

import httpx


class AirflowRest:
    url: str
    password: str
    _token: str | None

    def token(self) -> str:
        if self._token is None:
            response = httpx.post(
                f"{self.url}/auth/token",
                json={"username": "admin", "password": self.password},
                timeout=10,
            )
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = httpx.request(
            method, f"{self.url}/api/v2{path}", headers=headers, timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.api("GET", f"/dags/{dag_id}")
                return
            except httpx.HTTPStatusError:
                time.sleep(1)
        raise TimeoutError(f"Airflow did not load {dag_id} within {timeout:.0f}s")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.api(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}}
        )
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        found = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        return list(found["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found = self.api(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100}
        )
        return list(found["task_instances"])
