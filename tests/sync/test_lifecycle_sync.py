"""Archive, restore and delete of synced records through the two-way sync, against the fake
Airtable over HTTP with the real pyairtable client: Airtable has no archive, so archiving writes
nothing there and the pull leaves the record archived; restoring lets the next pull bring what
changed in Airtable meanwhile; deleting an empty record deletes its Airtable record, and no
pull brings it back."""

from __future__ import annotations

import pytest

from okrs import selectors
from okrs import services as okrs_services
from okrs.models import Project, Task
from sync.models import PendingWrite, SyncConflict
from tests.sync.airtable_base import BASE_ID, T_PROJECTS, T_TASKS
from tests.sync.test_writeback import push, sync

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_NAME = "fldJNAME00000001"


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
