"""A fleet of organizations on scheduled syncs: 4 Celery workers, per-base limits in Redis.

    DATABASE_URL=postgres://.../EMPTY_DB REDIS_URL=redis://.../N uv run python bench/fleet.py
    FLEET_ORGS=20 FLEET_SECONDS=60 ...                     # a quick look
    FLEET_ORGS=200 FLEET_BIG_RECORDS=20000 FLEET_SECONDS=600 ...   # bigger

FLEET_ORGS organizations (200) each connect 1-3 bases (FLEET_BASES_PER_ORG=1,3) on one fake
Airtable (devtools.fakeairtable, in its own process) with its rate limit ON: 5 requests/s per
base, a 6th within a second is a 429 and a 30 s lockout. Every base is small (FLEET_SMALL=80,300
records, laid out like tests/sync/airtable_base.py: people, pathways, objectives, key results,
projects, tasks, linked) except FLEET_BIG_COUNT (2) big ones of FLEET_BIG_RECORDS (5000).

Real processes throughout: FLEET_WORKERS (4) `celery -A missionos worker` processes, each with
FLEET_POOL=threads x FLEET_CONCURRENCY (4) (FLEET_POOL=solo: one run per process), one `celery
beat` on django-celery-beat's DatabaseScheduler, Redis as the broker and as the rate limiter
every worker shares (sync.airtable.ratelimit.shared_rate_limiter at
AIRTABLE_REQUESTS_PER_SECOND). A run spends most of its time waiting for its base's next slot
(5 requests/s): one run per process leaves the fleet's throughput at about 4 x 4.9 requests/s,
whatever the CPUs could do; threads let a process wait on several bases at once.

1. onboarding: every connection's first full sync queued at once (sync.execute_run), measured
   until the last ends: records/s and runs/min of the fleet, the longest wait in the queue.
2. scheduled: each connection's incremental schedule (sync.services.schedule, then compressed
   to FLEET_INTERVAL=60,120 seconds, drawn per connection; the product's minimum is 5 minutes)
   with due times spread over the first interval, beat and the workers running for
   FLEET_SECONDS (180), while FLEET_CHANGES_PER_SECOND (20) task records, in random bases,
   are edited as a person would. Each due time whose interval ended inside the window is a
   slot: its lateness is the first run started in [due, due + interval) minus due; a slot with
   no run started in it is missed. Reported: max and p95 lateness (small and big bases apart),
   missed slots, runs/min and records/s, and the 429s and lockouts the fake counted (target: none).

The change feed (webhooks, polled every AIRTABLE_FEED_POLL_SECONDS) is off unless FLEET_FEED=1:
the tokens lack webhook:manage, so each connection syncs by its schedule alone.

Targets: no missed slot, lateness p95 <= 10% of the shortest interval, zero 429s and lockouts.
Prints a table and saves bench/results/fleet-<database>.json. The machine is shared: figures are
noisy; what counts is missed slots and 429s, not the exact seconds.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pair(name: str, default: str) -> tuple[int, int]:
    low, high = (int(part) for part in os.environ.get(name, default).split(","))
    return low, high


ORGS = int(os.environ.get("FLEET_ORGS", "200"))
BASES_PER_ORG = _pair("FLEET_BASES_PER_ORG", "1,3")
SMALL_RECORDS = _pair("FLEET_SMALL", "80,300")
BIG_COUNT = int(os.environ.get("FLEET_BIG_COUNT", "2"))
BIG_RECORDS = int(os.environ.get("FLEET_BIG_RECORDS", "5000"))
INTERVAL = _pair("FLEET_INTERVAL", "60,120")
SECONDS = float(os.environ.get("FLEET_SECONDS", "180"))
CHANGES_PER_SECOND = float(os.environ.get("FLEET_CHANGES_PER_SECOND", "20"))
WORKERS = int(os.environ.get("FLEET_WORKERS", "4"))
POOL = os.environ.get("FLEET_POOL", "threads")
CONCURRENCY = int(os.environ.get("FLEET_CONCURRENCY", "4"))
FEED = os.environ.get("FLEET_FEED", "") not in ("", "0")
ONBOARD_TIMEOUT = float(os.environ.get("FLEET_ONBOARD_TIMEOUT", "900"))
SEED = int(os.environ.get("FLEET_SEED", "15"))
TARGETS = {"missed_slots": 0, "lateness_p95_vs_interval": 0.10, "rate_limited": 0, "lockouts": 0}

# -- the fake Airtable, in its own process ------------------------------------------------------


def _base_id(index: int) -> str:
    return f"appFLEET{index:09d}"


def _token(org_index: int) -> str:
    return f"patFleet{org_index:05d}.0123456789abcdefXYZ"


def build_fleet_base(fake, base_id: str, token: str, records: int, seed: int) -> list[str]:
    """tests/sync/airtable_base.py's layout (its 17 seed records) topped up to `records`:
    projects ~15%, tasks the rest, linked to the seed people, pathways and objectives."""
    from tests.sync import airtable_base as layout

    rng = random.Random(seed)
    ids = layout.build_base(fake, projects=0, tasks_per_project=0, base_id=base_id, token=token)
    base = fake.bases[base_id]
    extra = max(0, records - sum(len(v) for v in ids.values()))
    project_count = max(1, round(extra * 0.15))
    projects = base.table(layout.T_PROJECTS).create_many(
        {
            "fldJNAME00000001": f"Project {i} of {base_id}",
            "fldJPATHWAY00001": [rng.choice(ids["pathways"])],
            "fldJOBJECTIVES01": [rng.choice(ids["objectives"])],
            "fldJOWNER0000001": [rng.choice(ids["people"])],
            "fldJSTATUS000001": rng.choice(("Not started", "In progress", "Done")),
            "fldJSTART0000001": "2026-10-01",
            "fldJEND000000001": "2026-12-31",
        }
        for i in range(project_count)
    )
    tasks = base.table(layout.T_TASKS).create_many(
        {
            "fldTNAME00000001": f"Task {i}",
            "fldTPROJECT00001": [rng.choice(projects)],
            "fldTASSIGNEE0001": [rng.choice(ids["people"])],
            "fldTSTATUS000001": rng.choice(("To do", "Doing", "Blocked", "Done")),
            "fldTDUE000000001": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        for i in range(extra - project_count)
    )
    for table in base.tables:
        table.ordered_records()  # sorted once, not on a run's clock
    return tasks


def fake_process(pipe) -> None:
    from devtools.fakeairtable import FakeAirtable
    from devtools.fakeairtable.model import ALL_SCOPES

    fake = FakeAirtable(rate_limit=5.0, lockout_seconds=30.0, seed=SEED)
    scopes = ALL_SCOPES if FEED else ALL_SCOPES - {"webhook:manage"}
    tasks: dict[str, list[str]] = {}
    rng = random.Random(SEED)
    while True:
        command, argument = pipe.recv()
        if command == "build":
            fake.clock = lambda: time.time() - 3600  # an hour ago: outside incremental overlap
            for base_id, token, records, seed in argument:
                tasks[base_id] = build_fleet_base(fake, base_id, token, records, seed)
                fake.set_token_scopes(token, scopes)
            fake.clock = time.time
            pipe.send({"url": fake.start()})
        elif command == "touch":  # edit `argument` task records in random bases, now
            from tests.sync.airtable_base import T_TASKS

            for _ in range(argument):
                base_id = rng.choice(list(tasks))
                record_id = rng.choice(tasks[base_id])
                table = fake.bases[base_id].table(T_TASKS)
                name = table.get(record_id).fields["fldTNAME00000001"]
                table.update(record_id, {"fldTNAME00000001": name + " (edited)"})
            pipe.send(argument)
        elif command == "stats":
            with fake._log_lock:
                requests = list(fake.requests)
            by_base: dict[str, list[float]] = {}
            for request in requests:
                if request.base_id:
                    by_base.setdefault(request.base_id, []).append(request.time)
            tightest = [
                times[i + 5] - times[i] for times in by_base.values() for i in range(len(times) - 5)
            ]
            pipe.send(
                {
                    "requests": len(requests),
                    "rate_limited": sum(1 for r in requests if r.status == 429),
                    "lockouts": fake.lockouts,
                    "tightest_six_seconds": round(min(tightest), 4) if tightest else None,
                }
            )
        elif command == "reset":
            fake.reset_log()
            pipe.send(None)
        elif command == "stop":
            fake.stop()
            pipe.send(None)
            return


class FakeServer:
    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=fake_process, args=(child,), daemon=True)
        self.process.start()

    def call(self, command: str, argument=None):
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.call("stop")
        self.process.join(timeout=10)


# -- the fleet ----------------------------------------------------------------------------------


def plan_fleet(rng: random.Random) -> list[dict]:
    """Per base: its org, id, token and size; BIG_COUNT of them big, in different orgs."""
    bases = []
    for org_index in range(ORGS):
        for _ in range(rng.randint(*BASES_PER_ORG)):
            bases.append(
                {
                    "org": org_index,
                    "base_id": _base_id(len(bases)),
                    "token": _token(org_index),
                    "records": rng.randint(*SMALL_RECORDS),
                    "big": False,
                    "interval": rng.randint(*INTERVAL),
                }
            )
    for base in rng.sample(bases, min(BIG_COUNT, len(bases))):
        base["records"], base["big"] = BIG_RECORDS, True
    return bases


def process_env(url: str) -> dict:
    return {
        **os.environ,
        "AIRTABLE_API_URL": url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "missionos.settings",
    }


def start_workers(env: dict, log_dir: Path) -> list[subprocess.Popen]:
    workers = []
    for index in range(WORKERS):
        log = open(log_dir / f"worker-{index}.log", "w")  # noqa: SIM115 (closed with the process)
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "missionos",
                    "worker",
                    f"--pool={POOL}",
                    *([f"--concurrency={CONCURRENCY}"] if POOL != "solo" else []),
                    "-n",
                    f"fleet{index}@%h",
                    "--without-heartbeat",
                    "--without-mingle",
                    "--without-gossip",
                    "-l",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def start_beat(env: dict, log_dir: Path) -> subprocess.Popen:
    log = open(log_dir / "beat.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "missionos", "beat", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 2)


def _ended_runs(run_ids: list[int]) -> int:
    from sync.models import RunStatus, SyncRun

    return (
        SyncRun.objects.unscoped()
        .filter(pk__in=run_ids, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED])
        .count()
    )


def onboard(connections: list) -> dict:
    """Every connection's first full sync queued at once, to the end."""
    from django.utils import timezone

    from sync import services
    from sync.models import RunKind, RunStatus, SyncRun
    from sync.tasks import execute_run

    queued_at = timezone.now()
    started = time.monotonic()
    run_ids = []
    for connection in connections:
        run = services.run_request(connection=connection, kind=RunKind.FULL)
        execute_run.delay(run.pk)
        run_ids.append(run.pk)
    while _ended_runs(run_ids) < len(run_ids):
        if time.monotonic() - started > ONBOARD_TIMEOUT:
            raise SystemExit(f"onboarding did not finish in {ONBOARD_TIMEOUT:.0f} s")
        time.sleep(1)
    seconds = time.monotonic() - started
    runs = list(SyncRun.objects.unscoped().filter(pk__in=run_ids))
    failed = [
        f"{run.connection_id}: {run.error}" for run in runs if run.status != RunStatus.SUCCEEDED
    ]
    waits = [(run.started_at - queued_at).total_seconds() for run in runs if run.started_at]
    pulled = sum(run.pulled for run in runs)
    return {
        "runs": len(runs),
        "failed": len(failed),
        "failures": failed[:5],
        "seconds": round(seconds, 1),
        "records": pulled,
        "requests": sum(run.requests for run in runs),
        "records_per_second": round(pulled / seconds),
        "runs_per_minute": round(len(runs) / seconds * 60, 1),
        "queue_wait_max_seconds": round(max(waits), 1) if waits else None,
        "longest_run_seconds": round(
            max((run.finished_at - run.started_at).total_seconds() for run in runs), 1
        ),
    }


