"""Page latency at the reference organization's size and at 10x and 100x.

    uv run python bench/pages.py                       # a throwaway SQLite file
    DATABASE_URL=postgres://... uv run python bench/pages.py   # an EMPTY throwaway Postgres DB

Builds one organization per size (44, 440 and 4,400 projects, five tasks each, objectives, key
results and check-ins around them), renders each page through Django's test client (in-process:
templates, queries and middleware, no network), and prints and saves median and p95 latency and
the query count to bench/results/pages-<database>.json. Timings, not assertions: the suite pins
query counts; this file shows what they cost.
"""

from __future__ import annotations

import json
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

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from orgs.models import Membership, Organization, Role  # noqa: E402
from tests.builders import build_organization  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "44,440,4400").split(","))
REPEATS = 30


def pages(slug: str, objects: dict) -> dict[str, str]:
    return {
        "dashboard": reverse("org_home", args=[slug]),
        "project list": reverse("project_list", args=[slug]),
        "project search": reverse("project_list", args=[slug]) + "?q=projct+12",
        "objective": reverse("objective_detail", args=[slug, objects["objective"].pk]),
        "pathway": reverse("pathway_detail", args=[slug, objects["pathway"].pk]),
        "project": reverse("project_detail", args=[slug, objects["project"].pk]),
    }


def measure(client: Client, url: str) -> dict:
    client.get(url)  # warm caches and the session
    reset_queries()  # with DEBUG on the log is a capped deque: a full one would count 0
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
        "queries": len(queries),
    }


def main() -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    if Organization.objects.exists():
        sys.exit("bench/pages.py needs an empty database: point DATABASE_URL at a throwaway one.")
    engine = connection.vendor
    user = UserFactory(username="bench")
    client = Client()
    client.force_login(user)
    results: dict[str, dict] = {}
    for size in SIZES:
        organization = Organization.objects.create(name=f"Bench {size}", slug=f"bench-{size}")
        Membership.objects.create(user=user, organization=organization, role=Role.OWNER)
        started = time.perf_counter()
        objects = build_organization(organization, size)
        if engine == "postgresql":
            # Fresh bulk loads have no planner statistics yet; autovacuum would gather them.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        built = time.perf_counter() - started
        print(f"{size} projects built in {built:.1f}s")
        results[str(size)] = {
            name: measure(client, url) for name, url in pages(organization.slug, objects).items()
        }

    def cell(figures: dict) -> str:
        return f"{figures['median_ms']} / {figures['p95_ms']} ms ({figures['queries']}q)"

    print(f"\nPage latency on {engine}: median / p95, {REPEATS} requests each, in-process")
    print(f"{'page':<16}" + "".join(f"{f'{size} projects':>28}" for size in SIZES))
    for page in results[str(SIZES[0])]:
        print(f"{page:<16}" + "".join(f"{cell(results[str(s)][page]):>28}" for s in SIZES))

    out = ROOT / "bench" / "results" / f"pages-{engine}.json"
    out.write_text(
        json.dumps(
            {"database": engine, "repeats": REPEATS, "sizes": list(SIZES), "pages": results},
            indent=2,
        )
        + "\n"
    )
    print(f"\nsaved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
