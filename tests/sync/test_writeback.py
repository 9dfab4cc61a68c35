"""MissionOS -> Airtable: every write kind through the real pyairtable client to the fake over
HTTP, exactly-once creates, conflicts, refusals, read-only tables, and our own writes coming
back through the pull as ours (no conflict, no overwrite issue, no second write)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse

from okrs import services as okrs_services
from okrs.models import CheckIn, KeyResult, Project, ProjectStatus, Task, TaskStatus
from orgs import services as org_services
from orgs.models import Person
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import PendingWrite, RunKind, RunStatus, SyncConflict, SyncIssue
from tests.sync.airtable_base import (
    BASE_ID,
    T_KRS,
    T_PROJECTS,
    T_TASKS,
    T_UPDATES,
    TOKEN,
    add_check_ins_table,
)

pytestmark = pytest.mark.django_db(transaction=True)

FAST = RetryPolicy(backoff=0.001, backoff_cap=0.002, rate_limit_wait=0.0, sleep=lambda s: None)


@pytest.fixture
def checkins_table(fake):
    add_check_ins_table(fake)


@pytest.fixture
def synced(connection, org):
    sync(connection)
    connection.refresh_from_db()
    return connection


def sync(connection, kind=RunKind.FULL):
    run = services.run_request(connection=connection, kind=kind)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def push(connection):
    connection.refresh_from_db()
    report = services.push_connection(
        connection=connection, policy=FAST, limiter=NoRateLimiter(), timeout=(2.0, 2.0)
    )
    assert report is not None
    return report


def airtable(fake, table_id, record_id) -> dict:
    """The record's cells in the fake, by field id."""
    return dict(fake.bases[BASE_ID].table(table_id).get(record_id).fields)


def queued(org) -> list:
    return list(PendingWrite.objects.for_org(org).values_list("entity", "state", "reason"))


def test_a_task_moved_to_done_reaches_airtable_and_comes_back_as_ours(fake, synced, org):
    task = Task.objects.for_org(org).filter(status=TaskStatus.TODO).first()
    okrs_services.task_set_status(task=task, status=TaskStatus.DONE)
    assert queued(org) == [("task", "pending", "")]

    fake.reset_log()
    report = push(synced)
    assert report.written == 1 and report.failed == 0
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTSTATUS000001"] == "Done"
    # One read (to see whether Airtable changed the field too) and one PATCH.
    assert [entry.method for entry in fake.requests if entry.base_id] == ["GET", "PATCH"]
    assert queued(org) == []

    run = sync(synced)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert not SyncIssue.objects.unscoped().filter(run=run, kind=SyncIssue.Kind.OVERWRITE)
    assert not SyncConflict.objects.for_org(org).exists()
    assert queued(org) == []  # no second write


def test_task_assignee_and_due_date_and_project_fields(fake, synced, org):
    task = Task.objects.for_org(org).exclude(assignee=None).first()
    other = Person.objects.for_org(org).exclude(pk=task.assignee_id).exclude(source_record_id=None)
    other = other.filter(departed_on=None).first()
    task.assignee = other
    task.due_on = datetime.date(2027, 2, 28)
    okrs_services.task_save(task=task)
    project = Project.objects.for_org(org).first()
    project.status = ProjectStatus.ON_HOLD
    project.ends_on = datetime.date(2027, 12, 31)
    project.starts_on = datetime.date(2027, 1, 1)
    okrs_services.project_save(project=project)

    report = push(synced)
    assert (report.written, report.failed) == (2, 0), queued(org)
    cells = airtable(fake, T_TASKS, task.source_record_id)
    assert cells["fldTASSIGNEE0001"] == [other.source_record_id]
    assert cells["fldTDUE000000001"] == "2027-02-28"
    cells = airtable(fake, T_PROJECTS, project.source_record_id)
    assert cells["fldJSTATUS000001"] == "On hold"
    assert (cells["fldJSTART0000001"], cells["fldJEND000000001"]) == ("2027-01-01", "2027-12-31")

    sync(synced)
    assert queued(org) == [] and not SyncConflict.objects.for_org(org).exists()
    task.refresh_from_db()
    assert task.assignee_id == other.pk