def schedule(connections: list, bases: dict) -> tuple[datetime.datetime, dict[int, dict]]:
    """The product's schedule for every connection (incremental only), compressed to seconds,
    with the first due times spread over each connection's first interval."""
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    from sync.models import RunKind
    from sync.services.schedule import _schedule_name, schedule_set

    rng = random.Random(SEED)
    for connection in connections:
        schedule_set(connection=connection, incremental_every_minutes=5, full_at_hour=None)
    # Due times from here on (beat takes a few seconds to start): none already past.
    now = timezone.now() + datetime.timedelta(seconds=15)
    plan = {}
    for connection in connections:
        base = bases[connection.base_id]
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=base["interval"], period=IntervalSchedule.SECONDS
        )
        first_due = now + datetime.timedelta(seconds=rng.uniform(0, base["interval"]))
        # Beat's next due time is last_run_at + the interval.
        PeriodicTask.objects.filter(name=_schedule_name(connection, RunKind.INCREMENTAL)).update(
            interval=interval,
            last_run_at=first_due - datetime.timedelta(seconds=base["interval"]),
        )
        plan[connection.pk] = {"first_due": first_due, "interval": base["interval"], **base}
    PeriodicTasks.update_changed()
    return now, plan


def lateness(plan: dict[int, dict], window_end: datetime.datetime) -> dict:
    from sync.models import RunKind, SyncRun

    starts: dict[int, list[datetime.datetime]] = {}
    runs = SyncRun.objects.unscoped().filter(
        connection_id__in=list(plan), kind__in=[RunKind.INCREMENTAL, RunKind.FULL]
    )
    first_due = min(entry["first_due"] for entry in plan.values())
    for connection_id, started_at in runs.filter(started_at__gte=first_due).values_list(
        "connection_id", "started_at"
    ):
        starts.setdefault(connection_id, []).append(started_at)
    late = {"small": [], "big": []}
    missed = {"small": 0, "big": 0}
    missed_examples = []
    for connection_id, entry in plan.items():
        interval = datetime.timedelta(seconds=entry["interval"])
        due = entry["first_due"]
        mine = sorted(starts.get(connection_id, []))
        size = "big" if entry["big"] else "small"
        while due + interval <= window_end:
            inside = [s for s in mine if due <= s < due + interval]
            if inside:
                late[size].append((inside[0] - due).total_seconds())
            else:
                missed[size] += 1
                if len(missed_examples) < 5:
                    missed_examples.append(f"connection {connection_id} due {due:%H:%M:%S}")
            due += interval
    every = late["small"] + late["big"]
    return {
        "slots": len(every) + missed["small"] + missed["big"],
        "missed_slots": missed["small"] + missed["big"],
        "missed_by_size": missed,
        "missed_examples": missed_examples,
        "lateness_max_seconds": round(max(every), 2) if every else None,
        "lateness_p95_seconds": _pct(every, 0.95),
        "lateness_p50_seconds": _pct(every, 0.50),
        "small_lateness_max_seconds": round(max(late["small"]), 2) if late["small"] else None,
        "small_lateness_p95_seconds": _pct(late["small"], 0.95),
        "big_lateness_max_seconds": round(max(late["big"]), 2) if late["big"] else None,
    }


