"""A real ``airflow standalone`` on loopback, for the demo, the benchmarks and the slow tests.

``StandaloneAirflow(home, env=...)`` starts Airflow 3 (SQLite metadata, LocalExecutor, low
parallelism, examples off, Tandem's DAG folder) in its own process group, waits until the API
answers, reads the generated admin password, and stops it with SIGTERM to the whole group
(Ctrl+C alone leaves idle LocalExecutor workers hanging). It speaks to Airflow only over its
REST API (``token``, ``unpause``, ``trigger``, ``runs``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.airflow_api import AirflowRest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StandaloneAirflow(AirflowRest):
    def __init__(
        self,
        home: Path,
        *,
        env: dict[str, str] | None = None,
        port: int = 0,
        password: str | None = None,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        # known before the start, so the webhook receiver inside Airflow can trigger DAG runs
        self.password = password or secrets.token_urlsafe(16)
        self._token: str | None = None

    def environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                # an idle scheduler loop looks for new runs and queued tasks 10x a second (the
                # default, 1 s, adds up to a second at each step of a triggered run)
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 300.0) -> StandaloneAirflow:
        self.home.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        passwords.write_text(json.dumps({"admin": self.password}))
        passwords.chmod(0o600)
        log = (self.home / "standalone.log").open("ab")
        self.process = subprocess.Popen(  # our own venv's airflow
            [str(Path(sys.executable).parent / "airflow"), "standalone"],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"airflow standalone exited ({self.process.returncode}); see "
                    f"{self.home / 'standalone.log'}"
                )
            if self._ready():
                return self
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"airflow standalone not ready after {timeout:.0f}s")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> StandaloneAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tandem_environment(
    home: Path, *, hub_url: str, erp_url: str, webhook_secret: str, api_url: str, password: str
) -> dict[str, str]:
    """What Tandem needs inside Airflow for the web order flow: the hub, the ERP, the
    webhook secret, and Airflow's own API for event triggers (the flow's schedule is the
    sweep that catches any lost trigger)."""
    settings = home / "tandem.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("")
    return {
        "TANDEM_SETTINGS_FILE": str(settings),
        "TANDEM_DATABASE_URL": hub_url,
        "TANDEM_ERP_SOAP_URL": erp_url,
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": webhook_secret,
        "TANDEM_AIRFLOW_API_URL": api_url,
        "TANDEM_AIRFLOW_PASSWORD": password,
        "TANDEM_SCHEDULE_WEBSHOP_ORDERS": "* * * * *",
        "TANDEM_RETRY_BASE_DELAY": "1",
    }