def test_a_check_in_becomes_a_record_and_moves_the_key_results_current_value(
    fake, checkins_table, connection, org
):
    assert "check_in" in connection.mapping["entities"], connection.mapping["entities"].keys()
    sync(connection)
    key_result = KeyResult.objects.for_org(org).get(title="KR 3")
    check_in = okrs_services.check_in_create(
        key_result=key_result, value=Decimal("27.5"), confidence=None, note="Ahead", author=None
    )
    report = push(connection)
    assert (report.created, report.written, report.failed) == (1, 1, 0), queued(org)
    check_in.refresh_from_db()
    assert check_in.source_record_id and check_in.source_table == T_UPDATES
    cells = airtable(fake, T_UPDATES, check_in.source_record_id)
    assert cells["fldUKR0000000001"] == [key_result.source_record_id]
    assert cells["fldUVALUE0000001"] == 27.5 and cells["fldUNOTE00000001"] == "Ahead"
    assert airtable(fake, T_KRS, key_result.source_record_id)["fldKCURRENT00001"] == 27.5

    sync(connection)
    assert CheckIn.objects.for_org(org).filter(key_result=key_result).count() == 1
    assert queued(org) == [] and not SyncConflict.objects.for_org(org).exists()


def test_a_task_made_in_missionos_is_created_once_even_when_the_answer_is_lost(fake, synced, org):
    services.connection_add_id_fields(connection=synced)
    synced.refresh_from_db()
    assert synced.write_settings[T_TASKS]["id_field"]
    project = Project.objects.for_org(org).exclude(source_record_id=None).first()
    task = okrs_services.task_save(
        task=Task(organization=org, project=project, title="Made in MissionOS")
    )
    before = len(fake.bases[BASE_ID].table(T_TASKS))
    fake.faults.inject_next("timeout_after", "drop_after")  # applied, then the answer lost
    report = push(synced)
    assert report.created == 1, queued(org)
    table = fake.bases[BASE_ID].table(T_TASKS)
    assert len(table) == before + 1
    task.refresh_from_db()
    cells = airtable(fake, T_TASKS, task.source_record_id)
    assert cells["fldTNAME00000001"] == "Made in MissionOS"
    assert cells["fldTPROJECT00001"] == [project.source_record_id]
    sync(synced)
    assert Task.objects.for_org(org).filter(title="Made in MissionOS").count() == 1
    assert queued(org) == []


def test_without_an_id_field_a_lost_create_is_looked_up_not_sent_twice(fake, synced, org):
    project = Project.objects.for_org(org).exclude(source_record_id=None).first()
    task = okrs_services.task_save(task=Task(organization=org, project=project, title="Once"))
    before = len(fake.bases[BASE_ID].table(T_TASKS))
    fake.faults.inject_next("broken_json_after")
    first = push(synced)
    assert first.created == 0 and first.retrying == 1
    PendingWrite.objects.for_org(org).update(
        next_attempt_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    )
    second = push(synced)
    assert second.created == 0 and second.acknowledged == 1, queued(org)
    assert len(fake.bases[BASE_ID].table(T_TASKS)) == before + 1
    task.refresh_from_db()
    assert task.source_record_id


def test_same_field_changed_on_both_sides_is_a_conflict_resolved_either_way(fake, synced, org):
    task = Task.objects.for_org(org).first()
    task.title = "Title from MissionOS"
    okrs_services.task_save(task=task)
    table = fake.bases[BASE_ID].table(T_TASKS)
    table.update(task.source_record_id, {"fldTNAME00000001": "Title from Airtable"})

    report = push(synced)
    assert report.conflicts == 1 and report.written == 0
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTNAME00000001"] == (
        "Title from Airtable"
    )
    conflict = SyncConflict.objects.for_org(org).get()
    assert (conflict.missionos_shown, conflict.airtable_shown) == (
        "Title from MissionOS",
        "Title from Airtable",
    )
    sync(synced)  # the pull keeps it a conflict: neither side moves
    task.refresh_from_db()
    assert task.title == "Title from MissionOS"
    assert SyncConflict.objects.for_org(org).filter(resolved_at=None).count() == 1

    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.MISSIONOS)
    push(synced)
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTNAME00000001"] == (
        "Title from MissionOS"
    )
    sync(synced)
    task.refresh_from_db()
    assert task.title == "Title from MissionOS" and queued(org) == []

    # The other way: Airtable's value is taken and nothing is written.
    task.title = "Second from MissionOS"
    okrs_services.task_save(task=task)
    table.update(task.source_record_id, {"fldTNAME00000001": "Second from Airtable"})
    push(synced)
    conflict = SyncConflict.objects.for_org(org).get(resolved_at=None)
    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.AIRTABLE)
    task.refresh_from_db()
    assert task.title == "Second from Airtable"
    assert push(synced).written == 0
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTNAME00000001"] == (
        "Second from Airtable"
    )


