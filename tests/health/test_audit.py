"""Data health's entries in the audit log (orgs.audit): a fix applied and undone (its own entry,
and each row it changed through the plan's services), a merge, a finding marked "not a
problem" and shown again."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from health import actions, services
from health.kinds import Kind
from health.models import Finding
from okrs.models import ProjectStatus
from orgs.models import AuditEntry, Person
from tests.factories import PersonFactory, ProjectFactory, TaskFactory

pytestmark = pytest.mark.django_db


def entries(organization, **lookups) -> list[AuditEntry]:
    rows = AuditEntry.objects.for_org(organization).filter(**lookups)
    return list(rows.order_by("created_at", "id"))


def test_closing_a_project_and_undoing_it(org, owner):
    project = ProjectFactory(organization=org, name="Portal", status=ProjectStatus.ACTIVE)
    plan = actions.plan_close_project(project=project, status=ProjectStatus.DONE)
    fix = actions.action_apply(organization=org, plan=plan, actor=owner)
    edited, applied = entries(org)
    assert (edited.action, edited.target_kind, edited.target_id, edited.changes) == (
        "edited",
        "project",
        project.pk,
        {"status": ["Active", "Done"]},
    )
    assert (applied.actor, applied.action, applied.target_kind, applied.target_id) == (
        owner,
        "applied fix",
        "health_action",
        fix.pk,
    )
    assert applied.target_label == "Closed Portal as done"
    assert applied.changes == {"Portal · status": ["Active", "Done"]}

    actions.action_undo(action=fix, actor=owner)
    reverted, undone = entries(org)[2:]
    assert reverted.changes == {"status": ["Done", "Active"]}
    assert (undone.action, undone.target_id, undone.changes) == (
        "undid fix",
        fix.pk,
        {"changes reversed": [None, 1]},
    )


def test_reassigning_tasks_logs_each_task(org, owner):
    gone = PersonFactory(organization=org, name="Jo Former", departed_on=datetime.date(2026, 1, 31))
    maya = PersonFactory(organization=org, name="Maya Okafor")
    tasks = [TaskFactory(organization=org, title=f"Call {n}", assignee=gone) for n in (1, 2)]
    plan = actions.plan_reassign_tasks(organization=org, departed=gone, to=maya)
    actions.action_apply(organization=org, plan=plan, actor=owner)
    edits = entries(org, target_kind="task")
    assert {(e.target_id, e.actor_id) for e in edits} == {(t.pk, owner.pk) for t in tasks}
    assert all(e.changes == {"assignee": ["Jo Former", "Maya Okafor"]} for e in edits)
    (applied,) = entries(org, action="applied fix")
    assert applied.changes == {
        "Call 1 · assignee": ["Jo Former", "Maya Okafor"],
        "Call 2 · assignee": ["Jo Former", "Maya Okafor"],
    }


def test_a_merge_archives_the_copy(org, owner):
    survivor = PersonFactory(organization=org, name="Maya Okafor", email="maya@example.org")
    copy = PersonFactory(organization=org, name="maya okafor", email="")
    task = TaskFactory(organization=org, title="Call", assignee=copy)
    plan = actions.plan_merge(
        organization=org, model="person", survivor_id=survivor.pk, ids=[copy.pk]
    )
    actions.action_apply(organization=org, plan=plan, actor=owner)
    (moved,) = entries(org, target_kind="task")
    assert moved.target_id == task.pk and moved.changes["assignee"][1] == "Maya Okafor"
    (archived,) = entries(org, target_kind="person")
    assert (archived.action, archived.target_id) == ("archived", copy.pk)
    assert archived.changes["name"][1].startswith("Merged into")
    assert not Person.objects.for_org(org).filter(pk=copy.pk).exists()


def test_a_finding_marked_not_a_problem_and_shown_again(owner_client, org, owner):
    gone = PersonFactory(organization=org, name="Jo Former", departed_on=datetime.date(2026, 1, 31))
    TaskFactory(organization=org, title="Orphaned", assignee=gone)
    services.findings_compute(organization=org)
    finding = Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE)
    assert entries(org) == []  # computing findings changes no record: nothing logged
    url = reverse("finding_dismiss", kwargs={"org_slug": org.slug, "finding_id": finding.pk})
    owner_client.post(url)
    owner_client.post(url, {"undo": "1"})
    dismissed, restored = entries(org)
    assert (dismissed.actor, dismissed.action, dismissed.target_kind, dismissed.target_id) == (
        owner,
        "dismissed",
        "finding",
        finding.pk,
    )
    assert dismissed.target_label.startswith(finding.get_kind_display())
    assert dismissed.changes == {"status": ["open", "not a problem"]}
    assert (restored.action, restored.changes) == (
        "restored",
        {"status": ["not a problem", "open"]},
    )
