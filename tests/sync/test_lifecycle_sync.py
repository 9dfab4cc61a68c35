"""Archive, restore and delete of synced records through the two-way sync, against the fake
Airtable over HTTP with the real pyairtable client: Airtable has no archive, so archiving writes
nothing there and the pull leaves the record archived; restoring lets the next pull bring what
changed in Airtable meanwhile; deleting an empty record deletes its Airtable record, and no
pull brings it back."""

from __future__ import annotations

import pytest

from okrs import lifecycle as okrs_lifecycle
from okrs import selectors
from okrs import services as okrs_services
from okrs.models import Project, Task
from sync.models import PendingWrite, SyncConflict
from tests.sync.airtable_base import BASE_ID, T_PROJECTS, T_TASKS
from tests.sync.test_writeback import push, sync

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_NAME = "fldJNAME00000001"
TASK_PROJECT = "fldTPROJECT00001"


@pytest.fixture
def synced(connection, org):
    sync(connection)
    connection.refresh_from_db()
    return connection


def test_archiving_a_synced_project_writes_nothing_and_the_pull_keeps_it_archived(
    fake, synced, org
):
    synced_projects = Project.objects.for_org(org).exclude(source_record_id=None)
    project = synced_projects.filter(tasks__isnull=False).distinct().first()
    task_ids = set(project.tasks.values_list("pk", flat=True))
    okrs_services.record_archive(record=project, actor=None)

    fake.reset_log()
    push(synced)
    # Airtable has no archive: nothing is written there.
    assert [e.method for e in fake.requests if e.base_id and e.method != "GET"] == []
    assert fake.bases[BASE_ID].table(T_PROJECTS).get(project.source_record_id)
    assert not PendingWrite.objects.for_org(org).exists()

    # Renamed in Airtable while archived here: the pull leaves the archived row as it is.
    table = fake.bases[BASE_ID].table(T_PROJECTS)
    table.update(project.source_record_id, {PROJECT_NAME: "Renamed in Airtable"})
    sync(synced)
    stored = Project.objects.for_org(org, include_archived=True).get(pk=project.pk)
    assert stored.archived_at is not None and stored.name != "Renamed in Airtable"
    assert not Task.objects.for_org(org).filter(pk__in=task_ids).exists()

    # Restored here: back with its tasks, and the next pull brings the Airtable rename.
    okrs_services.record_restore(record=stored, actor=None)
    push(synced)
    sync(synced)
    stored.refresh_from_db()
    assert stored.archived_at is None and stored.name == "Renamed in Airtable"
    assert set(Task.objects.for_org(org).filter(pk__in=task_ids).values_list("pk", flat=True)) == (
        task_ids
    )
    assert not SyncConflict.objects.for_org(org).exists()


def test_deleting_an_empty_synced_task_deletes_its_airtable_record_for_good(fake, synced, org):
    task = Task.objects.for_org(org).exclude(source_record_id=None).first()
    record_id = task.source_record_id
    okrs_services.record_delete(record=task, actor=None)
    assert not Task.objects.for_org(org).filter(pk=task.pk).exists()

    report = push(synced)
    assert report.deleted == 1
    assert record_id not in fake.bases[BASE_ID].table(T_TASKS).records

    sync(synced)
    assert not Task.objects.for_org(org).filter(source_record_id=record_id).exists()
    listed = [
        record.pk
        for group in selectors.archived_records(organization=org)
        for record in group["records"]
    ]
    assert task.pk not in listed


def _archive_listing(org) -> dict[int, bool]:
    """Project rows listed on the Archive page -> whether it says "deleted in Airtable"."""
    return {
        record.pk: record.deleted_in_airtable
        for group in selectors.archived_records(organization=org)
        if group["kind"].name == "project"
        for record in group["records"]
    }


def test_a_project_archived_here_then_deleted_in_airtable_is_said_so_and_restored_anew(
    fake, synced, org
):
    synced_projects = Project.objects.for_org(org).exclude(source_record_id=None)
    project = synced_projects.filter(tasks__isnull=False).distinct().first()
    tasks = list(project.tasks.order_by("pk"))
    okrs_services.record_archive(record=project, actor=None)
    gone_task = tasks[0]  # archived with the project, and deleted in Airtable too
    fake.bases[BASE_ID].table(T_PROJECTS).delete(project.source_record_id)
    fake.bases[BASE_ID].table(T_TASKS).delete(gone_task.source_record_id)

    sync(synced)
    project.refresh_from_db()
    assert project.archived_at is not None
    assert _archive_listing(org) == {project.pk: True}
    gone_task.refresh_from_db()
    assert okrs_lifecycle.deleted_in_airtable(gone_task)
    kept_task = Task.objects.for_org(org, include_archived=True).get(pk=tasks[-1].pk)
    assert not okrs_lifecycle.deleted_in_airtable(kept_task)
    sync(synced)  # another full pull changes nothing
    assert _archive_listing(org) == {project.pk: True}

    # Restored: back with its tasks, and made anew in Airtable (the gone task too).
    okrs_services.record_restore(record=project, actor=None)
    push(synced)
    project.refresh_from_db()
    assert project.archived_at is None and project.source_record_id
    assert fake.bases[BASE_ID].table(T_PROJECTS).get(project.source_record_id)
    sync(synced)
    project.refresh_from_db()
    assert project.archived_at is None
    rows = Task.objects.for_org(org).filter(pk__in=[task.pk for task in tasks])
    assert {task.pk for task in rows} == {task.pk for task in tasks}
    assert all(task.project_id == project.pk and task.source_record_id for task in rows)
    assert len(Project.objects.for_org(org, include_archived=True).filter(name=project.name)) == 1
    assert _archive_listing(org) == {}
    airtable_tasks = fake.bases[BASE_ID].table(T_TASKS)
    for task in rows:
        links = airtable_tasks.get(task.source_record_id).fields.get(TASK_PROJECT)
        assert links == [project.source_record_id]
    # Airtable took the deleted project out of its tasks' links: not a person's edit.
    assert not SyncConflict.objects.for_org(org).exists()


def test_a_record_back_in_airtable_after_its_delete_is_no_longer_said_deleted(fake, synced, org):
    project = Project.objects.for_org(org).exclude(source_record_id=None).first()
    okrs_services.record_archive(record=project, actor=None)
    table = fake.bases[BASE_ID].table(T_PROJECTS)
    record = table.get(project.source_record_id)
    cells = dict(record.fields)
    table.delete(project.source_record_id)
    sync(synced)
    assert _archive_listing(org) == {project.pk: True}

    # Brought back from Airtable's trash, with its record id.
    table.create(cells, record_id=project.source_record_id)
    sync(synced)
    assert _archive_listing(org) == {project.pk: False}
