"""Deployment guards: the compose file wires the right processes, and production settings pass
`manage.py check --deploy` and refuse to start without a SECRET_KEY."""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("postgres", "redis", "web", "worker", "beat")
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    with open(PROJECT_ROOT / "docker-compose.yml") as fh:
        return yaml.safe_load(fh)


def command_of(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else shlex.join(command)


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: str(value) for key, value in env.items()}


# Only these are inherited from the test runner: the rest of its environment (DATABASE_URL from
# CI, DJANGO_ALLOW_ASYNC_UNSAFE set by the browser conftest, ...) must not leak into "production".
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="missionos.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        TOKEN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="missionos.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}",
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_defines_all_services(compose):
    assert set(SERVICES) <= set(compose["services"]), sorted(compose["services"])


def test_compose_postgres_and_redis(compose):
    postgres = compose["services"]["postgres"]
    redis = compose["services"]["redis"]
    assert str(postgres["image"]).startswith("postgres:16")
    assert "healthcheck" in postgres
    assert str(redis["image"]).startswith("redis:7")
    assert "healthcheck" in redis
    # Redis is the Celery broker: it must never evict queued tasks.
    assert "--maxmemory-policy noeviction" in command_of(redis)


def test_compose_web_runs_a_real_server(compose):
    command = command_of(compose["services"]["web"])
    assert "migrate" in command
    assert "runserver" not in command
    assert ("uvicorn" in command and "missionos.asgi:application" in command) or (
        "gunicorn" in command and ("missionos.asgi" in command or "missionos.wsgi" in command)
    ), command
    # migrate must finish before the server starts
    assert command.index("migrate") < max(command.find("uvicorn"), command.find("gunicorn"))


def test_compose_worker_and_beat(compose):
    worker = command_of(compose["services"]["worker"])
    beat = command_of(compose["services"]["beat"])
    assert "celery -A missionos worker" in worker
    # A run mostly waits on its base's rate limit: one run per process starves a fleet
    # (bench/fleet.py), so the worker runs its tasks in threads.
    assert "--pool=threads" in worker and "--concurrency=" in worker, worker
    assert "celery -A missionos beat" in beat
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_services_get_database_and_redis(compose, name):
    service = compose["services"][name]
    env = environment_of(service)
    assert env.get("DATABASE_URL", "").startswith("postgres"), env
    assert env.get("REDIS_URL", "").startswith("redis://"), env
    assert env.get("SECRET_KEY"), env
    assert env.get("DEBUG") == "0", env
    conditions = {dep: spec.get("condition") for dep, spec in service["depends_on"].items()}
    assert conditions.get("postgres") == "service_healthy", conditions
    assert conditions.get("redis") == "service_healthy", conditions


def test_check_deploy_passes_with_production_environment(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def test_check_deploy_warns_when_tokens_use_the_secret_key_derived_key(tmp_path):
    env = production_env(tmp_path)
    del env["TOKEN_ENCRYPTION_KEYS"]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "sync.W001" in result.stderr, result.stderr


def test_production_settings_refuse_to_start_without_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run(["-c", "import missionos.settings"], env)
    assert result.returncode != 0, "settings imported without SECRET_KEY while DEBUG=0"
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    assert "SECRET_KEY must be set" in result.stderr, result.stderr