def scheduled_window(plan, env, log_dir, fake) -> dict:
    from django.utils import timezone

    from sync.models import RunKind, RunStatus, SyncRun

    beat = start_beat(env, log_dir)
    window_start = timezone.now()
    started = time.monotonic()
    edited = 0
    try:
        while time.monotonic() - started < SECONDS:
            time.sleep(2)
            due = int((time.monotonic() - started) * CHANGES_PER_SECOND) - edited
            if due > 0:
                edited += fake.call("touch", due)
    finally:
        stop([beat])
    window_end = timezone.now()
    # Let the runs beat queued inside the window end (their starts were inside it).
    deadline = time.monotonic() + 120
    active = SyncRun.objects.unscoped().filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
    while active.exists() and time.monotonic() < deadline:
        time.sleep(1)
    runs = list(
        SyncRun.objects.unscoped().filter(
            started_at__gte=window_start,
            started_at__lt=window_end,
            kind__in=[RunKind.INCREMENTAL, RunKind.FULL],
        )
    )
    seconds = (window_end - window_start).total_seconds()
    durations = [
        (run.finished_at - run.started_at).total_seconds() for run in runs if run.finished_at
    ]
    pulled = sum(run.pulled for run in runs)
    return {
        "seconds": round(seconds, 1),
        "runs": len(runs),
        "failed": sum(1 for run in runs if run.status == RunStatus.FAILED),
        "failures": [run.error for run in runs if run.status == RunStatus.FAILED][:5],
        "still_active_after_window": active.count(),
        "records_edited_in_airtable": edited,
        "records": pulled,
        "requests": sum(run.requests for run in runs),
        "records_per_second": round(pulled / seconds, 1),
        "runs_per_minute": round(len(runs) / seconds * 60, 1),
        "run_seconds_p50": _pct(durations, 0.5),
        "run_seconds_max": round(max(durations), 2) if durations else None,
        **lateness(plan, window_end),
    }


