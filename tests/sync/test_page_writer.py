"""Pages written in a thread while the next is converted (sync.reconcile.writer), on Postgres
outside a transaction: the same rows as writing each page at once, and a page whose write fails
fails the run, loses no page written before it and archives nothing."""

from __future__ import annotations

import pytest
from django.db import connection as django_connection
from django.db import transaction

from okrs.models import Task
from sync import services
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import RunKind, RunStatus, SyncIssue
from sync.reconcile import reconciler as reconciler_module
from sync.reconcile.writer import PageWriter
from tests.factories import OrganizationFactory
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN
from tests.sync.test_sync import FAST, snapshot

pytestmark = pytest.mark.django_db(transaction=True)


def run_sync(connection, kind=RunKind.FULL):
    run = services.run_request(connection=connection, kind=kind)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    return run


def issues_of(org) -> list[tuple]:
    return sorted(
        SyncIssue.objects.for_org(org).values_list("kind", "record_id", "field_id", "reason")
    )


@pytest.fixture
def many_tasks(fake):
    """Pages enough (4 of tasks) that writes and conversions overlap, with a problem or two."""
    fake.bases[BASE_ID].table(T_TASKS).create_many(
        [
            {"fldTNAME00000001": f"Extra {i}", "fldTSTATUS000001": "Maybe" if i % 50 else "Done"}
            for i in range(320)
        ]
    )


def test_threaded_writes_give_the_rows_and_issues_of_writes_made_at_once(
    connection, org, many_tasks
):
    if django_connection.vendor != "postgresql":
        assert not PageWriter.threaded().is_threaded  # SQLite: one writer, at once
        return
    assert PageWriter.threaded().is_threaded  # what run_execute uses here
    other_org = OrganizationFactory(name="Borealis Labs", slug="borealis")
    other = services.connection_create(
        organization=other_org, name="Same base", base_id=BASE_ID, token=TOKEN
    )

    threaded = run_sync(connection)
    with transaction.atomic():  # inside a transaction each page is written at once
        assert not PageWriter.threaded().is_threaded
        at_once = run_sync(other)

    assert threaded.status == at_once.status == RunStatus.SUCCEEDED, threaded.error
    assert (threaded.created, threaded.issue_count) == (at_once.created, at_once.issue_count)
    assert snapshot(org) == snapshot(other_org)
    assert issues_of(org) == issues_of(other_org) and issues_of(org)
    # And again, unchanged: nothing to write, the same problems standing.
    again = run_sync(connection)
    assert (again.created, again.updated, again.issue_count) == (0, 0, threaded.issue_count)
    assert issues_of(org) == issues_of(other_org)


def test_a_page_whose_write_fails_fails_the_run_and_loses_nothing_written_before(
    connection, org, fake, many_tasks, monkeypatch
):
    gone = fake.ids["tasks"][0]
    assert run_sync(connection).status == RunStatus.SUCCEEDED
    fake.bases[BASE_ID].table(T_TASKS).delete(gone)  # a full run that completes archives it
    fake.bases[BASE_ID].table(T_TASKS).create_many(
        [{"fldTNAME00000001": f"Later {i}"} for i in range(250)]
    )
    save_rows = reconciler_module.save_rows
    calls = []

    def fail_the_second_page_of_new_tasks(model, rows, fields):
        if model is Task and any(row.title.startswith("Later") for row in rows):
            calls.append(len(rows))
            if len(calls) == 2:
                raise RuntimeError("the database went away")
        save_rows(model, rows, fields)

    monkeypatch.setattr(reconciler_module, "save_rows", fail_the_second_page_of_new_tasks)
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    with pytest.raises(RuntimeError, match="went away"):
        services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Internal error: RuntimeError: the database went away" in run.error
    later = Task.objects.for_org(org).filter(title__startswith="Later")
    assert later.count() == calls[0]  # the page written before the failure is kept ...
    assert Task.objects.for_org(org).filter(source_record_id=gone).exists()  # ... none archived

    monkeypatch.setattr(reconciler_module, "save_rows", save_rows)
    again = run_sync(connection)
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert later.count() == 250
    assert not Task.objects.for_org(org).filter(source_record_id=gone).exists()
