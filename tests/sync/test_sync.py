"""The whole sync, end to end: the real pyairtable client over HTTP against the fake Airtable,
into the database, through the services that views, tasks and commands call."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from okrs.models import KeyResult, Objective, Pathway, Project, ProjectStatus, Task, TaskStatus
from orgs.models import Activity, Person
from sync import selectors, services
from sync.airtable.client import READ_AHEAD_PAGES, RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.forms import ScheduleForm
from sync.models import (
    SYNC_RUN_TARGET,
    Connection,
    PendingWrite,
    RunKind,
    RunStatus,
    SyncConflict,
    SyncIssue,
)
from sync.services import runs
from sync.services.locks import connection_lock
from tests.factories import OrganizationFactory, ProjectFactory
from tests.sync.airtable_base import (
    BASE_ID,
    T_OBJECTIVES,
    T_PEOPLE,
    T_PROJECTS,
    T_TASKS,
    TOKEN,
)

pytestmark = pytest.mark.django_db
FAST = RetryPolicy(attempts=8, backoff=0.01, backoff_cap=0.05, rate_limit_wait=0.05)


def sync(connection, kind=RunKind.FULL):
    run = services.run_request(connection=connection, kind=kind)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def snapshot(org) -> dict:
    """Everything a sync writes, comparable between runs."""
    return {
        "people": sorted(Person.objects.for_org(org).values_list("name", "email", "departed_on")),
        "pathways": sorted(Pathway.objects.for_org(org).values_list("name", flat=True)),
        "objectives": sorted(
            Objective.objects.for_org(org).values_list("title", "pathway__name", "owner__name")
        ),
        "krs": sorted(
            KeyResult.objects.for_org(org).values_list(
                "title", "objective__title", "start_value", "current_value", "target_value"
            )
        ),
        "projects": sorted(
            (
                p.name,
                p.status,
                p.pathway.name,
                p.owner.name,
                tuple(sorted(o.title for o in p.objectives.all())),
            )
            for p in Project.objects.for_org(org).select_related("pathway", "owner")
        ),
        "tasks": sorted(
            Task.objects.for_org(org).values_list(
                "title", "project__name", "assignee__name", "status", "due_on"
            )
        ),
    }


def test_connect_encrypts_the_token_and_proposes_a_mapping(connection):
    assert connection.name == "Northwind plans"
    assert TOKEN not in connection.token_encrypted and connection.token_last4 == TOKEN[-4:]
    assert TOKEN not in repr(connection) and TOKEN not in str(connection)
    mapped = {e for e, m in connection.mapping["entities"].items() if m.get("table_id")}
    assert {"person", "pathway", "objective", "key_result", "project", "task"} <= mapped


def test_first_sync_brings_everything_in_with_links_resolved(connection, org):
    run = sync(connection)
    assert (run.created, run.updated, run.archived) == (3 + 2 + 4 + 8 + 6 + 24, 0, 0)
    assert run.pulled == 47 and run.requests >= 7
    data = snapshot(org)
    assert data["pathways"] == ["Access", "Quality"]
    assert ("Jo Former", "jo@northwind.example", run.started_at.date()) in data["people"]
    project0 = next(p for p in data["projects"] if p[0] == "Project 0")
    assert project0 == (
        "Project 0",
        "active",
        "Access",
        "Maya Okafor",
        ("Objective 0", "Objective 1"),
    )
    # "Done", "done " and "Completed" all arrive as done.
    assert [p[1] for p in sorted(data["projects"])][:4] == ["active", "done", "done", "done"]
    task = Task.objects.for_org(org).get(title="Task 0.1")
    assert (task.project.name, task.assignee.name, task.status) == (
        "Project 0",
        "Sam Lee",
        TaskStatus.IN_PROGRESS,
    )
    # Provenance and unmapped fields are kept.
    project = Project.objects.for_org(org).get(name="Project 2")
    assert project.source_table == T_PROJECTS and project.source_record_id.startswith("rec")
    assert project.source_extra["fields"]["fldJBUDGET000001"] == "Budget line 2"


def test_second_run_over_an_unchanged_base_writes_nothing(connection, org):
    sync(connection)
    before = snapshot(org)
    run = sync(connection)
    assert (run.created, run.updated, run.archived, run.unchanged) == (0, 0, 0, 47)
    assert snapshot(org) == before


def test_renamed_fields_and_tables_still_map(connection, fake, org):
    sync(connection)
    base = fake.bases[BASE_ID]
    tasks = base.table(T_TASKS)
    tasks.name = "Todo list"
    tasks.rename_field("fldTSTATUS000001", "State")
    tasks.rename_field("fldTNAME00000001", "What")
    tasks.update(fake.ids["tasks"][0], {"fldTSTATUS000001": "Done"})
    run = sync(connection)
    assert run.updated == 1 and run.created == 0
    assert Task.objects.for_org(org).get(title="Task 0.0").status == TaskStatus.DONE


def test_deleted_record_is_archived_only_by_a_complete_full_pull(connection, fake, org):
    sync(connection)
    gone = fake.ids["tasks"][5]
    fake.bases[BASE_ID].table(T_TASKS).delete(gone)

    incremental = sync(connection, RunKind.INCREMENTAL)
    assert incremental.archived == 0
    assert Task.objects.for_org(org).filter(source_record_id=gone).exists()

    # A full pull that fails midway, after every table but the last (tasks) was read whole ...
    gone_project = fake.ids["projects"][1]
    fake.bases[BASE_ID].table(T_PROJECTS).delete(gone_project)
    # Pages enough that the tasks are still being fetched ahead when the faults start.
    fake.bases[BASE_ID].table(T_TASKS).create_many(
        [{"fldTNAME00000001": f"Extra {i}"} for i in range((READ_AHEAD_PAGES + 6) * 100)]
    )

    def fail_the_last_table(run):
        if run.tables_done == run.tables_total - 1:
            fake.faults.configure(rate=1.0, kinds=("500",))

    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(
        run_id=run.pk, policy=FAST, limiter=NoRateLimiter(), on_progress=fail_the_last_table
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "did not answer properly" in run.error
    assert run.tables_done == run.tables_total - 1
    # ... archives nothing, not even from the tables it read completely.
    assert Task.objects.for_org(org).filter(source_record_id=gone).exists()
    assert Project.objects.for_org(org).filter(source_record_id=gone_project).exists()
    fake.faults.clear()

    full = sync(connection)
    assert full.archived == 2
    row = Task.objects.for_org(org, include_archived=True).get(source_record_id=gone)
    assert row.archived_at is not None  # kept, never hard-deleted
    assert not Task.objects.for_org(org).filter(source_record_id=gone).exists()


def test_a_record_that_comes_back_is_unarchived(connection, fake, org):
    sync(connection)
    table = fake.bases[BASE_ID].table(T_TASKS)
    record_id = fake.ids["tasks"][3]
    saved = dict(table.get(record_id).fields)
    table.delete(record_id)
    sync(connection)
    table.create(saved, record_id=record_id)
    run = sync(connection)
    assert run.unarchived == 1
    assert Task.objects.for_org(org).filter(source_record_id=record_id).exists()


def test_incremental_pulls_only_what_changed(connection, fake, org):
    sync(connection)
    fake.bases[BASE_ID].table(T_PROJECTS).update(
        fake.ids["projects"][1], {"fldJSTATUS000001": "On hold"}
    )
    run = sync(connection, RunKind.INCREMENTAL)
    assert run.kind == RunKind.INCREMENTAL
    assert run.pulled == 1 and run.updated == 1
    assert Project.objects.for_org(org).get(name="Project 1").status == ProjectStatus.ON_HOLD


def test_mixed_faults_leave_data_identical_to_a_clean_run(fake, settings):
    clean_org, faulty_org = OrganizationFactory(slug="clean"), OrganizationFactory(slug="faulty")
    clean = services.connection_create(
        organization=clean_org, name="c", base_id=BASE_ID, token=TOKEN
    )
    faulty = services.connection_create(
        organization=faulty_org, name="f", base_id=BASE_ID, token=TOKEN
    )
    sync(clean)
    fake.faults.timeout_seconds = 1.0
    fake.faults.configure(rate=0.2)
    run = services.run_request(connection=faulty, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert sum(fake.faults.injected.values()) > 0
    assert snapshot(faulty_org) == snapshot(clean_org)


def test_bad_values_do_not_fail_the_run_and_become_issues(connection, fake, org):
    base = fake.bases[BASE_ID]
    tasks = base.table(T_TASKS)
    tasks.update(fake.ids["tasks"][0], {"fldTDUE000000001": "next week"})
    tasks.update(fake.ids["tasks"][1], {"fldTSTATUS000001": "Frobnicated"})
    base.table(T_PROJECTS).update(fake.ids["projects"][0], {"fldJNAME00000001": ""})
    # A link to a record that is gone (deleted between the pulls of two tables).
    tasks.update(fake.ids["tasks"][2], {"fldTASSIGNEE0001": ["recGONEGONEGONE01"]})
    run = sync(connection)
    issues = {
        (i.kind, i.record_id, i.field_name) for i in SyncIssue.objects.unscoped().filter(run=run)
    }
    assert (SyncIssue.Kind.VALUE, fake.ids["tasks"][0], "Due") in issues
    assert (SyncIssue.Kind.VALUE, fake.ids["tasks"][1], "Status") in issues
    assert (SyncIssue.Kind.REQUIRED, fake.ids["projects"][0], "Project Name") in issues
    assert (SyncIssue.Kind.LINK, fake.ids["tasks"][2], "Assigned to") in issues
    assert run.issue_count == len(issues)
    # The records are kept as well as they can be.
    task = Task.objects.for_org(org).get(source_record_id=fake.ids["tasks"][0])
    untitled = Project.objects.for_org(org).get(source_record_id=fake.ids["projects"][0])
    assert task.due_on is None and task.project == untitled
    assert untitled.name == f"(untitled {untitled.source_record_id})"
    gone_link = Task.objects.for_org(org).get(source_record_id=fake.ids["tasks"][2])
    assert gone_link.assignee is None

    # Unchanged records are not converted again, yet the next full run lists the same problems:
    # the same rows, one per problem, left as they are (not deleted and inserted again).
    def problems(of_run) -> set:
        return set(
            selectors.run_issues(organization=org, run=of_run).values_list(
                "pk", "kind", "record_id", "field_id", "reason"
            )
        )

    again = sync(connection)
    assert again.updated == 0 and problems(again) == problems(run)
    assert again.issue_count == run.issue_count
    assert SyncIssue.objects.unscoped().count() == len(issues)


def test_issues_are_one_row_per_problem_updated_in_place(connection, fake, org):
    """A problem found again keeps its row; one fixed in Airtable is removed; one whose
    reason changes is the new problem; an unchanged run writes no issue at all."""
    tasks = fake.bases[BASE_ID].table(T_TASKS)
    tasks.update(fake.ids["tasks"][0], {"fldTDUE000000001": "next week"})
    tasks.update(fake.ids["tasks"][1], {"fldTSTATUS000001": "Frobnicated"})
    tasks.update(fake.ids["tasks"][2], {"fldTASSIGNEE0001": ["recGONEGONEGONE01"]})
    first = sync(connection)
    rows = {i.record_id: i for i in SyncIssue.objects.unscoped()}
    assert set(rows) == {fake.ids["tasks"][0], fake.ids["tasks"][1], fake.ids["tasks"][2]}
    assert all(i.connection_id == connection.pk for i in rows.values())

    with CaptureQueriesContext(django_connection) as unchanged_queries:
        unchanged = sync(connection)
    # Only the dangling link is looked at again (and its row updated); nothing is removed.
    removed = [q for q in unchanged_queries if 'DELETE FROM "sync_syncissue"' in q["sql"]]
    assert removed == [] and unchanged.issue_count == first.issue_count == 3
    assert {i.record_id: i.pk for i in SyncIssue.objects.unscoped()} == {
        record_id: issue.pk for record_id, issue in rows.items()
    }

    # Fixed in Airtable (the date), changed (the status), still there (the gone link).
    tasks.update(fake.ids["tasks"][0], {"fldTDUE000000001": "2026-03-02"})
    tasks.update(fake.ids["tasks"][1], {"fldTSTATUS000001": "Bamboozled"})
    tasks.update(fake.ids["tasks"][2], {"fldTNAME00000001": "Renamed in Airtable"})
    later = sync(connection)
    now = {i.record_id: i for i in SyncIssue.objects.unscoped()}
    assert set(now) == {fake.ids["tasks"][1], fake.ids["tasks"][2]}
    assert "Bamboozled" in now[fake.ids["tasks"][1]].reason
    assert now[fake.ids["tasks"][1]].pk != rows[fake.ids["tasks"][1]].pk
    link = now[fake.ids["tasks"][2]]
    assert link.pk == rows[fake.ids["tasks"][2]].pk  # found again: the same row
    assert link.run_id == first.pk and link.last_seen_run_id == later.pk
    listed = selectors.run_issues(organization=org, run=later)
    assert {i.record_id for i in listed} == set(now) and later.issue_count == 2


def test_different_fields_changed_on_each_side_both_survive(connection, fake, org):
    """A title renamed here (a save outside the services, so nothing is pushed yet) and a
    status changed in Airtable: the merge keeps both, records no overwrite, and queues the
    title for Airtable."""
    sync(connection)
    task = Task.objects.for_org(org).get(title="Task 1.0")
    task.title = "Renamed in MissionOS"
    task.save()
    unchanged = sync(connection)
    assert unchanged.updated == 0  # Airtable did not change: the local edit stays
    assert (
        Task.objects.unscoped(include_archived=True).get(pk=task.pk).title == "Renamed in MissionOS"
    )

    fake.bases[BASE_ID].table(T_TASKS).update(task.source_record_id, {"fldTSTATUS000001": "Done"})
    run = sync(connection)
    task.refresh_from_db()
    assert task.title == "Renamed in MissionOS" and task.status == TaskStatus.DONE
    assert not SyncIssue.objects.unscoped().filter(run=run, kind=SyncIssue.Kind.OVERWRITE)
    assert PendingWrite.objects.for_org(org).filter(entity="task", row_id=task.pk).exists()
    assert not SyncConflict.objects.for_org(org).exists()


def test_the_same_field_changed_on_both_sides_is_a_conflict_and_neither_wins(connection, fake, org):
    sync(connection)
    task = Task.objects.for_org(org).get(title="Task 1.0")
    task.title = "Renamed in MissionOS"
    task.save()
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTNAME00000001": "Renamed in Airtable"}
    )
    sync(connection)
    task.refresh_from_db()
    assert task.title == "Renamed in MissionOS"
    conflict = SyncConflict.objects.for_org(org).get(entity="task", row_id=task.pk)
    assert (conflict.attribute, conflict.missionos_shown, conflict.airtable_shown) == (
        "title",
        "Renamed in MissionOS",
        "Renamed in Airtable",
    )
    # Found again by the next run: still one conflict, still MissionOS's value here.
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTNAME00000001": "Renamed again in Airtable"}
    )
    sync(connection)
    task.refresh_from_db()
    assert task.title == "Renamed in MissionOS"
    conflict = SyncConflict.objects.for_org(org).get(entity="task", row_id=task.pk)
    assert conflict.airtable_shown == "Renamed again in Airtable"

    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.AIRTABLE)
    task.refresh_from_db()
    assert task.title == "Renamed again in Airtable"
    sync(connection)
    task.refresh_from_db()
    assert task.title == "Renamed again in Airtable"
    assert not SyncConflict.objects.for_org(org).filter(resolved_at=None).exists()


def test_departed_people_keep_the_date_they_were_first_seen_gone(connection, fake, org):
    first = sync(connection)
    jo = Person.objects.for_org(org).get(name="Jo Former")
    assert jo.departed_on == first.started_at.date()
    fake.bases[BASE_ID].table(T_PEOPLE).update(jo.source_record_id, {"fldPROLE00000001": "Ex"})
    sync(connection)
    jo.refresh_from_db()
    assert jo.departed_on == first.started_at.date()
    assert SyncIssue.objects.unscoped().filter(kind=SyncIssue.Kind.OVERWRITE).count() == 0


def test_two_syncs_of_one_connection_at_once_are_refused(connection):
    services.run_request(connection=connection, kind=RunKind.FULL)
    with pytest.raises(services.SyncBusy, match="already queued"):
        services.run_request(connection=connection, kind=RunKind.INCREMENTAL)


def test_wrong_token_fails_the_run_with_what_to_fix(connection, fake):
    fake.revoke(TOKEN, BASE_ID)
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "no access" in run.error or "refused the token" in run.error


def test_a_mapping_that_no_longer_matches_fails_with_the_field_to_fix(connection, fake):
    fake.bases[BASE_ID].table(T_TASKS).remove_field("fldTPROJECT00001")
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Project" in run.error and "no longer matches" in run.error


def test_token_never_appears_in_logs(connection, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.faults.configure(rate=0.3, kinds=("500", "429"))
    sync(connection)
    assert TOKEN not in caplog.text


def test_nightly_full_syncs_start_over_the_hour_not_all_at_once(org):
    """Sixty connections on the default hour: each starts its full sync at its own minute,
    every minute of the hour used once, so a fleet's bases do not queue behind each other at
    02:00; the connection page offers the hours at that minute."""
    from django_celery_beat.models import PeriodicTask

    connections = [
        Connection.objects.create(organization=org, name=f"Base {n}", base_id=f"app{n:014d}")
        for n in range(60)
    ]
    for connection in connections:  # the defaults, as connecting a base sets them
        services.connection_schedule(connection=connection)
    crontabs = [
        PeriodicTask.objects.select_related("crontab").get(name=f"sync:{c.pk}:full").crontab
        for c in connections
    ]
    assert {crontab.hour for crontab in crontabs} == {"2"}
    assert sorted(int(crontab.minute) for crontab in crontabs) == list(range(60))
    assert all(
        int(crontab.minute) == c.pk % 60 for crontab, c in zip(crontabs, connections, strict=True)
    )
    choices = dict(ScheduleForm(full_sync_minute=17).fields["full_at_hour"].choices)
    assert choices[2] == "Every night at 02:17 UTC" and choices[""] == "Off"


def test_new_connections_sync_hourly_and_fully_at_night_and_it_can_change(connection):
    from django_celery_beat.models import PeriodicTask

    assert services.connection_schedule_state(connection=connection) == {
        "incremental_every_minutes": 60,
        "full_at_hour": 2,
    }
    task = PeriodicTask.objects.get(name=f"sync:{connection.pk}:incremental")
    assert task.task == "sync.scheduled_sync" and '"kind": "incremental"' in task.kwargs
    services.connection_schedule(
        connection=connection, incremental_every_minutes=15, full_at_hour=None
    )
    assert services.connection_schedule_state(connection=connection) == {
        "incremental_every_minutes": 15,
        "full_at_hour": None,
    }
    with pytest.raises(ValidationError):
        services.connection_schedule(connection=connection, incremental_every_minutes=1)


def test_a_run_delivered_twice_is_left_to_the_worker_running_it(connection):
    """Regression: the second delivery of a task found the lock held and failed the run
    that the first delivery was still executing."""
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    with connection_lock(connection.pk):  # another worker is executing it
        services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and run.error == ""
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_a_link_to_a_person_never_lands_in_a_user_column(org):
    """Regression: check_in.author links to the people table, but CheckIn.author is a user;
    resolving it would have written a Person id into the user column."""
    from okrs.models import CheckIn
    from sync.reconcile.adapters import ENTITY_MODELS
    from sync.reconcile.links import points_at

    assert points_at(ENTITY_MODELS["task"], "assignee", Person)
    assert not points_at(CheckIn, "author", Person)


def test_an_interrupted_foreground_run_is_closed_not_left_busy(connection):
    def stop(_run):
        raise KeyboardInterrupt

    run = services.run_request(connection=connection, kind=RunKind.FULL)
    with pytest.raises(KeyboardInterrupt):
        services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter(), on_progress=stop)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "Interrupted" in run.error
    services.run_request(connection=connection, kind=RunKind.FULL)  # not refused as busy


def test_an_unreadable_stored_token_fails_the_run_with_what_to_do(connection):
    connection.token_encrypted = "gAAAAA-not-a-fernet-token"
    connection.save()
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Enter the token again" in run.error and "Internal error" not in run.error


def test_an_expired_listing_offset_restarts_the_table_without_duplicates(connection, fake, org):
    tasks = fake.bases[BASE_ID].table(T_TASKS)
    project = fake.ids["projects"][0]
    tasks.create_many(
        [{"fldTNAME00000001": f"Extra {i}", "fldTPROJECT00001": [project]} for i in range(180)]
    )
    fake.faults.expire_offsets()  # the first page that carries an offset gets 422
    run = sync(connection)
    assert any(request.status == 422 for request in fake.requests)  # it did expire midway
    assert run.created == 47 + 180
    rows = Task.objects.for_org(org)
    assert rows.count() == 24 + 180
    assert rows.values("source_record_id").distinct().count() == 24 + 180


def test_a_collaborator_field_links_to_the_person_with_that_email(fake, org):
    """Regression: links given as collaborators ({id, email, name}) instead of linked records
    were written raw into a JSON column (or dropped) instead of matched to the directory."""
    tasks = fake.bases[BASE_ID].table(T_TASKS)
    field_id = tasks.add_field(
        {"id": "fldTHELPER000001", "name": "Assignee", "type": "singleCollaborator"}
    )
    tasks.remove_field("fldTASSIGNEE0001")
    tasks.update(
        fake.ids["tasks"][0],
        {field_id: {"id": "usrSAM", "email": "SAM@northwind.example", "name": "Sam L."}},
    )
    connection = services.connection_create(
        organization=org, name="Plans", base_id=BASE_ID, token=TOKEN
    )
    assert connection.mapping["entities"]["task"]["fields"]["assignee"] == field_id
    sync(connection)
    task = Task.objects.for_org(org).get(source_record_id=fake.ids["tasks"][0])
    assert task.assignee.name == "Sam Lee"


def test_progress_is_saved_as_each_page_arrives(connection, fake, monkeypatch):
    """What the connection page's live bar polls: counts grow page by page, not at the end.
    (Pages from real Airtable come at most every 0.2 s, the interval between saves.)"""
    monkeypatch.setattr(runs, "PROGRESS_SAVE_SECONDS", 0)
    fake.bases[BASE_ID].table(T_TASKS).create_many(
        [{"fldTNAME00000001": f"Extra {i}"} for i in range(250)]
    )
    seen = []

    def record(run):
        run.refresh_from_db(fields=["pulled", "requests", "tables_done"])
        seen.append((run.tables_done, run.pulled, run.requests))

    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter(), on_progress=record)
    pulled = [p for _, p, _ in seen]
    # A save per page (five one-page tables, three pages of tasks) and one as each table ends.
    assert len(set(pulled)) == 5 + 3 and pulled == sorted(pulled)
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)
    assert {done for done, _, _ in seen} == set(range(7))
    assert seen[-1][1] == 47 + 250


def test_links_that_did_not_resolve_are_reported_again_and_set_when_the_record_appears(
    connection, fake, org
):
    """Found in review: a record unchanged in Airtable is not rewritten, so its many-to-many
    link to a missing record was reported by the first run only, and never set once the
    record appeared."""
    base = fake.bases[BASE_ID]
    project_id, kept_objective = fake.ids["projects"][0], fake.ids["objectives"][0]
    base.table(T_PROJECTS).update(
        project_id, {"fldJOBJECTIVES01": [kept_objective, "recLATEOBJECTIVE1"]}
    )

    def objective_link_issues(run) -> set:
        return set(
            selectors.run_issues(organization=org, run=run)
            .filter(kind=SyncIssue.Kind.LINK, field_name="Objectives", last_seen_run=run)
            .values_list("record_id", flat=True)
        )

    assert project_id in objective_link_issues(sync(connection))
    again = sync(connection)
    assert again.updated == 0 and again.created == 0
    assert project_id in objective_link_issues(again)

    # The missing objective appears; the project's own record is still unchanged.
    base.table(T_OBJECTIVES).create(
        {"fldONAME00000001": "Arrived late"}, record_id="recLATEOBJECTIVE1"
    )
    third = sync(connection)
    assert project_id not in objective_link_issues(third)
    project = Project.objects.for_org(org).get(source_record_id=project_id)
    linked = set(project.objectives.values_list("source_record_id", flat=True))
    assert linked == {kept_objective, "recLATEOBJECTIVE1"}
    assert "unresolved" not in project.source_extra


def test_a_sync_that_changed_something_shows_in_the_activity_feed(connection, fake, org):
    first = sync(connection)
    [entry] = Activity.objects.for_org(org)
    assert (entry.verb, entry.subject, entry.target, entry.target_id) == (
        "synced",
        connection.name,
        SYNC_RUN_TARGET,
        first.pk,
    )
    assert entry.detail == f"{first.created} created"
    sync(connection)  # nothing changed: no new line
    assert Activity.objects.for_org(org).count() == 1


def test_synced_records_show_where_they_come_from(connection, org, owner_client):
    sync(connection)
    objective = Objective.objects.for_org(org).exclude(key_results=None).first()
    kr = objective.key_results.first()
    page = owner_client.get(reverse("objective_detail", args=[org.slug, objective.pk]))
    html = page.content.decode()
    assert html.count("From Airtable") == 1 + objective.key_results.count()
    assert f"Northwind plans <code>{BASE_ID}</code>" in html
    assert f"Objectives <code>{T_OBJECTIVES}</code>" in html  # the table's name, then its id
    record_url = f"https://airtable.com/{BASE_ID}/{kr.source_table}/{kr.source_record_id}"
    assert record_url in html
    # A record made in MissionOS has no source to show.
    project = ProjectFactory(organization=org)
    page = owner_client.get(reverse("project_detail", args=[org.slug, project.pk]))
    assert "From Airtable" not in page.content.decode()


def test_people_sharing_an_email_in_airtable_are_kept_and_listed_not_a_crash(connection, fake, org):
    """Airtable has no unique emails: a second row with one (any case) is kept without it and
    the run lists a data issue naming who has it; the run succeeds, now and on every re-run."""
    people = fake.bases[BASE_ID].table(T_PEOPLE)
    twin = people.create(
        {"fldPNAME00000001": "Maya O.", "fldPEMAIL0000001": "MAYA@northwind.example"}
    )
    run = sync(connection)
    assert run.status == RunStatus.SUCCEEDED
    emails = dict(Person.objects.for_org(org).values_list("source_record_id", "email"))
    assert emails[fake.ids["people"][0]] == "maya@northwind.example"
    assert emails[twin] == ""
    [issue] = SyncIssue.objects.unscoped().filter(run=run, record_id=twin)
    assert issue.kind == SyncIssue.Kind.VALUE and issue.field_name == "Email"
    assert issue.reason.startswith("Maya Okafor already has the email maya@northwind.example")
    again = sync(connection)
    assert selectors.run_issues(organization=org, run=again).filter(record_id=twin).count() == 1
    # Fixed in Airtable: the email moves to the row that now has it alone.
    people.update(fake.ids["people"][0], {"fldPEMAIL0000001": "maya.okafor@northwind.example"})
    people.update(twin, {"fldPNAME00000001": "Maya Two"})
    sync(connection)
    emails = dict(Person.objects.for_org(org).values_list("source_record_id", "email"))
    assert emails[twin] == "maya@northwind.example"
