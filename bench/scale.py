"""Pages flat in data size: each page at the demo's size and at 100x, side by side.

    uv run python bench/scale.py                               # a throwaway SQLite file
    DATABASE_URL=postgres://.../empty_db uv run python bench/scale.py   # an EMPTY Postgres DB

Builds two organizations with tests/builders.py: the reference size (44 projects, the demo's)
and 100x (4,400 projects, 22,000 tasks, 880 objectives, 2,816 key results), each key result
with BENCH_CHECKIN_WEEKS (18) weekly check-ins, then computes their data-health findings for
real (health.services.findings_compute). Renders each page in-process through Django's test
client (templates, queries, middleware; no network) with no cache (the dashboard is the computed
page, not the page cache's copy). The two sizes are measured interleaved, request by request
(BENCH_REPEATS, 40, of each), so that the shared machine's noise falls on both alike. Prints and
saves median, p95, the query count and the 100x / 1x ratio of p95s (goal: <= 2) to
bench/results/scale-<database>.json, with DEBUG off unless set. Timings, not assertions: the
suite pins query counts and (on Postgres) the plans (tests/okrs/test_scale_plans.py).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
# DEBUG off, as production runs (DEBUG logs every query and renders templates in debug mode).
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-scale-throwaway-key-not-for-production")
os.environ.pop("REDIS_URL", None)  # sessions in the database; the cache is switched off below

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from health.models import Finding  # noqa: E402
from health.services import findings_compute  # noqa: E402
from okrs.models import CheckIn, KeyResult, Objective, Project, Task  # noqa: E402
from orgs.models import Membership, Organization, Person, Role  # noqa: E402
from tests.builders import build_organization  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SIZES = (44, 4_400)
CHECKIN_WEEKS = int(os.environ.get("BENCH_CHECKIN_WEEKS", "18"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "40"))
GOAL = 2.0
NO_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def pages(slug: str) -> dict[str, str]:
    return {
        "dashboard": reverse("org_home", args=[slug]),
        "project list": reverse("project_list", args=[slug]),
        "objective list": reverse("objective_list", args=[slug]),
        "key result list": reverse("key_result_list", args=[slug]),
        "check-in list": reverse("check_in_list", args=[slug]),
        "task list": reverse("task_list", args=[slug]),
        "overdue tasks": reverse("overdue_task_list", args=[slug]),
        "data health": reverse("health_page", args=[slug]),
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def cell(figures: dict) -> str:
    return f"{figures['median_ms']} / {figures['p95_ms']} ({figures['queries']}q)"


def build(size: int) -> tuple[Organization, dict]:
    started = time.perf_counter()
    with transaction.atomic():
        organization = Organization.objects.create(name=f"Bench {size}", slug=f"bench-{size}")
        build_organization(organization, size)
        # The builder gives each key result four weekly check-ins: add the rest.
        now = timezone.now()
        key_result_ids = KeyResult.objects.for_org(organization).values_list("pk", flat=True)
        CheckIn.objects.bulk_create(
            (
                CheckIn(
                    organization=organization,
                    key_result_id=key_result_id,
                    value=week * 5,
                    confidence=5,
                    checked_in_at=now - datetime.timedelta(weeks=week),
                )
                for key_result_id in key_result_ids
                for week in range(4, CHECKIN_WEEKS)
            ),
            batch_size=5_000,
        )
    built = time.perf_counter() - started
    started = time.perf_counter()
    findings_compute(organization=organization)
    computed = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # planner statistics, as autovacuum would gather
            cursor.execute("ANALYZE")
    rows = {
        model.__name__: model.objects.for_org(organization).count()
        for model in (Person, Objective, KeyResult, CheckIn, Project, Task, Finding)
    }
    rows["total"] = sum(rows.values())
    print(f"{size} projects: built in {built:.1f}s, findings in {computed:.1f}s, {rows}")
    return organization, rows


def main() -> None:
    # The pages' static files as they are, without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    if Organization.objects.exists():
        sys.exit("bench/scale.py needs an empty database: point DATABASE_URL at a throwaway one.")
    engine = connection.vendor
    user = UserFactory(username="bench")
    client = Client()
    client.force_login(user)
    built = {}
    for size in SIZES:
        organization, rows = build(size)
        Membership.objects.create(user=user, organization=organization, role=Role.OWNER)
        built[size] = (pages(organization.slug), rows)

    results: dict[str, dict] = {}
    with override_settings(CACHES=NO_CACHE):
        for page in built[SIZES[0]][0]:
            samples: dict[int, list[float]] = {size: [] for size in SIZES}
            queries: dict[int, int] = {}
            for size in SIZES:
                url = built[size][0][page]
                client.get(url, secure=True)  # warm up (HTTPS: DEBUG off redirects)
                reset_queries()
                with CaptureQueriesContext(connection) as captured:
                    assert client.get(url, secure=True).status_code == 200, url
                queries[size] = len(captured)
            for _ in range(REPEATS):
                for size in SIZES:
                    started = time.perf_counter()
                    client.get(built[size][0][page], secure=True)
                    samples[size].append((time.perf_counter() - started) * 1000)
            figures = {
                str(size): {
                    "median_ms": round(statistics.median(samples[size]), 1),
                    "p95_ms": round(p95(samples[size]), 1),
                    "queries": queries[size],
                }
                for size in SIZES
            }
            small, large = (figures[str(size)]["p95_ms"] for size in SIZES)
            ratio = round(large / small, 2)
            results[page] = {**figures, "p95_ratio": ratio, "goal_met": ratio <= GOAL}
            print(
                f"{page:<16} {figures[str(SIZES[0])]} {figures[str(SIZES[1])]} {ratio}x",
                flush=True,
            )

    print(f"\nPages on {engine}: median / p95 ms (queries), {REPEATS} interleaved requests each")
    print(f"{'page':<16}{'44 projects':>24}{'4,400 projects':>24}{'p95 ratio':>12}")
    for page, figures in results.items():
        cells = "".join(f"{cell(figures[str(size)]):>24}" for size in SIZES)
        mark = "" if figures["goal_met"] else "  (goal <= 2x missed)"
        print(f"{page:<16}{cells}{figures['p95_ratio']:>11}x{mark}")

    out = ROOT / "bench" / "results" / f"scale-{engine}.json"
    out.write_text(
        json.dumps(
            {
                "database": engine,
                "repeats": REPEATS,
                "check_in_weeks": CHECKIN_WEEKS,
                "goal_p95_ratio": GOAL,
                "rows": {str(size): built[size][1] for size in SIZES},
                "pages": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nsaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
