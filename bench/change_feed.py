"""The change feed's speed: an Airtable edit until the row is updated and the live event sent.

    uv run python bench/change_feed.py                              # a throwaway SQLite file
    DATABASE_URL=postgres://.../empty_db REDIS_URL=redis://127.0.0.1:6379/N \\
        uv run python bench/change_feed.py
    BENCH_EDITS=30 uv run python bench/change_feed.py

Everything goes through the real pyairtable client over HTTP to the fake Airtable
(devtools.fakeairtable) on 127.0.0.1, with its rate limit on (5 requests/s, 30 s lockout) and the
sync's own pacing (shared_rate_limiter at AIRTABLE_REQUESTS_PER_SECOND). The base is
tests/sync/airtable_base.py's, synced in full first. An edit is a person's edit in the fake
(a task's title), made at a random moment; it is done when the live event (missionos.events:
what an open dashboard hears before fetching its fragments again) is sent after the batch's
commit, and the row is then checked to hold the new title.

1. Polling (AIRTABLE_FEED_POLL_SECONDS, 5 s; no public URL): a loop calls the poll task's
   service on the beat's schedule, as beat + worker do (the broker hop is left out: under a
   millisecond on Redis). BENCH_EDITS (20) edits, each at a random phase of the poll interval.
   Target: p95 <= 7 s.
2. Pings (AIRTABLE_WEBHOOK_URL set): the Django app served by a threaded WSGI server on
   127.0.0.1, the hook recreated with that notification URL, a Celery worker in this process
   (celery.contrib.testing, the configured broker) running the poll task the ping endpoint
   queues; no polling loop. BENCH_EDITS edits. Target: p95 <= 2 s.
3. Idle: BENCH_IDLE_POLLS (20) polls with nothing changed: requests per poll (target: exactly 1)
   and the change-feed runs recorded (target: none).

Prints a table and saves every figure with each target's pass/fail to
bench/results/change-feed-<database>.json.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITS = int(os.environ.get("BENCH_EDITS", "20"))
IDLE_POLLS = int(os.environ.get("BENCH_IDLE_POLLS", "20"))
POLL_SECONDS = float(os.environ.get("AIRTABLE_FEED_POLL_SECONDS", "5"))
TARGETS = {"polling_p95_seconds": 7.0, "pings_p95_seconds": 2.0, "idle_requests_per_poll": 1}
EDIT_TIMEOUT = 30.0


def setup_django() -> str:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-change-feed-throwaway-key-not-for-production")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    # Airtable reaches production through its TLS proxy; here the pings come over plain HTTP.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["AIRTABLE_FEED_POLL_SECONDS"] = str(POLL_SECONDS)
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="bench-change-feed-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from orgs.models import Organization

    if Organization.objects.exists():
        raise SystemExit("bench/change_feed.py needs an empty database (DATABASE_URL).")
    return connection.vendor


class EventLog:
    """Every live event this process sends (missionos.events._send, after commit), timed."""

    def __init__(self) -> None:
        from missionos import events

        self.condition = threading.Condition()
        self.sent: list[tuple[float, int, str]] = []
        original = events._send

        def send(organization_id: int, kind: str) -> None:
            original(organization_id, kind)
            with self.condition:
                self.sent.append((time.monotonic(), organization_id, kind))
                self.condition.notify_all()

        events._send = send

    def wait_after(self, moment: float, kind: str, timeout: float) -> float | None:
        """The time of the first event of that kind sent after `moment`."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for when, _org, sent_kind in self.sent:
                    if when >= moment and sent_kind == kind:
                        return when
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.condition.wait(left)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(latencies: list[float]) -> dict:
    return {
        "edits": len(latencies),
        "median_seconds": round(statistics.median(latencies), 3),
        "p95_seconds": round(percentile(latencies, 0.95), 3),
        "max_seconds": round(max(latencies), 3),
    }


def measure_edits(fake, org, log: EventLog, label: str, spread: float) -> list[float]:
    from okrs.models import Task
    from tests.sync.airtable_base import BASE_ID, T_TASKS

    tasks = fake.base(BASE_ID).table(T_TASKS)
    record_ids = fake.ids["tasks"]
    rng = random.Random(label)
    latencies = []
    for number in range(EDITS):
        time.sleep(rng.uniform(0, spread))  # a random phase of the poll interval
        record_id = rng.choice(record_ids)
        title = f"{label} edit {number}"
        edited = time.monotonic()
        tasks.update(record_id, {"fldTNAME00000001": title})
        done = log.wait_after(edited, "plan", EDIT_TIMEOUT)
        if done is None:
            results = [h.last_notification_result for h in fake.webhooks.for_base(BASE_ID)]
            raise SystemExit(
                f"{label}: edit {number} did not arrive within {EDIT_TIMEOUT} s (pings: {results})"
            )
        row = Task.objects.for_org(org).get(source_record_id=record_id)
        if row.title != title:
            raise SystemExit(f"{label}: the row says {row.title!r}, not {title!r}")
        latencies.append(done - edited)
        print(f"  {label} edit {number + 1}/{EDITS}: {done - edited:.2f} s", flush=True)
    return latencies