def test_different_fields_changed_on_each_side_both_survive(fake, synced, org):
    task = Task.objects.for_org(org).filter(status=TaskStatus.TODO).first()
    okrs_services.task_set_status(task=task, status=TaskStatus.DONE)
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTNAME00000001": "Renamed in Airtable"}
    )
    assert push(synced).written == 1
    cells = airtable(fake, T_TASKS, task.source_record_id)
    assert (cells["fldTNAME00000001"], cells["fldTSTATUS000001"]) == ("Renamed in Airtable", "Done")
    sync(synced)
    task.refresh_from_db()
    assert (task.title, task.status) == ("Renamed in Airtable", TaskStatus.DONE)
    assert not SyncConflict.objects.for_org(org).exists() and queued(org) == []


def test_a_value_the_base_cannot_hold_is_not_saved_and_says_why(fake, synced, org):
    project = Project.objects.for_org(org).first()
    project.status = ProjectStatus.ABANDONED  # the Status select has no such option
    okrs_services.project_save(project=project)
    report = push(synced)
    assert report.failed == 1
    [(_entity, state, reason)] = queued(org)
    assert state == "failed" and "no option of Status means 'abandoned'" in reason
    assert airtable(fake, T_PROJECTS, project.source_record_id)["fldJSTATUS000001"] != "abandoned"


def test_airtable_refusing_a_write_keeps_it_queued_with_the_reason(fake, synced, org):
    task = Task.objects.for_org(org).exclude(assignee=None).first()
    person = Person.objects.for_org(org).exclude(pk=task.assignee_id).exclude(source_record_id=None)
    person = person.first()
    fake.bases[BASE_ID].table("tblPEOPLE0000001").delete(person.source_record_id)
    task.assignee = person  # deleted in Airtable since the last sync
    okrs_services.task_save(task=task)
    before = airtable(fake, T_TASKS, task.source_record_id)
    report = push(synced)
    assert report.failed == 1 and report.written == 0
    [(_, state, reason)] = queued(org)
    assert state == "failed" and reason.startswith("Airtable refused it:"), reason
    assert airtable(fake, T_TASKS, task.source_record_id) == before


def test_a_token_without_write_scope_writes_nothing_and_says_so(fake, synced, org):
    fake.set_token_scopes(TOKEN, ["data.records:read", "schema.bases:read"])
    task = Task.objects.for_org(org).first()
    okrs_services.task_set_status(task=task, status=TaskStatus.BLOCKED)
    before = airtable(fake, T_TASKS, task.source_record_id)
    push(synced)
    assert airtable(fake, T_TASKS, task.source_record_id) == before
    [(_, state, reason)] = queued(org)
    assert state == "failed" and "data.records:write" in reason
    synced.refresh_from_db()
    assert "data.records:write" in synced.write_blocked


def test_a_read_only_table_writes_nothing_and_says_why(fake, synced, org):
    services.connection_set_read_only(connection=synced, table_id=T_TASKS, read_only=True)
    task = Task.objects.for_org(org).first()
    okrs_services.task_set_status(task=task, status=TaskStatus.BLOCKED)
    before = airtable(fake, T_TASKS, task.source_record_id)
    fake.reset_log()
    push(synced)
    assert airtable(fake, T_TASKS, task.source_record_id) == before
    assert not [entry for entry in fake.requests if entry.method != "GET"]
    [(_, state, reason)] = queued(org)
    assert state == "failed" and "read-only" in reason
    services.connection_set_read_only(connection=synced, table_id=T_TASKS, read_only=False)
    push(synced)
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTSTATUS000001"] == "Blocked"


def test_a_change_that_rolls_back_queues_nothing(synced, org):
    task = Task.objects.for_org(org).first()
    with pytest.raises(RuntimeError), transaction.atomic():
        okrs_services.task_set_status(task=task, status=TaskStatus.DONE)
        raise RuntimeError("the request failed after the service")
    assert queued(org) == []


def test_people_edited_by_admins_go_back(fake, synced, org):
    person = Person.objects.for_org(org).get(name="Sam Lee")
    person.name = "Sam Lee-Park"
    org_services.person_save(person=person)
    assert push(synced).written == 1
    assert airtable(fake, "tblPEOPLE0000001", person.source_record_id)["fldPNAME00000001"] == (
        "Sam Lee-Park"
    )


