"""The write-back's speed: a person's edit in MissionOS until Airtable has it.

    DATABASE_URL=postgres://.../empty_db REDIS_URL=redis://127.0.0.1:6379/N \\
        uv run python bench/writeback.py
    BENCH_EDITS=30 BENCH_RECORDS=20000 uv run python bench/writeback.py

Everything goes through the real pyairtable client over HTTP to the fake Airtable on 127.0.0.1
with its rate limit on (5 requests/s per base, 30 s lockout) and the sync's own pacing (the
shared limiter, Redis-backed when REDIS_URL is set). Edits are service calls
(`okrs.services.task_set_status`, as the task's status select does); their commit queues
`sync.push_connection`, which a Celery worker in this process (celery.contrib.testing, the
configured broker: Redis in CI) runs. An edit is done when the fake's record holds the new
value (read from the fake's model every 5 ms).

1. Idle: BENCH_EDITS edits one after another, no sync running. Target: median <= 2 s,
   p95 <= 5 s.
2. During a full sync of BENCH_RECORDS records (a second full run, so every page is read and
   compared): the same edits while it runs. Targets: p95 <= 5 s; the sync's records/s >= 95%
   of (500 - the writes' share of the 5 requests/s) records/s.
3. Bulk: 500 tasks reassigned in one transaction, then pushed. Targets: <= 55 requests,
   <= 12 s, no lockout.

Saves every figure with each target's pass/fail to bench/results/writeback-<database>.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITS = int(os.environ.get("BENCH_EDITS", "30"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
BULK = 500
TIMEOUT = 30.0


def setup_django() -> str:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-writeback-throwaway-key-not-for-production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="bench-writeback-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict:
    return {
        "edits": len(latencies),
        "median_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(percentile(latencies, 0.95), 3),
        "max_seconds": round(max(latencies), 3),
    }


def measure_edits(fake, org, count: int, keep_going=lambda: True) -> list[float]:
    from okrs import services as okrs_services
    from okrs.models import Task, TaskStatus
    from tests.sync.airtable_base import BASE_ID, T_TASKS

    table = fake.bases[BASE_ID].table(T_TASKS)
    labels = {TaskStatus.DONE: "Done", TaskStatus.BLOCKED: "Blocked"}
    tasks = list(Task.objects.for_org(org).exclude(source_record_id=None).order_by("pk")[:count])
    latencies = []
    for index, task in enumerate(tasks):
        if not keep_going():
            break
        status = TaskStatus.DONE if index % 2 else TaskStatus.BLOCKED
        if task.status == status:
            status = TaskStatus.BLOCKED if status == TaskStatus.DONE else TaskStatus.DONE
        start = time.monotonic()
        okrs_services.task_set_status(task=task, status=status)  # commits: the push is queued
        while table.get(task.source_record_id).fields.get("fldTSTATUS000001") != labels[status]:
            if time.monotonic() - start > TIMEOUT:
                raise SystemExit(f"edit {index} did not reach Airtable in {TIMEOUT:g} s")
            time.sleep(0.005)
        latencies.append(time.monotonic() - start)
        time.sleep(0.3)
    return latencies


def main() -> None:
    engine = setup_django()
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from bench.sync import build_bench_base
    from devtools.fakeairtable import FakeAirtable
    from missionos.celery import app
    from okrs.models import Task
    from orgs.models import Organization, Person
    from sync import services
    from sync.models import RunKind, SyncRun
    from tests.sync.airtable_base import BASE_ID, TOKEN

    results: dict = {}
    with FakeAirtable(rate_limit=5.0, lockout_seconds=30.0, seed=7) as fake:
        settings.AIRTABLE_API_URL = fake.url
        build_bench_base(fake, RECORDS, seed=7)
        fake.clock = time.time
        org = Organization.objects.create(name="Bench", slug=f"bench-wb-{int(time.time())}")
        connection = services.connection_create(
            organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
        )
        print(f"first full sync of {RECORDS} records (paced)", flush=True)
        run = services.run_request(connection=connection, kind=RunKind.FULL)
        services.run_execute(run_id=run.pk)
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
            print(f"1. idle: {EDITS} edits", flush=True)
            results["idle"] = summary(measure_edits(fake, org, EDITS))

            print(f"2. {EDITS} edits during a full sync of {RECORDS} records", flush=True)
            run = services.run_request(connection=connection, kind=RunKind.FULL)
            before = fake.request_count(BASE_ID)
            sync_thread = threading.Thread(target=services.run_execute, kwargs={"run_id": run.pk})
            sync_thread.start()
            time.sleep(2.0)  # the sync is pulling at full pace
            edits = measure_edits(fake, org, EDITS * 2, keep_going=sync_thread.is_alive)[2:]
            edits = edits[:EDITS]
            sync_thread.join()
            run = SyncRun.objects.unscoped().get(pk=run.pk)
            seconds = run.duration_seconds or 1.0
            total = fake.request_count(BASE_ID) - before
            write_share = max(0, total - run.requests) / seconds  # requests/s the push used
            ceiling = 100 * (5 - write_share)
            results["during_full_sync"] = {
                **summary(edits),
                "sync_records": run.pulled,
                "sync_seconds": round(seconds, 2),
                "sync_records_per_second": round(run.pulled / seconds, 1),
                "writes_requests_per_second": round(write_share, 3),
                "ceiling_minus_writes": round(ceiling, 1),
                "share_of_ceiling": round(run.pulled / seconds / ceiling, 3),
            }

        print(f"3. bulk: {BULK} tasks reassigned", flush=True)
        from django.db import transaction

        from okrs import services as okrs_services

        person = Person.objects.for_org(org).exclude(source_record_id=None).first()
        tasks = Task.objects.for_org(org).exclude(source_record_id=None).exclude(assignee=person)
        with transaction.atomic():
            for task in tasks.order_by("pk")[:BULK]:
                task.assignee = person
                okrs_services.task_save(task=task)
        before = fake.request_count(BASE_ID)
        lockouts = fake.lockouts
        start = time.monotonic()
        report = services.push_connection(connection=connection)
        results["bulk"] = {
            "rows": BULK,
            "written": report.written,
            "requests": fake.request_count(BASE_ID) - before,
            "seconds": round(time.monotonic() - start, 2),
            "lockouts": fake.lockouts - lockouts,
        }
        results["lockouts_total"] = fake.lockouts

    idle, during, bulk = results["idle"], results["during_full_sync"], results["bulk"]
    passed = {
        "idle median <= 2 s": idle["median_seconds"] <= 2.0,
        "idle p95 <= 5 s": idle["p95_seconds"] <= 5.0,
        "during a full sync p95 <= 5 s": during["p95_seconds"] <= 5.0,
        "full sync >= 95% of (500 - writes) records/s": during["share_of_ceiling"] >= 0.95,
        "bulk 500 rows <= 55 requests": bulk["requests"] <= 55 and bulk["written"] == BULK,
        "bulk 500 rows <= 12 s": bulk["seconds"] <= 12.0,
        "no lockout": results["lockouts_total"] == 0,
    }
    print(json.dumps(results, indent=2))
    for name, ok in passed.items():
        print(f"  {'pass' if ok else 'MISS'}  {name}")
    out = ROOT / "bench" / "results" / f"writeback-{engine}.json"
    out.write_text(
        json.dumps(
            {
                "database": engine,
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "redis": bool(os.environ.get("REDIS_URL")),
                "records": RECORDS,
                "requests_per_second": settings.AIRTABLE_REQUESTS_PER_SECOND,
                **results,
                "passed": passed,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
