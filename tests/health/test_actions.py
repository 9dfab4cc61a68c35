"""Fixing findings for good: each action goes through the plan's services, is written back to
Airtable by the two-way sync (the fake base holds the result), survives the next full sync,
is recorded value by value and can be undone (the undo is written back too)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from health import actions
from health import services as health_services
from health.kinds import Kind
from health.models import Finding, HealthAction, HealthSnapshot
from okrs.models import KeyResult, Objective, Project, ProjectStatus, Task
from orgs.models import Person
from sync import services
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import PendingWrite
from tests.health.labelled_base import BASE_ID, T_KRS, T_OBJECTIVES, T_PROJECTS, T_TASKS, _fid
from tests.health.test_findings import FAST, labelled, sync  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def push(connection) -> None:
    connection.refresh_from_db()
    report = services.push_connection(
        connection=connection, policy=FAST, limiter=NoRateLimiter(), timeout=(2.0, 2.0)
    )
    assert report is not None and report.failed == 0, report.line()
    assert not PendingWrite.objects.for_org(connection.organization_id).exists()


def cell(fake, table_id: str, record_id: str, field: str):
    return fake.bases[BASE_ID].table(table_id).get(record_id).fields.get(_fid(table_id, field))


def open_kinds(org) -> set[str]:
    return set(Finding.objects.for_org(org).filter(resolved_at=None).values_list("kind", flat=True))


def score(org) -> int:
    return HealthSnapshot.objects.for_org(org).first().score


def test_closing_an_abandoned_project_reaches_airtable_and_undoes(labelled, owner):  # noqa: F811
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    health_services.findings_compute(organization=org, now=labelled["now"])
    before = score(org)
    project = Project.objects.for_org(org).get(name="Legacy portal revamp")
    plan = actions.plan_close_project(project=project, status=ProjectStatus.DONE)
    assert plan.lines == ["Legacy portal revamp: Active → Done"]
    action = actions.action_apply(organization=org, plan=plan, actor=owner)
    push(connection)
    assert cell(fake, T_PROJECTS, project.source_record_id, "Status") == "Done"
    sync(connection)  # the next full sync keeps it closed
    project.refresh_from_db()
    assert project.status == ProjectStatus.DONE
    health_services.findings_compute(organization=org, now=labelled["now"])
    assert score(org) > before
    abandoned = Finding.objects.for_org(org).filter(kind=Kind.ABANDONED_PROJECT, resolved_at=None)
    assert "Legacy portal revamp" not in {f.records[0]["label"] for f in abandoned}

    report = actions.action_undo(action=action, actor=owner)
    assert (report.undone, report.kept) == (1, [])
    push(connection)
    assert cell(fake, T_PROJECTS, project.source_record_id, "Status") == "In Progress"
    action.refresh_from_db()
    assert action.undone_at is not None and action.actor == owner
    with pytest.raises(ValidationError, match="already"):
        actions.action_undo(action=action, actor=owner)
    with pytest.raises(ValidationError):
        actions.plan_close_project(project=project, status="on_hold")


def test_reassigning_a_departed_persons_tasks_reaches_airtable_and_undoes(labelled, owner):  # noqa: F811
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    jo = Person.objects.for_org(org).get(name="Jo Former")
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    kim = Person.objects.for_org(org).get(name="Kim Gone")
    with pytest.raises(ValidationError, match="has left too"):
        actions.plan_reassign_tasks(organization=org, departed=jo, to=kim)
    plan = actions.plan_reassign_tasks(organization=org, departed=jo, to=maya)
    assert plan.lines == ["Call suppliers: Jo Former → Maya Okafor"]  # not the done one
    action = actions.action_apply(organization=org, plan=plan, actor=owner)
    push(connection)
    task = Task.objects.for_org(org).get(title="Call suppliers")
    assert cell(fake, T_TASKS, task.source_record_id, "Assigned to") == [maya.source_record_id]
    old_report = Task.objects.for_org(org).get(title="Old report")
    assert old_report.assignee == jo  # history stays
    health_services.findings_compute(organization=org, now=labelled["now"])
    assert Kind.TASK_DEPARTED_ASSIGNEE not in open_kinds(org)

    # Someone moves the task on meanwhile: the undo leaves that alone and says so.
    sam = Person.objects.for_org(org).get(name="Sam Lee")
    task.assignee = sam
    from okrs import services as okrs_services

    okrs_services.task_save(task=task)
    report = actions.action_undo(action=action, actor=owner)
    assert report.undone == 0 and report.kept == ["Call suppliers: changed since, left as it is"]
    task.refresh_from_db()
    assert task.assignee == sam


def test_merging_duplicate_objectives_moves_everything_and_survives_syncs(labelled, owner):  # noqa: F811
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    survivor = Objective.objects.for_org(org).get(title="Improve patient onboarding")
    copy = Objective.objects.for_org(org).get(title="improve patient onbaording")
    kr = KeyResult.objects.for_org(org).get(title="Onboarding survey")
    project = Project.objects.for_org(org).get(name="Redesign the patient portal")
    plan = actions.plan_merge(
        organization=org, model="objective", survivor_id=survivor.pk, ids=[copy.pk]
    )
    assert "Onboarding survey: moves to Improve patient onboarding" in plan.lines
    assert "Redesign the patient portal: serves Improve patient onboarding instead" in plan.lines
    action = actions.action_apply(organization=org, plan=plan, actor=owner)
    push(connection)
    assert cell(fake, T_KRS, kr.source_record_id, "Objective") == [survivor.source_record_id]
    assert cell(fake, T_PROJECTS, project.source_record_id, "Objectives") == [
        survivor.source_record_id
    ]
    marked = cell(fake, T_OBJECTIVES, copy.source_record_id, "Objective")
    assert marked == "Merged into “Improve patient onboarding”: improve patient onbaording"

    sync(connection)  # the copy is still in Airtable: it stays merged away
    assert not Objective.objects.for_org(org).filter(pk=copy.pk).exists()  # archived
    kr.refresh_from_db()
    assert kr.objective_id == survivor.pk
    health_services.findings_compute(organization=org, now=labelled["now"])
    assert Kind.DUPLICATE_OBJECTIVES not in open_kinds(org)

    report = actions.action_undo(action=action, actor=owner)
    assert report.kept == []
    push(connection)
    assert cell(fake, T_KRS, kr.source_record_id, "Objective") == [copy.source_record_id]
    assert cell(fake, T_OBJECTIVES, copy.source_record_id, "Objective") == (
        "improve patient onbaording"
    )
    sync(connection)
    copy = Objective.objects.for_org(org).get(pk=copy.pk)  # back, and synced again
    assert copy.title == "improve patient onbaording"
    assert HealthAction.objects.for_org(org).get().undone_at is not None


def test_merging_people_and_projects(labelled, owner):  # noqa: F811
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    priya, copy = Person.objects.for_org(org).filter(name__icontains="priya").order_by("pk")
    plan = actions.plan_merge(organization=org, model="person", survivor_id=priya.pk, ids=[copy.pk])
    actions.action_apply(organization=org, plan=plan, actor=owner)
    first = Project.objects.for_org(org).get(name="Patient portal redesign")
    second = Project.objects.for_org(org).get(name="Redesign the patient portal")
    plan = actions.plan_merge(
        organization=org, model="project", survivor_id=first.pk, ids=[second.pk]
    )
    assert "User interviews: moves to Patient portal redesign" in plan.lines
    actions.action_apply(organization=org, plan=plan, actor=owner)
    push(connection)
    moved = Task.objects.for_org(org).get(title="User interviews")
    assert cell(fake, T_TASKS, moved.source_record_id, "Initiative") == [first.source_record_id]
    sync(connection)
    health_services.findings_compute(organization=org, now=labelled["now"])
    assert not {Kind.DUPLICATE_PEOPLE, Kind.DUPLICATE_PROJECTS} & open_kinds(org)
    with pytest.raises(ValidationError):
        actions.plan_merge(organization=org, model="task", survivor_id=moved.pk, ids=[1])


def test_a_merge_deletes_the_copy_in_airtable_only_when_asked_and_undo_recreates_it(
    labelled,  # noqa: F811
    owner,
):
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    survivor = Objective.objects.for_org(org).get(title="Improve patient onboarding")
    copy = Objective.objects.for_org(org).get(title="improve patient onbaording")
    record_id = copy.source_record_id
    objectives = fake.bases[BASE_ID].table(T_OBJECTIVES)
    plan = actions.plan_merge(
        organization=org,
        model="objective",
        survivor_id=survivor.pk,
        ids=[copy.pk],
        delete_in_airtable=True,
    )
    assert (
        "improve patient onbaording: deleted in Airtable (undoing makes a new record there)"
        in plan.lines
    )
    action = actions.action_apply(organization=org, plan=plan, actor=owner)
    connection.refresh_from_db()
    report = services.push_connection(connection=connection, policy=FAST, limiter=NoRateLimiter())
    assert report.deleted == 1 and "1 deleted" in report.line()
    assert record_id not in objectives.records
    assert not PendingWrite.objects.for_org(org).exists()
    sync(connection)  # the record is gone: the row stays archived, and nothing comes back
    assert not Objective.objects.for_org(org).filter(title__icontains="onbaording").exists()

    actions.action_undo(action=action, actor=owner)
    push(connection)
    copy = Objective.objects.for_org(org).get(pk=copy.pk)
    assert copy.source_record_id and copy.source_record_id != record_id
    assert objectives.get(copy.source_record_id).fields[_fid(T_OBJECTIVES, "Objective")] == (
        "improve patient onbaording"
    )
    kr = KeyResult.objects.for_org(org).get(title="Onboarding survey")
    assert cell(fake, T_KRS, kr.source_record_id, "Objective") == [copy.source_record_id]