def main() -> None:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-fleet-throwaway-key-not-for-production-use")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith(
        "postgres"
    ):
        raise SystemExit("bench/fleet.py needs DATABASE_URL (an EMPTY Postgres DB) and REDIS_URL")
    rng = random.Random(SEED)
    bases = plan_fleet(rng)
    print(
        f"fleet: {ORGS} organizations, {len(bases)} bases "
        f"({sum(b['records'] for b in bases):,} records), {WORKERS} workers ({POOL}"
        f"{'' if POOL == 'solo' else f' x{CONCURRENCY}'}), intervals {INTERVAL[0]}-{INTERVAL[1]} s",
        flush=True,
    )
    fake = FakeServer()
    workers: list[subprocess.Popen] = []
    try:
        built = fake.call(
            "build",
            [(b["base_id"], b["token"], b["records"], SEED + i) for i, b in enumerate(bases)],
        )
        os.environ["AIRTABLE_API_URL"] = built["url"]
        import django

        django.setup()
        import redis
        from django.conf import settings
        from django.core.management import call_command

        from orgs.models import Organization
        from sync import services

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # this bench's own Redis db
        if Organization.objects.exists() if _migrated() else False:
            raise SystemExit("bench/fleet.py needs an empty database (organizations exist)")
        call_command("migrate", verbosity=0)
        from django_celery_beat.models import PeriodicTask

        # The product's own beat entries stay (feed poll, push_due); the nightly full runs off.
        started = time.monotonic()
        organizations = [
            Organization.objects.create(name=f"Fleet org {i}", slug=f"fleet-{i}")
            for i in range(ORGS)
        ]

        def connect(base: dict):
            from django.db import connection as db

            try:
                return services.connection_create(
                    organization=organizations[base["org"]],
                    name=f"Base {base['base_id']}",
                    base_id=base["base_id"],
                    token=base["token"],
                )
            finally:
                db.close()

        # Connecting reads each base's schema (paced per base): four at a time.
        with ThreadPoolExecutor(4) as pool:
            connections = list(pool.map(connect, bases))
        # Connecting schedules the product defaults (hourly, nightly): off until phase 2.
        PeriodicTask.objects.filter(name__startswith="sync:").exclude(
            name__startswith="sync:feed"
        ).exclude(name__startswith="sync:push").update(enabled=False)
        setup_seconds = time.monotonic() - started
        print(f"connected {len(connections)} bases in {setup_seconds:.0f} s", flush=True)

        log_dir = ROOT / "bench" / "results" / "fleet-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = process_env(built["url"])
        workers = start_workers(env, log_dir)
        fake.call("reset")
        onboarding = onboard(connections)
        onboarding_fake = fake.call("stats")
        print(f"onboarding: {json.dumps(onboarding)}", flush=True)

        fake.call("reset")
        by_base = {b["base_id"]: b for b in bases}
        _now, plan = schedule(connections, by_base)
        scheduled = scheduled_window(plan, env, log_dir, fake)
        scheduled_fake = fake.call("stats")
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    finally:
        stop(workers)
        fake.stop()

    shortest = INTERVAL[0]
    p95 = scheduled["lateness_p95_seconds"] or 0.0
    rate_limited = onboarding_fake["rate_limited"] + scheduled_fake["rate_limited"]
    lockouts = onboarding_fake["lockouts"] + scheduled_fake["lockouts"]
    results = {
        "fleet": {
            "organizations": ORGS,
            "bases": len(bases),
            "big_bases": BIG_COUNT,
            "big_records": BIG_RECORDS,
            "small_records": list(SMALL_RECORDS),
            "records": sum(b["records"] for b in bases),
            "workers": WORKERS,
            "pool": POOL,
            "concurrency": CONCURRENCY,
            "intervals_seconds": list(INTERVAL),
            "window_seconds": SECONDS,
            "feed": FEED,
            "requests_per_second_per_base": float(
                os.environ.get("AIRTABLE_REQUESTS_PER_SECOND", "4.9")
            ),
            "cpus": os.cpu_count(),
        },
        "setup_seconds": round(setup_seconds, 1),
        "onboarding": {**onboarding, "fake": onboarding_fake},
        "scheduled": {**scheduled, "fake": scheduled_fake},
        "targets": {
            "missed_slots": {"target": 0, "value": scheduled["missed_slots"]},
            "lateness_p95_vs_interval": {
                "target": TARGETS["lateness_p95_vs_interval"],
                "value": round(p95 / shortest, 3),
            },
            "rate_limited": {"target": 0, "value": rate_limited},
            "lockouts": {"target": 0, "value": lockouts},
        },
    }
    for target in results["targets"].values():
        target["pass"] = target["value"] <= target["target"]
    print_table(results)
    out = ROOT / "bench" / "results" / f"fleet-{database}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"saved {out.relative_to(ROOT)}")


