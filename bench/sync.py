"""Airtable sync throughput and memory: 1k, 10k and 100k record bases, and the paced pull.

    uv run python bench/sync.py                                  # a throwaway SQLite file
    DATABASE_URL=postgres://... uv run python bench/sync.py      # an EMPTY throwaway Postgres DB
    BENCH_SIZES=1000,10000 BENCH_PACED_RECORDS=5000 uv run python bench/sync.py

Everything goes through the real pyairtable client over HTTP to the fake Airtable
(devtools.fakeairtable) on 127.0.0.1. Each base is laid out like tests/sync/airtable_base.py and
filled with the fake's bulk `create_many`: people ~2%, six pathways, objectives ~3%, key results
~8%, projects ~15%, tasks the rest, linked (task -> project and assignee; project -> pathway,
objectives and owner; key result -> objective; objective -> pathway and owner). The records are
dated an hour back so incremental runs (5-minute overlap) see only what the bench changes.

Per size, with the fake's rate limit off and NoRateLimiter():
  floor        a bare pyairtable pull of every table (`Api(...).table(...).all()`, by field id
               as the sync asks), median of 3
  full         run_request(FULL) + run_execute into an empty organization
  unchanged    a second full run over the unchanged base (must create and update nothing)
  incremental  after 1% of the records (tasks) changed
Then, with the fake's limit on (5 requests/s, 30 s lockout) and the sync's own pacing
(shared_rate_limiter: Redis when REDIS_URL is set, else in-process, at
AIRTABLE_REQUESTS_PER_SECOND = 4.9 by default): a full sync of BENCH_PACED_RECORDS (default
20000; 0 skips it), against Airtable's 500 records/s ceiling (5 requests of 100 records). The fake
reports the closest any six requests to the base came (under 1 s would be a lockout).

Isolation: the fake runs in its own process (it holds the whole base), and every step runs in a
fresh Python process, so its peak RSS (ru_maxrss) is its own: reported as the absolute peak and
as the growth over the process's baseline (Django set up, the connection made, just before the
run), and with what a Celery worker has loaded before its first sync (`_as_a_worker`: the task
modules and the broker connection). Workers run with DEBUG off (DEBUG keeps every query's SQL,
which is not what production pays). Nothing runs ANALYZE unless BENCH_ANALYZE=1 (Postgres: after
each sync, outside the timings, as autovacuum would between scheduled runs; saved as
sync-postgresql-analyzed.json).
BENCH_PROFILE=1 profiles each sync step with cProfile and prints its top functions;
BENCH_QUERIES=1 prints each step's SQL (its timings then include Django's query logging);
BENCH_PYSPY=1 samples the sync steps with py-spy (when installed; every thread, little
overhead) into /tmp/bench-sync-<step>-<size>.pyspy.txt, collapsed stacks;
BENCH_WRITE_AT_ONCE=1 writes each page before converting the next (no writer thread).

Targets (issue 15, "sync near the pull floor"; the issue's size is 100,000 records): full <= 3x the
floor; unchanged <= 1.5x the floor; incremental <= 0.03x full; full sync peak RSS at the largest
size <= 1.3x that at the smallest; paced >= 95% of 500 records/s, no lockout.
Prints a table and saves every figure with each target's pass/fail to
bench/results/sync-<database>.json (with BENCH_SIZES= empty, the paced run alone, to
bench/results/sync-<database>-paced.json).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = tuple(
    int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",") if s.strip()
)
PACED_RECORDS = int(os.environ.get("BENCH_PACED_RECORDS", "20000"))
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
ANALYZE = os.environ.get("BENCH_ANALYZE", "") not in ("", "0")
QUERIES = os.environ.get("BENCH_QUERIES", "") not in ("", "0")
PYSPY = os.environ.get("BENCH_PYSPY", "") not in ("", "0")
WRITE_AT_ONCE = os.environ.get("BENCH_WRITE_AT_ONCE", "") not in ("", "0")
FLOOR_REPEATS = 3
CHANGED_FRACTION = 0.01
CEILING_RECORDS_PER_SECOND = 500  # Airtable: 5 requests/s x 100 records a page
TARGETS = {
    "full_vs_floor": 3.0,  # at most
    "unchanged_vs_floor": 1.5,  # at most
    "incremental_vs_full": 0.03,  # at most
    "memory_largest_vs_smallest": 1.3,  # at most
    "paced_vs_ceiling": 0.95,  # at least
}

# -- the base, built in the fake's process ----------------------------------------------------

ROLES = ("Lead", "Analyst", "Engineer", "Designer", "Coordinator", "Director")
VERBS = ("Launch", "Improve", "Reduce", "Migrate", "Hire", "Review", "Pilot", "Expand", "Fix")
NOUNS = (
    "onboarding flow",
    "partner programme",
    "data pipeline",
    "field training",
    "support backlog",
    "regional office",
    "pricing page",
    "grant report",
    "volunteer rota",
    "clinic network",
)
PROJECT_STATUSES = ("Not started", "In progress", "Done", "done ", "Completed", "On hold")
TASK_STATUSES = ("To do", "Doing", "Blocked", "Done")


def plan(size: int) -> dict[str, int]:
    """How many records of each table a base of `size` records has."""
    counts = {
        "people": max(3, round(size * 0.02)),
        "pathways": 6,
        "objectives": max(4, round(size * 0.03)),
        "krs": max(8, round(size * 0.08)),
        "projects": max(1, round(size * 0.15)),
    }
    counts["tasks"] = size - sum(counts.values())
    if counts["tasks"] < 1:
        raise SystemExit(f"a base of {size} records is too small to lay out")
    return counts


def build_bench_base(fake, size: int, seed: int) -> dict:
    """The realistic layout of tests/sync/airtable_base.py (its seed records included), topped
    up with create_many to `size` records. Returns counts, table ids and expected links."""
    from tests.sync import airtable_base as layout

    counts = plan(size)
    rng = random.Random(seed)
    fake.clock = lambda: time.time() - 3600  # an hour ago: outside the incremental overlap
    ids = layout.build_base(fake, projects=0, tasks_per_project=0)
    base = fake.bases[layout.BASE_ID]

    def phrase(i: int) -> str:
        return f"{rng.choice(VERBS)} the {rng.choice(NOUNS)} #{i}"

    def month_day() -> tuple[int, int]:
        return rng.randint(1, 10), rng.randint(1, 28)

    people = ids["people"] + base.table(layout.T_PEOPLE).create_many(
        {
            "fldPNAME00000001": f"Person {i:06d}",
            "fldPEMAIL0000001": f"person{i}@northwind.example",
            "fldPACTIVE000001": rng.random() > 0.05,
            "fldPROLE00000001": rng.choice(ROLES),
        }
        for i in range(counts["people"] - len(ids["people"]))
    )
    pathways = ids["pathways"] + base.table(layout.T_PATHWAYS).create_many(
        {"fldWNAME00000001": name}
        for name in ("Growth", "Reach", "Operations", "People", "Finance", "Impact")[
            : counts["pathways"] - len(ids["pathways"])
        ]
    )
    objectives = ids["objectives"] + base.table(layout.T_OBJECTIVES).create_many(
        {
            "fldONAME00000001": f"Objective: {phrase(i)}",
            "fldOPATHWAY00001": [rng.choice(pathways)],
            "fldOOWNER0000001": [rng.choice(people)],
        }
        for i in range(counts["objectives"] - len(ids["objectives"]))
    )
    base.table(layout.T_KRS).create_many(
        {
            "fldKNAME00000001": f"KR: {phrase(i)}",
            "fldKOBJECTIVE001": [rng.choice(objectives)],
            "fldKSTART0000001": 0,
            "fldKCURRENT00001": rng.randint(0, 80),
            "fldKTARGET000001": rng.choice((50, 100, 250, 1000)),
        }
        for i in range(counts["krs"] - len(ids["krs"]))
    )
    project_rows = []
    for i in range(counts["projects"]):
        start, end = month_day(), month_day()
        start, end = min(start, end), max(start, end)
        project_rows.append(
            {
                "fldJNAME00000001": f"Project: {phrase(i)}",
                "fldJPATHWAY00001": [rng.choice(pathways)],
                "fldJOBJECTIVES01": rng.sample(objectives, rng.choice((1, 1, 2, 3))),
                "fldJOWNER0000001": [rng.choice(people)],
                "fldJSTATUS000001": rng.choice(PROJECT_STATUSES),
                "fldJSTART0000001": f"2026-{start[0]:02d}-{start[1]:02d}",
                "fldJEND000000001": f"2026-{end[0]:02d}-{end[1]:02d}",
                "fldJBUDGET000001": f"Budget line {i}\nFunded by the {rng.choice(NOUNS)} grant.",
            }
        )
    projects = base.table(layout.T_PROJECTS).create_many(project_rows)
    task_rows = []
    for i in range(counts["tasks"]):
        month, day = month_day()
        row = {
            "fldTNAME00000001": f"Task: {phrase(i)}",
            "fldTPROJECT00001": [rng.choice(projects)],
            "fldTSTATUS000001": rng.choices(TASK_STATUSES, weights=(4, 3, 1, 4))[0],
            "fldTDUE000000001": f"2026-{month:02d}-{day:02d}",
        }
        if rng.random() < 0.9:  # a tenth of the tasks are unassigned
            row["fldTASSIGNEE0001"] = [rng.choice(people)]
        task_rows.append(row)
    tasks = base.table(layout.T_TASKS).create_many(task_rows)
    fake.clock = time.time

    tables = {table.name: table for table in base.tables}
    for table in tables.values():
        table.ordered_records()  # the listing order is sorted once; not on anyone's clock
    return {
        "tasks": tasks,
        "info": {
            "base_id": layout.BASE_ID,
            "token": layout.TOKEN,
            "table_ids": [table.id for table in tables.values()],
            "records": {name: len(table) for name, table in tables.items()},
            "tasks_assigned": sum(1 for row in task_rows if "fldTASSIGNEE0001" in row),
            "project_objective_links": sum(len(row["fldJOBJECTIVES01"]) for row in project_rows),
        },
    }


def fake_process(pipe, rate_limit: float | None, lockout_seconds: float) -> None:
    """The fake Airtable's own process: builds a base, serves it, answers commands."""
    import resource

    from devtools.fakeairtable import FakeAirtable
    from tests.sync.airtable_base import BASE_ID, T_TASKS

    fake = FakeAirtable(rate_limit=rate_limit, lockout_seconds=lockout_seconds, seed=7)
    tasks: list[str] = []
    while True:
        command, argument = pipe.recv()
        if command == "build":
            built = build_bench_base(fake, argument, seed=argument)
            tasks = built["tasks"]
            pipe.send({**built["info"], "url": fake.start()})
        elif command == "update":  # change `argument` task records now
            table = fake.bases[BASE_ID].table(T_TASKS)
            rng = random.Random(len(tasks))
            for record_id in rng.sample(tasks, argument):
                record = table.get(record_id)
                status = record.fields.get("fldTSTATUS000001")
                table.update(
                    record_id,
                    {
                        "fldTNAME00000001": record.fields["fldTNAME00000001"] + " (edited)",
                        "fldTSTATUS000001": rng.choice([s for s in TASK_STATUSES if s != status]),
                    },
                )
            pipe.send(argument)
        elif command == "stats":
            pipe.send(
                {
                    "requests": fake.request_count(),
                    "rate_limited": sum(1 for r in fake.requests if r.status == 429),
                    "lockouts": fake.lockouts,
                    # The closest any 6 arrivals at one base came: under 1 s means a lockout.
                    "tightest_six_seconds": _tightest_six(fake.requests),
                    "arrival_span_seconds": round(fake.requests[-1].time - fake.requests[0].time, 3)
                    if fake.requests
                    else None,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            )
        elif command == "stop":
            fake.stop()
            pipe.send(None)
            return


def _tightest_six(requests: list) -> float | None:
    by_base: dict[str, list[float]] = {}
    for request in requests:
        if request.base_id:
            by_base.setdefault(request.base_id, []).append(request.time)
    spans = [times[i + 5] - times[i] for times in by_base.values() for i in range(len(times) - 5)]
    return round(min(spans), 4) if spans else None


class FakeServer:
    """Runs fake_process in a spawned process (its memory never counts against the sync)."""

    def __init__(self, *, rate_limit: float | None, lockout_seconds: float = 30.0) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(
            target=fake_process, args=(child, rate_limit, lockout_seconds), daemon=True
        )
        self.process.start()

    def call(self, command: str, argument=None):
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.call("stop")
        self.process.join(timeout=10)


# -- the steps, each in a fresh process ---------------------------------------------------------


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _profiled(label: str, function):
    if not PROFILE:
        return function()
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    result = profiler.runcall(function)
    path = Path(tempfile.gettempdir()) / f"bench-sync-{label}.pstats"
    profiler.dump_stats(path)
    print(f"\n-- profile of {label} ({path}) --", file=sys.stderr)
    stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
    stats.print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return result


def _as_a_worker() -> None:
    """What a Celery worker has done before it runs a sync task: its app and every task module
    loaded (at start), its broker connection open (since its first task). A fresh process would
    otherwise pay both inside the timed run, when its end enqueues health's recomputation: 0.5 s
    on this machine, whose PYTHONDONTWRITEBYTECODE=1 compiles every first import from source."""
    from missionos.celery import app

    app.loader.import_default_modules()
    app.finalize(auto=True)
    app.events.Dispatcher  # noqa: B018 (a worker's consumer sends its events through it)
    with app.producer_or_acquire() as producer:
        producer.connection.ensure_connection(max_retries=1)


def _run_sync(connection, kind, limiter, label: str) -> dict:
    from django.db import connection as db

    from sync import services
    from sync.models import RunStatus

    _as_a_worker()
    if WRITE_AT_ONCE:  # each page written before the next is converted, for comparison
        from sync.reconcile.writer import PageWriter

        PageWriter.threaded = classmethod(lambda cls: cls())

    def go():
        started, cpu_started = time.perf_counter(), time.process_time()
        run = services.run_request(connection=connection, kind=kind)
        services.run_execute(run_id=run.pk, limiter=limiter)
        return run, time.perf_counter() - started, time.process_time() - cpu_started

    baseline = _peak_mb()
    if QUERIES:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(db) as captured:
            run, seconds, cpu_seconds = _profiled(label, go)
        print(f"\n-- {len(captured)} queries of {label} --", file=sys.stderr)
        for query in captured:
            print(f"  {query['time']}  {query['sql'][:160]}", file=sys.stderr)
    else:
        run, seconds, cpu_seconds = _profiled(label, go)
    peak = _peak_mb()
    run.refresh_from_db()
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"{label}: the run {run.status}: {run.error}")
    if ANALYZE and db.vendor == "postgresql":
        with db.cursor() as cursor:  # what autovacuum does between two scheduled runs
            cursor.execute("ANALYZE")
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "records_per_second": round(run.pulled / seconds) if seconds else None,
        "kind": run.kind,
        "requests": run.requests,
        "pulled": run.pulled,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "archived": run.archived,
        "issues": run.issue_count,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_growth_mb": round(peak - baseline, 1),
    }


