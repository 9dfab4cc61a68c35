"""Work that needs a worker, with and without one.

Queueing never fails for want of a worker, so the pages say when nobody is there to start a
run instead of showing "Queued" forever. And the zero-setup mode (`make run`: no Redis) has a
worker anyway: kombu's filesystem transport needs no server, and answers pings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from orgs.models import Role
from sync import services
from sync.models import RunKind, RunStatus, SyncRun
from tests.sync.test_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin_client(client, org, member_of):
    client.force_login(member_of(org, Role.ADMIN))
    return client


@pytest.mark.django_db
def test_sync_now_without_a_worker_says_so(admin_client, connection, org, settings):
    settings.CELERY_BROKER_URL = "memory://"  # as in the tests: no worker can be there
    url = reverse("sync_now", args=[org.slug, connection.pk])
    page = admin_client.post(url, follow=True).content.decode()
    assert "Incremental sync queued. No worker is running to start it" in page
    assert "Not started yet." in page  # the run's live card, on the connection page
    run = SyncRun.objects.for_org(org).get()
    assert run.status == RunStatus.QUEUED  # kept: it starts when a worker does
    progress = reverse("sync_run_progress", args=[org.slug, run.pk])
    assert "Not started yet." in admin_client.get(progress, HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.django_db
def test_a_running_run_says_nothing_of_workers(admin_client, connection, org):
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    SyncRun.objects.for_org(org).filter(pk=run.pk).update(status=RunStatus.RUNNING)
    progress = reverse("sync_run_progress", args=[org.slug, run.pk])
    assert (
        "Not started yet."
        not in admin_client.get(progress, HTTP_HX_REQUEST="true").content.decode()
    )


def test_a_worker_on_the_filesystem_broker_answers_and_runs_tasks(tmp_path):
    """`make run`'s broker: no Redis, no other server; the web process and the worker share a
    folder. A real worker answers a ping and runs a task sent from another process."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "queue"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    migrated = run("manage.py", "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "missionos",
            "worker",
            "--pool=solo",
            "-l",
            "info",
            "--logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: "pong" in run("-m", "celery", "-A", "missionos", "inspect", "ping").stdout,
            60,
            "the worker to answer a ping",
        )
        sent = run(
            "-m",
            "celery",
            "-A",
            "missionos",
            "call",
            "sync.scheduled_sync",
            "--args",
            '[987654, "incremental"]',
        )
        assert sent.returncode == 0, sent.stderr
        wait_for(
            lambda: "scheduled sync of a deleted connection 987654" in log.read_text(),
            60,
            "the worker to run the task",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