def test_mixed_faults_leave_airtable_and_postgres_identical_without_duplicates(fake, synced, org):
    services.connection_add_id_fields(connection=synced)
    tasks = list(Task.objects.for_org(org).order_by("pk"))
    project = Project.objects.for_org(org).exclude(source_record_id=None).first()
    for index, task in enumerate(tasks):
        okrs_services.task_set_status(
            task=task,
            status=[TaskStatus.DONE, TaskStatus.BLOCKED, TaskStatus.IN_PROGRESS][index % 3],
        )
    for index in range(12):
        okrs_services.task_save(task=Task(organization=org, project=project, title=f"New {index}"))
    before = len(fake.bases[BASE_ID].table(T_TASKS))
    fake.faults.configure(
        rate=0.2,
        kinds=[
            "429",
            "500",
            "502",
            "timeout",
            "broken_json",
            "drop",
            "timeout_after",
            "broken_json_after",
            "drop_after",
            "500_after",
        ],
        timeout_seconds=2.5,
    )
    for _attempt in range(30):
        PendingWrite.objects.for_org(org).update(
            next_attempt_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        )
        push(synced)
        if not PendingWrite.objects.for_org(org).exists():
            break
    fake.faults.clear()
    assert queued(org) == []
    assert len(fake.bases[BASE_ID].table(T_TASKS)) == before + 12
    labels = {"todo": "To do", "in_progress": "Doing", "blocked": "Blocked", "done": "Done"}
    for task in Task.objects.for_org(org):
        cells = airtable(fake, T_TASKS, task.source_record_id)
        assert cells["fldTNAME00000001"] == task.title
        assert cells.get("fldTSTATUS000001") == labels[task.status], task.title
    sync(synced)
    assert queued(org) == [] and not SyncConflict.objects.for_org(org).exists()


def test_airtable_push_command_drains_and_fails_when_something_is_left(fake, synced, org, capsys):
    task = Task.objects.for_org(org).filter(status=TaskStatus.TODO).first()
    okrs_services.task_set_status(task=task, status=TaskStatus.DONE)
    call_command("airtable_push", "--org", org.slug)
    assert "1 updated" in capsys.readouterr().out
    project = Project.objects.for_org(org).first()
    project.status = ProjectStatus.ABANDONED
    okrs_services.project_save(project=project)
    with pytest.raises(CommandError, match="1 change"):
        call_command("airtable_push", "--org", org.slug)
    assert "no option of Status" in capsys.readouterr().out


def reassign_on_both_sides(fake, org):
    """A task reassigned in MissionOS to Sam, and in Airtable to Maya."""
    task = Task.objects.for_org(org).exclude(assignee=None).exclude(assignee__name="Sam Lee")
    task = task.exclude(assignee__name="Maya Okafor").first()
    sam = Person.objects.for_org(org).get(name="Sam Lee")
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    task.assignee = sam
    okrs_services.task_save(task=task)
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTASSIGNEE0001": [maya.source_record_id]}
    )
    return task, sam, maya


@pytest.mark.parametrize("found_by", ["pull", "push"])
def test_a_link_changed_on_both_sides_is_a_conflict_resolved_either_way(
    fake, synced, org, found_by
):
    """The assignee is a link: changed in MissionOS and, to someone else, in Airtable, neither
    side wins silently, whether the next pull or the push sees Airtable's change first."""
    task, sam, maya = reassign_on_both_sides(fake, org)
    if found_by == "pull":
        sync(synced)
    report = push(synced)
    assert report.written == 0
    conflict = SyncConflict.objects.for_org(org).get(resolved_at=None)
    assert (conflict.attribute, conflict.field_name) == ("assignee", "Assigned to")
    assert (conflict.missionos_shown, conflict.airtable_shown) == ("Sam Lee", "Maya Okafor")
    task.refresh_from_db()
    assert task.assignee == sam
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTASSIGNEE0001"] == [
        maya.source_record_id
    ]
    sync(synced)  # a pull while it is open moves neither side
    task.refresh_from_db()
    assert task.assignee == sam
    assert SyncConflict.objects.for_org(org).filter(resolved_at=None).count() == 1

    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.MISSIONOS)
    assert push(synced).written == 1
    assert airtable(fake, T_TASKS, task.source_record_id)["fldTASSIGNEE0001"] == [
        sam.source_record_id
    ]
    sync(synced)
    task.refresh_from_db()
    assert task.assignee == sam and queued(org) == []
    assert not SyncConflict.objects.for_org(org).filter(resolved_at=None).exists()

    # The other way: Airtable's person is taken and nothing is written.
    task.assignee = maya
    okrs_services.task_save(task=task)
    jo = Person.objects.for_org(org).get(name="Jo Former")
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTASSIGNEE0001": [jo.source_record_id]}
    )
    if found_by == "pull":
        sync(synced)
    push(synced)
    conflict = SyncConflict.objects.for_org(org).get(resolved_at=None)
    assert (conflict.missionos_shown, conflict.airtable_shown) == ("Maya Okafor", "Jo Former")
    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.AIRTABLE)
    task.refresh_from_db()
    assert task.assignee == jo
    assert push(synced).written == 0
    sync(synced)
    task.refresh_from_db()
    assert task.assignee == jo and queued(org) == []
    assert not SyncConflict.objects.for_org(org).filter(resolved_at=None).exists()