def _link_check(organization, job: dict) -> dict:
    """What the full run wrote, against what the base holds."""
    from okrs.models import KeyResult, Objective, Project, Task

    tasks = Task.objects.for_org(organization)
    projects = Project.objects.for_org(organization)
    found = {
        "tasks_with_project": tasks.filter(project__isnull=False).count(),
        "tasks_assigned": tasks.filter(assignee__isnull=False).count(),
        "project_objective_links": Project.objectives.through.objects.filter(
            project__in=projects
        ).count(),
        "projects_with_pathway_and_owner": projects.filter(
            pathway__isnull=False, owner__isnull=False
        ).count(),
        "key_results_with_objective": KeyResult.objects.for_org(organization)
        .filter(objective__isnull=False)
        .count(),
        "objectives_with_pathway_and_owner": Objective.objects.for_org(organization)
        .filter(pathway__isnull=False, owner__isnull=False)
        .count(),
    }
    records = job["records"]
    expected = {
        "tasks_with_project": records["Action Items"],
        "tasks_assigned": job["tasks_assigned"],
        "project_objective_links": job["project_objective_links"],
        "projects_with_pathway_and_owner": records["Initiatives"],
        "key_results_with_objective": records["Key Results"],
        "objectives_with_pathway_and_owner": records["Objectives"],
    }
    return {"found": found, "expected": expected, "ok": found == expected}


