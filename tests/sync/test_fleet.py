"""Many connections syncing side by side (what bench/fleet.py runs with real workers).

Found by the fleet benchmark: an organization with two bases that list the same team, synced
at the same time by two workers, lost one run to the unique constraint on a person's email
(each run had read who holds which email before the other wrote its people). Needs Postgres:
the two runs are two threads with their own database connections, as two workers would be.
"""

from __future__ import annotations

import contextlib
import os
import threading

import pytest

from devtools.fakeairtable import FakeAirtable
from orgs.models import Person
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import RunKind, RunStatus, SyncRun
from sync.reconcile.reconciler import Reconciler
from tests.sync.airtable_base import T_PEOPLE, TOKEN, build_base

needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="two runs at once need Postgres (CI sets DATABASE_URL)",
)

BASES = ("appFLEETTEST00001", "appFLEETTEST00002")


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_bases_of_one_organization_with_the_same_team_sync_at_the_same_time(
    org, settings, monkeypatch
):
    with FakeAirtable(rate_limit=None, seed=4) as fake:
        settings.AIRTABLE_API_URL = fake.url
        for base_id in BASES:
            build_base(fake, base_id=base_id, token=TOKEN)  # the same three people in each
        connections = [
            services.connection_create(organization=org, name=base_id, base_id=base_id, token=TOKEN)
            for base_id in BASES
        ]
        runs = [services.run_request(connection=c, kind=RunKind.FULL) for c in connections]

        # Both runs reach their people table together, as two workers did in the benchmark.
        # With the fix the second waits for the first's lock: the first then stops waiting.
        together = threading.Barrier(2, timeout=3)
        apply_page = Reconciler.apply_page

        def apply_page_together(self, entity, table, records):
            if table.id == T_PEOPLE:
                with contextlib.suppress(threading.BrokenBarrierError):
                    together.wait()
            return apply_page(self, entity, table, records)

        monkeypatch.setattr(Reconciler, "apply_page", apply_page_together)
        errors: list[BaseException] = []

        def execute(run_id: int) -> None:
            from django.db import connection as db

            try:
                services.run_execute(
                    run_id=run_id, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter()
                )
            except BaseException as error:  # a crashed run re-raises after failing itself
                errors.append(error)
            finally:
                db.close()

        threads = [threading.Thread(target=execute, args=(run.pk,)) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    ended = {run.status: run.error for run in SyncRun.objects.for_org(org)}
    assert not errors and set(ended) == {RunStatus.SUCCEEDED}, ended
    # One person per email: the second base's copies are kept without it, as the run says.
    people = Person.objects.for_org(org, include_archived=True)
    emails = [p.email.lower() for p in people if p.email]
    assert sorted(emails) == sorted(set(emails)) and len(set(emails)) == 3


@pytest.mark.django_db
def test_connecting_works_when_two_connects_at_once_left_twin_schedule_rows(org, fake):
    """Found by bench/fleet.py connecting four bases at a time: two saves at once each created
    the shared hourly IntervalSchedule (beat's tables have no unique constraint), and every
    connect after that failed on get_or_create's MultipleObjectsReturned."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    from tests.sync.airtable_base import BASE_ID

    for _ in range(2):
        IntervalSchedule.objects.create(every=60, period=IntervalSchedule.MINUTES)
        CrontabSchedule.objects.create(minute="0", hour="2", timezone="UTC")
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )
    assert services.connection_schedule_state(connection=connection) == {
        "incremental_every_minutes": 60,
        "full_at_hour": 2,
    }
    oldest = IntervalSchedule.objects.order_by("pk").first()
    assert PeriodicTask.objects.get(name=f"sync:{connection.pk}:incremental").interval == oldest
