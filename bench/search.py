"""Search latency at 2,000 and 20,000 projects (and the other kinds around them), typo'd queries.

    uv run python bench/search.py                               # a throwaway SQLite file
    DATABASE_URL=postgres://... uv run python bench/search.py   # an EMPTY throwaway Postgres DB
    BENCH_SIZES=20000 uv run python bench/search.py             # one size only

Builds one organization per size in BENCH_SIZES, side by side in the same tables (bulk inserts,
seeded names from a small vocabulary the way real plans repeat words): that many projects, as
many tasks, a tenth as many objectives, a fifth as many key results, a quarter as many check-in
notes, 500 people, 8 pathways. Times, for each of the typo'd and pasted queries below and each
size in turn (interleaved, so a burst of load on the machine hits both), the organization-wide
search (okrs.selectors.search), the project list's search (its first page, as the page reads
it) and the whole search page through Django's test client; prints and saves median and p95,
overall and per query, to bench/results/search-<database>.json. DEBUG is off unless set.
Timings, not assertions (the suite pins query counts, plans and the ranking).
"""

from __future__ import annotations

import json
import os
import random
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
# DEBUG off, as production runs (DEBUG logs every query's SQL with its values).
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-search-throwaway-key-not-for-production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from okrs import selectors  # noqa: E402
from okrs.models import CheckIn, KeyResult, Objective, Pathway, Project, Task  # noqa: E402
from orgs.models import Membership, Organization, Person, Role  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "2000,20000").split(",")]
REPEATS = int(os.environ.get("BENCH_REPEATS", "11"))
SEED = 20260115

VERBS = [
    "Improve",
    "Reduce",
    "Launch",
    "Open",
    "Hire",
    "Grow",
    "Ship",
    "Build",
    "Migrate",
    "Redesign",
    "Automate",
    "Pilot",
]
THINGS = [
    "customer onboarding",
    "billing system",
    "pricing page",
    "support backlog",
    "hiring process",
    "data warehouse",
    "mobile app",
    "partner program",
    "release process",
    "design system",
    "cloud spend",
    "checkout flow",
    "new-starter onboarding",
    "office move",
    "budget forecast",
    "feedback survey",
    "website",
]
PLACES = ["north", "south", "east", "west", "central", "clinic", "warehouse", "hq"]
FIRST = [
    "Priya",
    "Jo",
    "Marcus",
    "Zoë",
    "Amara",
    "Liam",
    "Sofia",
    "Noah",
    "Mia",
    "Omar",
    "Chen",
    "Ana",
]
LAST = [
    "Patel",
    "Smith",
    "O'Neill",
    "Ångström",
    "Okafor",
    "Garcia",
    "Nguyen",
    "Müller",
    "Rossi",
    "Kim",
]
QUERIES = [
    "onbaording",
    "hi, any news on the new-starter onbaording thing??",
    "biling sytem north",
    "websit redesgn",
    "pricng page",
    "budget forcast hq",
    "priya patel",
    "migrate data warehous",
    "  CHECKOUT   flow!! ",
    "zoe angstrom",
]


def name(rng: random.Random, i: int) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(THINGS)} {rng.choice(PLACES)} {i}"