def step_prepare(job: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    tables = set(connection.introspection.table_names())
    for table in ("orgs_organization", "auth_user"):
        if table in tables:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                if cursor.fetchone()[0]:
                    raise SystemExit(
                        "bench/sync.py needs an empty database: point DATABASE_URL at a "
                        f"throwaway one ({table} has rows)."
                    )
    call_command("migrate", verbosity=0)
    from orgs.models import Organization

    assert not Organization.objects.exists() and not get_user_model().objects.exists()
    return {"database": connection.vendor}


def step_floor(job: dict) -> dict:
    from pyairtable import Api

    api = Api(job["token"], endpoint_url=job["url"], retry_strategy=False)
    baseline = _peak_mb()
    samples, cpu_samples = [], []
    for _ in range(FLOOR_REPEATS):
        started, cpu_started = time.perf_counter(), time.process_time()
        records = 0
        for table_id in job["table_ids"]:
            records += len(api.table(job["base_id"], table_id).all(use_field_ids=True))
        samples.append(time.perf_counter() - started)
        cpu_samples.append(time.process_time() - cpu_started)
    seconds = statistics.median(samples)
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(statistics.median(cpu_samples), 3),
        "samples": [round(s, 3) for s in samples],
        "records": records,
        "records_per_second": round(records / seconds),
        "peak_rss_mb": round(_peak_mb(), 1),
        "peak_growth_mb": round(_peak_mb() - baseline, 1),
    }


