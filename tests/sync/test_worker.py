"""Real Celery worker processes (not eager mode): a worker killed mid-run leaves nothing the
next run cannot finish. Needs Postgres and Redis (the worker is another process and must see
committed data), which CI provides; skipped otherwise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection as db_connection

from devtools.fakeairtable import FakeAirtable
from okrs import services as okrs_services
from okrs.models import Task, TaskStatus
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import PendingWrite, RunKind, RunStatus, SyncRun
from sync.reconcile.adapters import ENTITY_MODELS
from sync.tasks import execute_run
from sync.tasks import push_connection as push_task
from tests.parallel import TIMED
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN, build_base

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Worker processes that time out: in the one process running the timed tests in turn.
    pytest.mark.xdist_group(TIMED),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL")
        or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs Postgres and Redis (CI sets DATABASE_URL and REDIS_URL)",
    ),
]


def this_test_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test_ copy)."""
    s = db_connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def worker_env(settings):
    with FakeAirtable(rate_limit=None, seed=5) as fake:
        settings.AIRTABLE_API_URL = fake.url
        ids = build_base(fake, projects=60, tasks_per_project=40)  # 2,400 tasks, 24 pages
        queue = f"test-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "DATABASE_URL": this_test_database_url(),
            "AIRTABLE_API_URL": fake.url,
            "AIRTABLE_REQUESTS_PER_SECOND": "8",  # slow enough to be caught mid-run
            "SYNC_LOCK_TIMEOUT_SECONDS": "2",
        }
        yield fake, ids, queue, env


def start_worker(env: dict, queue: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "missionos",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(predicate, timeout: float, what: str):
    """Poll until `predicate()` gives something true, and return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_then_next_run_completes_without_duplicates(worker_env, org, settings):
    _fake, ids, queue, env = worker_env
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )
    first = services.run_request(connection=connection, kind=RunKind.FULL)
    worker = start_worker(env, queue)
    try:
        execute_run.apply_async(args=[first.pk], queue=queue)
        wait_for(
            lambda: SyncRun.objects.unscoped().get(pk=first.pk).created >= 300,
            60,
            "the run to be midway",
        )
    finally:
        worker.send_signal(signal.SIGKILL)  # no clean shutdown: the process just dies
        worker.wait(10)
    first.refresh_from_db()
    assert first.status == RunStatus.RUNNING and first.created < len(ids["tasks"])
    half_done = Task.objects.for_org(org).count()
    # What the killed run committed (its saved counts may trail: progress is saved every 0.2 s).
    written_before = sum(
        model.objects.for_org(org, include_archived=True).count()
        for model in ENTITY_MODELS.values()
    )

    # Once its lock lapses (SYNC_LOCK_TIMEOUT_SECONDS) and it has been silent long enough,
    # the dead run is closed and the next one may start ...
    settings.SYNC_STALE_AFTER_SECONDS = 0

    def next_run() -> SyncRun | None:
        try:
            return services.run_request(connection=connection, kind=RunKind.FULL)
        except services.SyncBusy:  # the dead worker's lock has not lapsed yet
            return None

    second = wait_for(next_run, 30, "the dead run to be closed")
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED and "worker running this sync stopped" in first.error

    # ... and the next run completes what it started, without a single duplicate.
    services.run_execute(
        run_id=second.pk, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter()
    )
    second.refresh_from_db()
    assert second.status == RunStatus.SUCCEEDED, second.error
    tasks = Task.objects.for_org(org)
    assert tasks.count() == len(ids["tasks"]) > half_done
    assert tasks.values("source_record_id").distinct().count() == len(ids["tasks"])
    assert second.created == sum(len(v) for v in ids.values()) - written_before


def test_a_worker_runs_a_queued_sync(worker_env, org):
    _fake, ids, queue, env = worker_env
    env = {**env, "AIRTABLE_REQUESTS_PER_SECOND": "1000"}
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    worker = start_worker(env, queue)
    try:
        execute_run.apply_async(args=[run.pk], queue=queue)
        wait_for(
            lambda: SyncRun.objects.unscoped().get(pk=run.pk).status == RunStatus.SUCCEEDED,
            60,
            "the worker to finish",
        )
    finally:
        worker.terminate()
        worker.wait(10)
    assert Task.objects.for_org(org).count() == len(ids["tasks"])


def test_a_worker_killed_mid_push_loses_no_change_and_makes_no_duplicate(worker_env, org, settings):
    """A real worker pushing 300 changes and 20 new tasks is SIGKILLed after its first writes
    land; the next push (what the beat's push_due hands the next worker) writes the rest:
    every change in Airtable, every new task once."""
    fake, _ids, queue, env = worker_env
    settings.SYNC_LOCK_TIMEOUT_SECONDS = 2
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter())
    services.connection_add_id_fields(connection=connection)
    tasks = list(Task.objects.for_org(org).order_by("pk")[:300])
    for task in tasks:
        okrs_services.task_set_status(task=task, status=TaskStatus.BLOCKED)
    project = tasks[0].project
    for index in range(20):
        okrs_services.task_save(task=Task(organization=org, project=project, title=f"New {index}"))
    table = fake.bases[BASE_ID].table(T_TASKS)
    before = len(table)

    def written() -> int:
        return sum(1 for r in fake.requests if r.method == "PATCH" and r.status == 200)

    worker = start_worker(env, queue)
    try:
        push_task.apply_async(args=[connection.pk], queue=queue)
        wait_for(lambda: written() >= 5, 60, "the push to be midway")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    left = PendingWrite.objects.for_org(org).count()
    assert 0 < left < 320  # midway: some written, the rest still queued

    def next_push():
        return services.push_connection(
            connection=connection, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter()
        )

    wait_for(next_push, 30, "the dead worker's push lock to lapse")
    assert not PendingWrite.objects.for_org(org).exists()
    assert len(table) == before + 20
    names = [record.fields.get("fldTNAME00000001") for record in table.records.values()]
    assert sorted(n for n in names if n and n.startswith("New ")) == sorted(
        f"New {i}" for i in range(20)
    )
    for task in tasks:
        assert table.get(task.source_record_id).fields["fldTSTATUS000001"] == "Blocked"