def build(org: Organization, n: int) -> None:
    rng = random.Random(SEED)
    pathways = Pathway.objects.bulk_create(
        Pathway(organization=org, name=f"Pathway {p}", position=p) for p in range(8)
    )
    people = Person.objects.bulk_create(
        Person(organization=org, name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}")
        for i in range(500)
    )
    objectives = Objective.objects.bulk_create(
        Objective(
            organization=org,
            pathway=rng.choice(pathways),
            owner=rng.choice(people),
            title=name(rng, i),
        )
        for i in range(max(n // 10, 1))
    )
    key_results = KeyResult.objects.bulk_create(
        KeyResult(
            organization=org,
            objective=rng.choice(objectives),
            owner=rng.choice(people),
            title=name(rng, i),
            target_value=100,
        )
        for i in range(max(n // 5, 1))
    )
    projects = Project.objects.bulk_create(
        (
            Project(
                organization=org,
                pathway=rng.choice(pathways),
                owner=rng.choice(people),
                name=name(rng, i),
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    Task.objects.bulk_create(
        (
            Task(
                organization=org,
                project=rng.choice(projects),
                assignee=rng.choice(people),
                title=name(rng, i),
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    CheckIn.objects.bulk_create(
        (
            CheckIn(
                organization=org,
                key_result=rng.choice(key_results),
                value=1,
                note=f"{name(rng, i)} is on track, waiting for the {rng.choice(THINGS)}",
            )
            for i in range(max(n // 4, 1))
        ),
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(run, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock milliseconds of REPEATS runs (after a warm one); with `cpu`, this process's
    CPU milliseconds too (what the load of other processes on the machine inflates least)."""
    run()  # warm
    samples = []
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - started_cpu) * 1000)
    return samples


def summary(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[max(int(len(samples) * 0.95) - 1, 0)], 2),
        "max_ms": round(samples[-1], 2),
        "samples": len(samples),
    }


def records(n: int) -> dict:
    return {
        "projects": n,
        "objectives": max(n // 10, 1),
        "key_results": max(n // 5, 1),
        "tasks": n,
        "check_ins": max(n // 4, 1),
        "people": 500,
    }


def main() -> None:
    # The page's static files as they are, without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    if Organization.objects.exists():
        sys.exit("bench/search.py needs an empty database: it builds its own organizations")
    user = UserFactory(username="bench")
    client = Client()
    client.force_login(user)
    orgs, built_s = {}, {}
    for n in SIZES:
        org = Organization.objects.create(name=f"Bench {n}", slug=f"bench-{n}")
        Membership.objects.create(user=user, organization=org, role=Role.VIEWER)
        started = time.perf_counter()
        build(org, n)
        built_s[n] = round(time.perf_counter() - started, 1)
        orgs[n] = org

    measured = {
        n: {"engine": [], "engine_cpu": [], "list": [], "page": [], "per_query": {}} for n in SIZES
    }
    for query in QUERIES:
        for n, org in orgs.items():  # each query at every size in turn: the same load on both
            into = measured[n]
            samples = timed(
                lambda q=query, o=org: selectors.search_organization(organization=o, query=q),
                cpu=into["engine_cpu"],
            )
            into["engine"] += samples
            results = selectors.search_organization(organization=org, query=query)
            filters = selectors.ProjectFilters(query=query)
            listed = timed(
                lambda f=filters, o=org: list(
                    selectors.page_of(selectors.project_rows(organization=o, filters=f), 1, 50)
                )
            )
            into["list"] += listed
            url = reverse("search", args=[org.slug])
            shown = client.get(url, {"q": query}, secure=True)  # HTTPS, as DEBUG off wants
            assert shown.status_code == 200, (url, shown.status_code)
            into["page"] += timed(lambda q=query, u=url: client.get(u, {"q": q}, secure=True))
            into["per_query"][query] = {
                "search p95_ms": summary(samples)["p95_ms"],
                "project list p95_ms": summary(listed)["p95_ms"],
                "first": {g.kind.name: g.hits[0].name for g in results.groups},
            }
    report = {
        "database": connection.vendor,
        "sizes": {
            str(n): {
                "records": records(n),
                "build_seconds": built_s[n],
                "search (okrs.selectors.search)": summary(measured[n]["engine"]),
                "search, this process's CPU only": summary(measured[n]["engine_cpu"]),
                "project list search (first page)": summary(measured[n]["list"]),
                "search page (test client)": summary(measured[n]["page"]),
                "per_query": measured[n]["per_query"],
            }
            for n in SIZES
        },
        "note": "shared 2-core machine with other engineers' work running: timings are noisy; "
        "the sizes are measured interleaved, query by query",
    }
    if len(SIZES) > 1:
        small, large = str(min(SIZES)), str(max(SIZES))
        report["p95 ratio, largest over smallest"] = {
            what: round(
                report["sizes"][large][what]["p95_ms"] / report["sizes"][small][what]["p95_ms"], 2
            )
            for what in (
                "search (okrs.selectors.search)",
                "project list search (first page)",
                "search page (test client)",
            )
        }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    out = ROOT / "bench" / "results" / f"search-{connection.vendor}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