def step_full(job: dict) -> dict:
    from django.conf import settings

    from orgs.models import Organization
    from sync import services
    from sync.airtable.ratelimit import NoRateLimiter
    from sync.models import RunKind

    settings.AIRTABLE_API_URL = job["url"]
    organization = Organization.objects.create(
        name=f"Bench sync {job['label']}", slug=f"bench-sync-{job['label']}"
    )
    started = time.perf_counter()
    connection = services.connection_create(
        organization=organization, name="Bench base", base_id=job["base_id"], token=job["token"]
    )
    connect_seconds = time.perf_counter() - started
    result = _run_sync(connection, RunKind.FULL, NoRateLimiter(), f"full-{job['label']}")
    return {
        **result,
        "connect_seconds": round(connect_seconds, 3),
        "connection_id": connection.pk,
        "links": _link_check(organization, job),
    }


def step_again(job: dict, kind_name: str) -> dict:
    from django.conf import settings

    from sync.airtable.ratelimit import NoRateLimiter
    from sync.models import Connection, RunKind

    settings.AIRTABLE_API_URL = job["url"]
    connection = (
        Connection.objects.unscoped().select_related("organization").get(pk=job["connection_id"])
    )
    kind = RunKind.FULL if kind_name == "unchanged" else RunKind.INCREMENTAL
    return _run_sync(connection, kind, NoRateLimiter(), f"{kind_name}-{job['label']}")