def test_a_link_changed_here_and_another_field_there_both_survive(fake, synced, org):
    task = Task.objects.for_org(org).exclude(assignee__name="Sam Lee").first()
    sam = Person.objects.for_org(org).get(name="Sam Lee")
    task.assignee = sam
    okrs_services.task_save(task=task)
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTNAME00000001": "Renamed in Airtable"}
    )
    sync(synced)
    push(synced)
    task.refresh_from_db()
    assert (task.assignee, task.title) == (sam, "Renamed in Airtable")
    cells = airtable(fake, T_TASKS, task.source_record_id)
    assert cells["fldTASSIGNEE0001"] == [sam.source_record_id]
    assert not SyncConflict.objects.for_org(org).exists() and queued(org) == []


def test_the_record_page_says_not_saved_and_shows_a_conflict_to_resolve(
    fake, synced, org, owner_client
):
    project = Project.objects.for_org(org).exclude(source_record_id=None).first()
    project.status = ProjectStatus.ABANDONED  # no such option in the base
    project.name = "Renamed here"
    okrs_services.project_save(project=project)
    fake.bases[BASE_ID].table(T_PROJECTS).update(
        project.source_record_id, {"fldJNAME00000001": "Renamed there"}
    )
    push(synced)
    page = owner_client.get(
        reverse("project_detail", kwargs={"org_slug": org.slug, "project_id": project.pk})
    )
    html = page.content.decode()
    assert 'data-write-state="conflict"' in html
    assert "Renamed here" in html and "Renamed there" in html
    assert "Keep MissionOS&#x27;s" in html or "Keep MissionOS's" in html

    conflict = SyncConflict.objects.for_org(org).get()
    answer = owner_client.post(
        reverse("sync_conflict_resolve", kwargs={"org_slug": org.slug, "conflict_id": conflict.pk}),
        {"keep": "missionos", "next": page.request["PATH_INFO"]},
    )
    assert answer.status_code == 302 and answer["Location"] == page.request["PATH_INFO"]
    html = owner_client.get(answer["Location"]).content.decode()
    assert 'data-write-state="saving"' in html  # queued again, to write MissionOS's name
    push(synced)
    assert airtable(fake, T_PROJECTS, project.source_record_id)["fldJNAME00000001"] == (
        "Renamed here"
    )
    html = owner_client.get(answer["Location"]).content.decode()
    assert 'data-write-state="failed"' in html and "no option of Status" in html

    # The connection page counts what is queued and why.
    page = owner_client.get(
        reverse("sync_connection", kwargs={"org_slug": org.slug, "connection_id": synced.pk})
    )
    assert "1</strong> change queued" in page.content.decode()


def test_a_synced_check_in_edited_then_deleted_here_is_edited_then_deleted_in_airtable(
    fake, checkins_table, connection, org
):
    """Issue 14: editing one's check-in goes out like any edit; deleting it deletes its
    Airtable record; the next pull brings neither back."""
    sync(connection)
    key_result = KeyResult.objects.for_org(org).get(title="KR 3")
    check_in = okrs_services.check_in_create(
        key_result=key_result, value=Decimal(20), confidence=None, note="First", author=None
    )
    push(connection)
    check_in.refresh_from_db()
    record_id = check_in.source_record_id
    assert record_id

    okrs_services.check_in_update(
        check_in=check_in, value=Decimal(22), confidence=None, note="Recounted", actor=None
    )
    report = push(connection)
    assert report.failed == 0, queued(org)
    cells = airtable(fake, T_UPDATES, record_id)
    assert cells["fldUVALUE0000001"] == 22 and cells["fldUNOTE00000001"] == "Recounted"
    sync(connection)
    check_in.refresh_from_db()
    assert check_in.value == 22 and not SyncConflict.objects.for_org(org).exists()

    okrs_services.check_in_delete(check_in=check_in, actor=None)
    report = push(connection)
    assert (report.deleted, report.failed) == (1, 0), queued(org)
    with pytest.raises(KeyError):  # gone from the fake's table
        fake.bases[BASE_ID].table(T_UPDATES).get(record_id)
    sync(connection)
    assert not CheckIn.objects.for_org(org).filter(key_result=key_result).exists()
    kept = CheckIn.objects.for_org(org, include_archived=True).get(pk=check_in.pk)
    assert kept.archived_at is not None
    assert queued(org) == []