def bench_polling(fake, org, connection, log: EventLog) -> dict:
    from sync import services

    stop = threading.Event()

    def beat() -> None:  # what the beat's tick + a worker's poll task do
        while not stop.is_set():
            started = time.monotonic()
            for connection_id in services.feed_poll_due():
                services.feed_poll(connection_id=connection_id)
            stop.wait(max(0.0, POLL_SECONDS - (time.monotonic() - started)))

    thread = threading.Thread(target=beat, name="bench-beat", daemon=True)
    thread.start()
    try:
        latencies = measure_edits(fake, org, log, "polling", POLL_SECONDS)
    finally:
        stop.set()
        thread.join()
    return summary(latencies)


def serve_django() -> tuple[str, object]:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application

    class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="bench-web", daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def bench_pings(fake, org, connection, log: EventLog) -> dict:
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from missionos.celery import app
    from sync import services

    url, server = serve_django()
    settings.AIRTABLE_WEBHOOK_URL = url
    outcome = services.feed_ensure(connection=connection)  # a new hook, pinging this server
    if outcome.gap_run_id is not None:
        services.run_execute(run_id=outcome.gap_run_id)
    if outcome.feed.notification_url != url + "/sync/airtable/notify/":
        raise SystemExit(f"the hook was not recreated with the URL: {outcome.feed.message}")
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        try:
            latencies = measure_edits(fake, org, log, "pings", 1.0)
        finally:
            server.shutdown()
    return summary(latencies)


def bench_idle(fake, connection) -> dict:
    from sync import services
    from sync.models import RunKind, SyncRun
    from tests.sync.airtable_base import BASE_ID

    before = SyncRun.objects.unscoped().filter(kind=RunKind.CHANGES).count()
    fake.reset_log()
    requests = 0
    for _ in range(IDLE_POLLS):
        requests += services.feed_poll(connection_id=connection.pk).requests
    after = SyncRun.objects.unscoped().filter(kind=RunKind.CHANGES).count()
    return {
        "polls": IDLE_POLLS,
        "requests_per_poll": requests / IDLE_POLLS,
        "requests_seen_by_airtable_per_poll": fake.request_count(BASE_ID) / IDLE_POLLS,
        "runs_recorded": after - before,
    }


def main() -> None:
    engine = setup_django()
    from django.conf import settings

    from devtools.fakeairtable import FakeAirtable
    from orgs.models import Organization
    from sync import services
    from sync.models import FeedState, RunKind
    from tests.sync.airtable_base import BASE_ID, TOKEN, build_base

    with FakeAirtable(rate_limit=5.0, seed=3) as fake:
        settings.AIRTABLE_API_URL = fake.url
        fake.ids = build_base(fake)
        org = Organization.objects.create(name="Bench", slug="bench-feed")
        connection = services.connection_create(
            organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
        )  # no transaction open: the feed is set up at once, as after a connect's commit
        run = services.run_request(connection=connection, kind=RunKind.FULL)
        services.run_execute(run_id=run.pk)
        feed = services.feed_ensure(connection=connection).feed
        if feed.state != FeedState.ACTIVE:
            raise SystemExit(f"the feed is {feed.state}: {feed.message}")
        log = EventLog()
        print(f"polling every {POLL_SECONDS:g} s, {EDITS} edits", flush=True)
        polling = bench_polling(fake, org, connection, log)
        idle = bench_idle(fake, connection)
        print(f"pings, {EDITS} edits", flush=True)
        pings = bench_pings(fake, org, connection, log)
        lockouts = fake.lockouts

    passed = {
        "polling p95 <= 7 s": polling["p95_seconds"] <= TARGETS["polling_p95_seconds"],
        "pings p95 <= 2 s": pings["p95_seconds"] <= TARGETS["pings_p95_seconds"],
        "idle poll = 1 request": idle["requests_per_poll"] == 1
        and idle["requests_seen_by_airtable_per_poll"] == 1,
        "idle polls record no run": idle["runs_recorded"] == 0,
        "no rate-limit lockout": lockouts == 0,
    }
    print(f"\n{'':10} {'median':>8} {'p95':>8} {'max':>8}")
    for name, figures in (("polling", polling), ("pings", pings)):
        print(
            f"{name:10} {figures['median_seconds']:>7.2f}s {figures['p95_seconds']:>7.2f}s "
            f"{figures['max_seconds']:>7.2f}s"
        )
    print(f"idle: {idle['requests_per_poll']:g} request(s) per poll, {idle['runs_recorded']} runs")
    for name, ok in passed.items():
        print(f"  {'pass' if ok else 'MISS'}  {name}")
    out = ROOT / "bench" / "results" / f"change-feed-{engine}.json"
    out.write_text(
        json.dumps(
            {
                "database": engine,
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "redis": bool(os.environ.get("REDIS_URL")),
                "poll_seconds": POLL_SECONDS,
                "requests_per_second": settings.AIRTABLE_REQUESTS_PER_SECOND,
                "targets": TARGETS,
                "polling": polling,
                "pings": pings,
                "idle": idle,
                "lockouts": lockouts,
                "passed": passed,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nsaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