def step_paced(job: dict) -> dict:
    from django.conf import settings

    from orgs.models import Organization
    from sync import services
    from sync.airtable.ratelimit import shared_rate_limiter
    from sync.models import RunKind

    settings.AIRTABLE_API_URL = job["url"]
    rate = settings.AIRTABLE_REQUESTS_PER_SECOND
    # What every worker of a deployment shares (Redis when REDIS_URL is set); the connection
    # read of the schema goes through the same one.
    limiter = shared_rate_limiter(rate)
    organization = Organization.objects.create(
        name=f"Bench sync {job['label']}", slug=f"bench-sync-{job['label']}"
    )
    connection = services.connection_create(
        organization=organization, name="Bench base", base_id=job["base_id"], token=job["token"]
    )
    result = _run_sync(connection, RunKind.FULL, limiter, job["label"])
    # A run of R requests evenly paced at `rate` cannot take less than (R - 1) / rate.
    paced_floor = (result["requests"] - 1) / rate
    return {
        **result,
        "limiter": type(limiter).__name__,
        "requests_per_second_paced": rate,
        "pacing_bound_seconds": round(paced_floor, 3),
        "pacing_bound_records_per_second": round(result["pulled"] / paced_floor),
    }


STEPS = {
    "prepare": step_prepare,
    "floor": step_floor,
    "full": step_full,
    "unchanged": lambda job: step_again(job, "unchanged"),
    "incremental": lambda job: step_again(job, "incremental"),
    "paced": step_paced,
}


