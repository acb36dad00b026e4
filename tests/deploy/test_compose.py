"""The production compose file: valid for docker-compose, scalable workers, sandbox profile,
no secret in the file, an image built from the locked requirements."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.services import need_program

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
AIRFLOW_ROLES = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
PEERS = ("sandbox-erp-soap", "sandbox-webshop", "sandbox-crm", "sandbox-tryton")


def compose(*args: str) -> subprocess.CompletedProcess[str]:
    need_program("docker-compose", "apt-get install -y docker-compose")
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_docker_compose_accepts_the_file_with_and_without_the_sandbox_profile() -> None:
    plain = compose("config", "-q")
    assert plain.returncode == 0, plain.stderr
    sandbox = compose("--profile", "sandbox", "config", "-q")
    assert sandbox.returncode == 0, sandbox.stderr


def test_the_sandbox_profile_adds_the_peers_to_the_production_services(
    spec: dict[str, Any],
) -> None:
    services = spec["services"]
    production = {name for name, s in services.items() if not s.get("profiles")}
    assert {"postgres", "redis", "init", *AIRFLOW_ROLES} <= production
    for name in PEERS:
        assert services[name]["profiles"] == ["sandbox"], name
        command = services[name]["command"]
        assert command[:2] == ["python", "-m"] and command[2].startswith("sandbox.")
        module = ROOT / command[2].replace(".", "/") / "__main__.py"
        assert module.is_file(), f"{name} runs {command[2]}, which has no {module}"


def test_every_service_restarts_and_the_long_running_ones_are_health_checked(
    spec: dict[str, Any],
) -> None:
    services = spec["services"]
    for name in ("postgres", "redis", *AIRFLOW_ROLES):
        assert services[name]["restart"] == "unless-stopped", name
        assert services[name]["healthcheck"]["test"], name
    assert services["init"]["restart"] == "no"


def test_workers_scale_with_no_fixed_name_or_port(spec: dict[str, Any]) -> None:
    worker = spec["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"][:3] == ["airflow", "celery", "worker"]


def test_no_secret_is_written_in_the_compose_file(spec: dict[str, Any]) -> None:
    words = ("PASSWORD", "SECRET", "FERNET", "TOKEN", "SQL_ALCHEMY_CONN", "BROKER", "BACKEND")
    for name, service in spec["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            assert not ("://" in text and "@" in text), f"{name}: {key} holds credentials"
            if any(word in key for word in words):
                assert key.endswith(("_CMD", "_FILE")), f"{name}: {key} is set in the file"
                assert text.startswith(("cat /run/secrets/", "/run/secrets/")), (name, key)
    for secret in spec["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    for option in ("DATABASE__SQL_ALCHEMY_CONN", "CELERY__BROKER_URL", "CORE__FERNET_KEY"):
        assert f"AIRFLOW__{option}_CMD" in spec["x-airflow-env"]


def test_the_image_installs_the_locked_requirements_with_the_celery_executor() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-r requirements.lock" in dockerfile
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    assert any(line.startswith("apache-airflow-providers-celery==") for line in lock)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"secrets", ".env", ".venv", ".git"} <= set(ignored)
