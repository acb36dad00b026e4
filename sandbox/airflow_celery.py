"""A real multi-process Airflow 3 cluster on loopback: CeleryExecutor, PostgreSQL, Redis.

The production shape (see ``docker-compose.yml``) without Docker, for the scale-out benchmark:
``airflow api-server``, ``airflow scheduler``, ``airflow dag-processor`` and any number of
``airflow celery worker`` processes, each started on its own in its own process group (stopped
with SIGTERM to the group), sharing one ``AIRFLOW_HOME``, the metadata database on PostgreSQL
and Redis as the Celery broker. Workers can be added and stopped while the rest runs, each
with its own name (``--celery-hostname``) and environment, and each reports that name as the
hostname of the task instances it runs (``worker_hostname``), so the REST API shows which
worker ran what. It speaks to Airflow only over its REST API.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sandbox.airflow_api import AirflowRest
from sandbox.airflow_standalone import ROOT, free_port

WORKER_NAME_ENV = "TANDEM_WORKER_NAME"


def worker_hostname() -> str:
    """Airflow's ``hostname_callable`` inside a worker: the worker's own name."""
    import socket

    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class CeleryAirflow(AirflowRest):
    """Airflow with CeleryExecutor. ``metadata_url``: a SQLAlchemy URL of an empty or
    Airflow-owned PostgreSQL database; ``broker_url``: a Redis URL (its database is emptied
    on start: give the cluster a database number of its own)."""

    home: Path
    metadata_url: str
    broker_url: str
    env: dict[str, str] = field(default_factory=dict)
    parallelism: int = 4
    concurrency: int = 2
    port: int = 0
    processes: dict[str, Process] = field(default_factory=dict)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _token: str | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.jwt_secret = secrets.token_urlsafe(64)  # >= 64 bytes for HS512

    def environment(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            {
                "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
                "PYTHONPATH": str(ROOT),
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "sandbox.airflow_celery.worker_hostname",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
                # async sessions (the API server) through psycopg 3 rather than asyncpg
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.metadata_url.replace(
                    "+psycopg2", "+psycopg"
                ),
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.metadata_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            }
        )
        env.update(self.env)
        return env

    # -- processes -----------------------------------------------------------------------------

    def _airflow(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        log_path = self.home / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            popen = subprocess.Popen(  # our own venv's airflow
                [str(Path(sys.executable).parent / "airflow"), *args],
                cwd=ROOT,
                env={**self.environment(), **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )
        process = Process(name, popen, log_path)
        self.processes[name] = process
        return process

    def migrate(self) -> None:
        """Create or upgrade the metadata schema (``airflow db migrate``) and the Redis
        database the broker uses is emptied."""
        self.home.mkdir(parents=True, exist_ok=True)
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        passwords.write_text(json.dumps({"admin": self.password}))
        passwords.chmod(0o600)
        process = self._airflow("migrate", ["db", "migrate"])
        if process.popen.wait(timeout=300) != 0:
            raise RuntimeError(f"airflow db migrate failed; see {process.log}")
        del self.processes["migrate"]
        import redis

        redis.Redis.from_url(self.broker_url).flushdb()

    def start(self, timeout: float = 240.0) -> CeleryAirflow:
        """Migrate, then start the API server, the scheduler and the DAG processor."""
        self.migrate()
        try:
            self._airflow("api-server", ["api-server"])
            self._airflow("scheduler", ["scheduler"])
            self._airflow("dag-processor", ["dag-processor"])
            self._wait(self._ready, timeout, "the API server")
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(
        self, name: str, env: dict[str, str] | None = None, concurrency: int | None = None
    ) -> Process:
        """One more ``airflow celery worker`` named ``name`` (its task instances' hostname)."""
        return self._airflow(
            name,
            ["celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", "default",
             "--concurrency", str(concurrency or self.concurrency)],
            {WORKER_NAME_ENV: name, **(env or {})},
        )  # fmt: skip

    def stop_process(self, name: str, timeout: float = 60.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.popen.poll() is not None:
            return
        os.killpg(process.popen.pid, signal.SIGTERM)
        try:
            process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.popen.pid, signal.SIGKILL)
            process.popen.wait()

    def stop(self) -> None:
        """Workers first (they finish or hand back their tasks), then the rest."""
        for name in sorted(self.processes, key=lambda n: n in ("scheduler", "api-server")):
            self.stop_process(name)

    def __enter__(self) -> CeleryAirflow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait(self, check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes.values():
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited; see {process.log}")
            if check():
                return
            time.sleep(0.5)
        raise TimeoutError(f"{what} not ready after {timeout:.0f}s")

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", json={"state": state})