def worker(step: str, job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-sync-throwaway-key-not-for-production-use")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    result = STEPS[step](job)
    Path(job_path).write_text(json.dumps(result))


def run_step(step: str, **job) -> dict:
    """Run a step in a fresh Python process; its result comes back through a JSON file."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
    try:
        command = [sys.executable, str(Path(__file__).resolve()), step, handle.name]
        if PYSPY and step in ("full", "unchanged", "incremental"):
            sampled = f"/tmp/bench-sync-{step}-{job.get('label', '')}.pyspy.txt"
            command = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", sampled, "--", *command]
        subprocess.run(command, check=True)
        return json.loads(Path(handle.name).read_text())
    finally:
        os.unlink(handle.name)


# -- the orchestration ------------------------------------------------------------------------


def bench_size(size: int) -> dict:
    fake = FakeServer(rate_limit=None)
    try:
        started = time.perf_counter()
        base = fake.call("build", size)
        print(f"\n{size:,} records {base['records']} built in {time.perf_counter() - started:.1f}s")
        job = {**base, "label": str(size)}

        def measured(step: str, **extra) -> dict:
            before = fake.call("stats")["requests"]
            result = run_step(step, **job, **extra)
            result["fake_requests"] = fake.call("stats")["requests"] - before
            print(f"  {step:<12} {result['seconds']:>8.2f}s  {_brief(result)}", flush=True)
            return result

        floor = measured("floor")
        floor["requests"] = floor["fake_requests"] // FLOOR_REPEATS
        full = measured("full")
        unchanged = measured("unchanged", connection_id=full["connection_id"])
        changed = fake.call("update", max(1, round(size * CHANGED_FRACTION)))
        incremental = measured("incremental", connection_id=full["connection_id"])
        fake_peak = fake.call("stats")["peak_rss_mb"]
    finally:
        fake.stop()
    checks = {
        "full_created_all": full["created"] == size and full["pulled"] == size,
        "full_links_resolved": full["links"]["ok"],
        "unchanged_wrote_nothing": (unchanged["created"], unchanged["updated"]) == (0, 0)
        and unchanged["archived"] == 0,
        "incremental_pulled_the_changes": incremental["kind"] == "incremental"
        and incremental["pulled"] == changed
        and incremental["updated"] == changed
        and incremental["created"] == 0,
    }
    ratios = {
        "full_vs_floor": round(full["seconds"] / floor["seconds"], 2),
        "unchanged_vs_floor": round(unchanged["seconds"] / floor["seconds"], 2),
        "incremental_vs_full": round(incremental["seconds"] / full["seconds"], 4),
    }
    print_ratios(size, ratios)
    return {
        "records": size,
        "tables": base["records"],
        "changed": changed,
        "fake_peak_rss_mb": round(fake_peak, 1),
        "floor": floor,
        "full": full,
        "unchanged": unchanged,
        "incremental": incremental,
        "ratios": ratios,
        "passed": {
            "full_vs_floor": ratios["full_vs_floor"] <= TARGETS["full_vs_floor"],
            "unchanged_vs_floor": ratios["unchanged_vs_floor"] <= TARGETS["unchanged_vs_floor"],
            "incremental_vs_full": ratios["incremental_vs_full"] <= TARGETS["incremental_vs_full"],
            **checks,
        },
    }


def bench_paced(records: int) -> dict:
    fake = FakeServer(rate_limit=5.0, lockout_seconds=30.0)
    try:
        base = fake.call("build", records)
        print(f"\npaced: {records:,} records, fake limited to 5 requests/s", flush=True)
        result = run_step("paced", **base, label=f"paced-{records}")
        stats = fake.call("stats")
    finally:
        fake.stop()
    share = result["records_per_second"] / CEILING_RECORDS_PER_SECOND
    return {
        **result,
        "records": records,
        "ceiling_records_per_second": CEILING_RECORDS_PER_SECOND,
        "vs_ceiling": round(share, 3),
        "vs_pacing_bound": round(
            result["records_per_second"] / result["pacing_bound_records_per_second"], 3
        ),
        "fake_requests": stats["requests"],
        "fake_rate_limited_429": stats["rate_limited"],
        "lockouts": stats["lockouts"],
        "tightest_six_seconds": stats["tightest_six_seconds"],
        "fake_arrival_span_seconds": stats["arrival_span_seconds"],
        "passed": {
            "paced_vs_ceiling": share >= TARGETS["paced_vs_ceiling"],
            "no_lockout": stats["lockouts"] == 0 and stats["rate_limited"] == 0,
            "full_created_all": result["created"] == records,
        },
    }


RATIO_LABELS = {
    "full_vs_floor": "full / floor",
    "unchanged_vs_floor": "unchanged / floor",
    "incremental_vs_full": "incremental / full",
}


def print_ratios(size: int, ratios: dict) -> None:
    """The issue's three ratios, each against its goal, on one line per size."""
    parts = [
        f"{RATIO_LABELS[key]} {ratios[key]:.3g} "
        f"({'ok' if ratios[key] <= TARGETS[key] else 'MISS'}, <= {TARGETS[key]:g})"
        for key in RATIO_LABELS
    ]
    print(f"  == {size:,} records: " + " | ".join(parts), flush=True)


def _brief(result: dict) -> str:
    if "pulled" not in result:
        return f"{result['records_per_second']:,} records/s"
    return (
        f"{result['records_per_second']:,} records/s, {result['requests']} requests, "
        f"created {result['created']}, updated {result['updated']}, "
        f"peak {result['peak_rss_mb']} MB (+{result['peak_growth_mb']})"
    )


def print_report(engine: str, sizes: dict, paced: dict | None, summary: dict) -> None:
    columns = list(sizes)
    width = 16

    def row(label: str, values: list[str]) -> None:
        print(f"{label:<30}" + "".join(f"{v:>{width}}" for v in values))

    def mark(ok: bool) -> str:
        return "ok" if ok else "MISS"

    if sizes:
        print(f"\nAirtable sync on {engine}: fake Airtable on 127.0.0.1, no rate limit")
        row("records", [f"{int(s):,}" for s in columns])
        for step, label in (
            ("floor", "pull floor (pyairtable)"),
            ("full", "full sync from empty"),
            ("unchanged", "full sync, unchanged base"),
            ("incremental", "incremental, 1% changed"),
        ):
            row(label + " s", [f"{sizes[s][step]['seconds']:.2f}" for s in columns])
            row("  records/s", [f"{sizes[s][step]['records_per_second']:,}" for s in columns])
            row("  CPU s, this process", [f"{sizes[s][step]['cpu_seconds']:.2f}" for s in columns])
            row("  requests", [str(sizes[s][step].get("requests", "-")) for s in columns])
            if step != "floor":
                row(
                    "  created / updated",
                    [f"{sizes[s][step]['created']} / {sizes[s][step]['updated']}" for s in columns],
                )
                row("  peak RSS MB", [f"{sizes[s][step]['peak_rss_mb']:.0f}" for s in columns])
                row(
                    "  growth over baseline MB",
                    [f"{sizes[s][step]['peak_growth_mb']:.1f}" for s in columns],
                )
        row("  pulled (incremental)", [str(sizes[s]["incremental"]["pulled"]) for s in columns])
        for key, label, fmt in (
            ("full_vs_floor", "full / floor (<= 3x)", "{:.2f}x"),
            ("unchanged_vs_floor", "unchanged / floor (<= 1.5x)", "{:.2f}x"),
            ("incremental_vs_full", "incremental / full (<= 0.03)", "{:.3f}"),
        ):
            row(
                label,
                [
                    f"{fmt.format(sizes[s]['ratios'][key])} {mark(sizes[s]['passed'][key])}"
                    for s in columns
                ],
            )
        checks = [k for k in sizes[columns[0]]["passed"] if k not in TARGETS]
        row(
            "correctness checks",
            [mark(all(sizes[s]["passed"][k] for k in checks)) for s in columns],
        )
    if paced:
        print(
            f"\nPaced full sync of {paced['records']:,} records: fake at 5 requests/s (30 s "
            f"lockout), {paced['limiter']} at {paced['requests_per_second_paced']}/s"
        )
        print(
            f"  {paced['seconds']:.2f}s, {paced['requests']} requests, "
            f"{paced['records_per_second']} records/s = {paced['vs_ceiling']:.1%} of "
            f"{CEILING_RECORDS_PER_SECOND}/s ({mark(paced['passed']['paced_vs_ceiling'])}, "
            f"target 95%); pacing alone allows {paced['pacing_bound_records_per_second']}/s "
            f"({paced['vs_pacing_bound']:.1%} of it reached); lockouts {paced['lockouts']}, "
            f"429s {paced['fake_rate_limited_429']} ({mark(paced['passed']['no_lockout'])})"
        )
    if sizes:
        print("\nThe issue's ratios (paired runs of one session):")
        for s in columns:
            print_ratios(int(s), sizes[s]["ratios"])
    print("\nTargets:")
    for name, ok in summary.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")


def main() -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    engine = run_step("prepare")["database"]
    sizes = {str(size): bench_size(size) for size in SIZES}
    paced = bench_paced(PACED_RECORDS) if PACED_RECORDS else None

    summary: dict[str, bool] = {}
    for size, result in sizes.items():
        for name, ok in result["passed"].items():
            summary[f"{name} @ {int(size):,}"] = ok
    memory = None
    if len(SIZES) > 1:
        smallest, largest = str(min(SIZES)), str(max(SIZES))
        memory = {
            "smallest": int(smallest),
            "largest": int(largest),
            "peak_rss_mb": [
                sizes[smallest]["full"]["peak_rss_mb"],
                sizes[largest]["full"]["peak_rss_mb"],
            ],
            "growth_mb": [
                sizes[smallest]["full"]["peak_growth_mb"],
                sizes[largest]["full"]["peak_growth_mb"],
            ],
        }
        memory["ratio"] = round(memory["peak_rss_mb"][1] / memory["peak_rss_mb"][0], 2)
        memory["passed"] = memory["ratio"] <= TARGETS["memory_largest_vs_smallest"]
        summary[
            f"full sync peak RSS {int(largest):,} / {int(smallest):,} = {memory['ratio']}x"
            " (<= 1.3x)"
        ] = memory["passed"]
    if paced:
        for name, ok in paced["passed"].items():
            summary[f"paced {name}"] = ok

    print_report(engine, sizes, paced, summary)
    suffix = "-analyzed" if ANALYZE and engine == "postgresql" else ""
    if not SIZES:  # the paced run alone: keep the last full results
        suffix = "-paced"
    out = ROOT / "bench" / "results" / f"sync-{engine}{suffix}.json"
    out.write_text(
        json.dumps(
            {
                "database": engine,
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "redis": bool(os.environ.get("REDIS_URL")),
                "analyze_between_runs": ANALYZE and engine == "postgresql",
                "sizes": list(SIZES),
                "targets": TARGETS,
                "results": sizes,
                "memory": memory,
                "paced": paced,
                "passed": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nsaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in STEPS:
        worker(sys.argv[1], sys.argv[2])
    else:
        main()