def _migrated() -> bool:
    from django.db import connection

    return "orgs_organization" in connection.introspection.table_names()


def print_table(results: dict) -> None:
    onboarding, scheduled = results["onboarding"], results["scheduled"]
    rows = [
        ("onboarding: runs / failed", f"{onboarding['runs']} / {onboarding['failed']}"),
        ("onboarding: seconds", onboarding["seconds"]),
        ("onboarding: records/s", onboarding["records_per_second"]),
        ("onboarding: runs/min", onboarding["runs_per_minute"]),
        ("onboarding: longest queue wait s", onboarding["queue_wait_max_seconds"]),
        ("onboarding: longest run s", onboarding["longest_run_seconds"]),
        ("scheduled: window s", scheduled["seconds"]),
        ("scheduled: runs / failed", f"{scheduled['runs']} / {scheduled['failed']}"),
        ("scheduled: runs/min", scheduled["runs_per_minute"]),
        ("scheduled: records/s", scheduled["records_per_second"]),
        ("scheduled: slots / missed", f"{scheduled['slots']} / {scheduled['missed_slots']}"),
        (
            "scheduled: lateness p50 / p95 / max s",
            "{} / {} / {}".format(
                scheduled["lateness_p50_seconds"],
                scheduled["lateness_p95_seconds"],
                scheduled["lateness_max_seconds"],
            ),
        ),
        (
            "scheduled: small bases p95 / max s",
            "{} / {}".format(
                scheduled["small_lateness_p95_seconds"], scheduled["small_lateness_max_seconds"]
            ),
        ),
        (
            "scheduled: run s p50 / max",
            f"{scheduled['run_seconds_p50']} / {scheduled['run_seconds_max']}",
        ),
        (
            "fake: 429s / lockouts",
            "{} / {}".format(
                onboarding["fake"]["rate_limited"] + scheduled["fake"]["rate_limited"],
                onboarding["fake"]["lockouts"] + scheduled["fake"]["lockouts"],
            ),
        ),
        ("fake: tightest six requests s", scheduled["fake"]["tightest_six_seconds"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for name, target in results["targets"].items():
        print(
            f"target {name}: {target['value']} (<= {target['target']}) "
            f"{'PASS' if target['pass'] else 'FAIL'}"
        )


if __name__ == "__main__":
    main()
