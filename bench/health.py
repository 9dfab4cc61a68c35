"""Data health's speed: computing the findings of a big organization.

    DATABASE_URL=postgres://.../empty_db uv run python bench/health.py
    BENCH_RECORDS=100000 uv run python bench/health.py          # a throwaway SQLite file

Builds a base of BENCH_RECORDS records in the fake Airtable (bench/sync.py's realistic layout:
people, pathways, objectives, key results, projects, tasks, all linked), syncs it for real (no
rate limit), then computes the findings in a fresh process (so its peak memory is its own):
the first computation (every finding new), a second one (nothing changed), and the refresh a
change-feed batch of five records triggers (its rows' findings only), each timed, with the
process's peak RSS. Saves the figures to bench/results/health-<database>.json.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORDS = int(os.environ.get("BENCH_RECORDS", "100000"))


def setup_django() -> str:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-health-throwaway-key-not-for-production")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def compute(slug: str) -> None:
    """Child process: compute twice, print one JSON line."""
    setup_django()
    from health import services
    from orgs.models import Organization

    organization = Organization.objects.get(slug=slug)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {}
    for name in ("first", "again"):
        started = time.perf_counter()
        report = services.findings_compute(organization=organization)
        figures[name] = {
            "seconds": round(time.perf_counter() - started, 2),
            "new": report.new,
            "still_open": report.still_open,
            "resolved": report.resolved,
            "score": report.snapshot.score,
        }
    # What a change-feed batch of a few records costs: those rows' findings only.
    from okrs.models import Task

    batch = set(Task.objects.for_org(organization).order_by("pk").values_list("pk", flat=True)[:5])
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        services.findings_compute(organization=organization, scope={"task": batch})
        timings.append(time.perf_counter() - started)
    figures["feed_batch_refresh"] = {
        "rows": len(batch),
        "median_seconds": round(sorted(timings)[len(timings) // 2], 3),
        "max_seconds": round(max(timings), 3),
    }
    figures["counts"] = report.snapshot.counts
    figures["baseline_rss_mb"] = round(rss_before, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(figures))


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="bench-health-")
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    engine = setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.sync import build_bench_base
    from devtools.fakeairtable import FakeAirtable
    from orgs.models import Organization
    from sync import services
    from sync.airtable.ratelimit import NoRateLimiter
    from sync.models import RunKind
    from tests.sync.airtable_base import BASE_ID, TOKEN

    with FakeAirtable(rate_limit=None, seed=7) as fake:
        settings.AIRTABLE_API_URL = fake.url
        print(f"building a base of {RECORDS} records", flush=True)
        build_bench_base(fake, RECORDS, seed=7)
        fake.clock = time.time
        slug = f"bench-health-{int(time.time())}"
        org = Organization.objects.create(name="Bench", slug=slug)
        connection = services.connection_create(
            organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
        )
        print("syncing it", flush=True)
        started = time.perf_counter()
        run = services.run_request(connection=connection, kind=RunKind.FULL)
        services.run_execute(run_id=run.pk, limiter=NoRateLimiter())
        sync_seconds = time.perf_counter() - started
    print(f"synced in {sync_seconds:.1f}s; computing the findings", flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--compute", slug],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    results = {
        "database": engine,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "records": RECORDS,
        "sync_seconds": round(sync_seconds, 1),
        **figures,
    }
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results" / f"health-{engine}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--compute":
        compute(sys.argv[2])
    else:
        main()
