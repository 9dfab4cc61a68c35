"""Archive, restore and delete-when-empty (okrs.lifecycle, okrs.services.record_*): what goes
with a parent and comes back with it, every count and list leaving archived rows out, history
surviving, the delete refusal, the pages, roles and the other organization's 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from okrs import selectors, services
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import AuditEntry, Person, Role
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def plan(org, owner):
    cycle = CycleFactory(organization=org)
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title="Cut waits")
    kr = KeyResultFactory(organization=org, objective=objective, title="Clinics open")
    other_kr = KeyResultFactory(organization=org, objective=objective, title="Wait days")
    services.check_in_create(
        key_result=kr, value=Decimal(40), confidence=7, note="Good week", author=owner
    )
    project = ProjectFactory(organization=org, pathway=pathway, name="New clinic")
    project.objectives.set([objective])
    person = PersonFactory(organization=org, name="Ann Lee")
    tasks = [
        TaskFactory(organization=org, project=project, title=f"Step {n}", assignee=person)
        for n in range(3)
    ]
    return {
        "cycle": cycle,
        "pathway": pathway,
        "objective": objective,
        "kr": kr,
        "other_kr": other_kr,
        "project": project,
        "tasks": tasks,
        "person": person,
    }


def live(model, org):
    return set(model.objects.for_org(org).values_list("pk", flat=True))


# -- services ---------------------------------------------------------------------------------


def test_archiving_a_project_takes_its_tasks_and_restoring_brings_them_back(org, owner, plan):
    project, tasks = plan["project"], plan["tasks"]
    services.record_archive(record=tasks[0], actor=owner)  # archived on its own, before

    with_it = services.record_archive(record=project, actor=owner)
    assert {t.pk for t in with_it} == {tasks[1].pk, tasks[2].pk}
    assert not live(Project, org) and not live(Task, org)

    restored = services.record_restore(record=project, actor=owner)
    assert {t.pk for t in restored} == {tasks[1].pk, tasks[2].pk}
    # The task archived on its own stays archived: it did not go with the project.
    assert live(Task, org) == {tasks[1].pk, tasks[2].pk}
    stored = Task.objects.for_org(org).get(pk=tasks[1].pk)
    assert stored.source_extra == {}

    actions = list(
        AuditEntry.objects.for_org(org)
        .filter(target_kind="task", target_id=tasks[1].pk)
        .values_list("action", flat=True)
    )
    assert actions[:2] == ["restored", "archived"]


def test_archiving_a_pathway_takes_objectives_and_key_results_and_keeps_history(org, owner, plan):
    services.record_archive(record=plan["pathway"], actor=owner)
    assert not live(Objective, org) and not live(KeyResult, org)
    # Linked, not contained: the project stays.
    assert live(Project, org) == {plan["project"].pk}
    # Check-ins are history: not archived, not lost.
    assert CheckIn.objects.for_org(org).filter(key_result=plan["kr"]).count() == 1

    services.record_restore(record=plan["pathway"], actor=owner)
    assert live(KeyResult, org) == {plan["kr"].pk, plan["other_kr"].pk}
    check_in = CheckIn.objects.for_org(org).get(key_result=plan["kr"])
    assert check_in.note == "Good week"
    page = selectors.objective_page(organization=org, objective_id=plan["objective"].pk)
    assert page.live_key_results[0].pk == plan["kr"].pk
    assert len(page.live_key_results[0].check_ins.all()) == 1


def test_a_record_inside_an_archived_one_is_not_restored_alone(org, owner, plan):
    services.record_archive(record=plan["objective"], actor=owner)
    with pytest.raises(ValidationError, match="archived objective"):
        services.record_restore(record=plan["kr"], actor=owner)
    with pytest.raises(ValidationError, match="already archived"):
        services.record_archive(record=plan["objective"], actor=owner)
    with pytest.raises(ValidationError, match="not archived"):
        services.record_restore(record=plan["project"], actor=owner)


def test_delete_only_when_empty_says_what_it_holds(org, owner, plan):
    with pytest.raises(ValidationError) as refused:
        services.record_delete(record=plan["project"], actor=owner)
    assert "still holds 3 tasks" in refused.value.messages[0]
    assert "Archive it instead" in refused.value.messages[0]
    with pytest.raises(ValidationError, match="1 check-in"):
        services.record_delete(record=plan["kr"], actor=owner)
    with pytest.raises(ValidationError, match="3 tasks assigned to them"):
        services.record_delete(record=plan["person"], actor=owner)
    with pytest.raises(ValidationError, match="2 key results and 1 linked project"):
        services.record_delete(record=plan["objective"], actor=owner)

    services.record_delete(record=plan["other_kr"], actor=owner)
    for task in plan["tasks"]:
        services.record_delete(record=task, actor=owner)
    services.record_delete(record=plan["project"], actor=owner)
    assert not KeyResult.objects.for_org(org, include_archived=True).filter(pk=plan["other_kr"].pk)
    assert not Project.objects.for_org(org, include_archived=True).exists()
    deleted = AuditEntry.objects.for_org(org).filter(action="deleted")
    assert deleted.count() == 5
    # An archived task still counts as what the project holds.
    project = ProjectFactory(organization=org)
    task = TaskFactory(organization=org, project=project)
    services.record_archive(record=task, actor=owner)
    with pytest.raises(ValidationError, match="1 task"):
        services.record_delete(record=project, actor=owner)


def test_archived_rows_leave_every_count_and_list(org, owner, plan):
    project = plan["project"]
    plan["person"].user = owner
    plan["person"].save()
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    for task in plan["tasks"]:
        task.due_on = yesterday
        task.save()
    plan["kr"].owner = plan["person"]
    plan["kr"].save()

    before = selectors.dashboard(organization=org)
    assert before.totals["project_count"] == 1 and before.overdue_count == 3
    assert len(before.recent_check_ins) == 1
    assert [p.objective_count for p in before.pathways] == [1]
    work = selectors.my_work(user=owner)
    assert len(work[0].open_tasks) == 3 and len(work[0].key_results) == 1

    services.record_archive(record=project, actor=owner)
    services.record_archive(record=plan["objective"], actor=owner)

    after = selectors.dashboard(organization=org)
    assert after.totals == {
        "project_count": 0,
        "active_project_count": 0,
        "task_count": 0,
        "open_task_count": 0,
    }
    assert after.overdue_count == 0 and after.recent_check_ins == []
    assert [p.objective_count for p in after.pathways] == [0]
    assert [p.progress for p in after.pathways] == [None]
    assert selectors.my_work(user=owner) == []
    page = selectors.project_list(organization=org, filters=selectors.ProjectFilters())
    assert list(page) == []
    pathway = selectors.pathway_page(organization=org, pathway_id=plan["pathway"].pk)
    assert pathway["project_count"] == 0 and pathway["objectives"] == []

    services.record_archive(record=plan["person"], actor=owner)
    assert not Person.objects.for_org(org).exists()


def test_cycles_and_people_archive_too(org, owner, plan):
    services.record_archive(record=plan["cycle"], actor=owner)
    assert not live(Cycle, org) and not live(Objective, org)
    assert live(Pathway, org) == {plan["pathway"].pk}
    services.record_restore(record=plan["cycle"], actor=owner)
    assert live(Objective, org) == {plan["objective"].pk}


def test_the_archive_lists_what_was_archived_on_its_own_with_what_went_with_it(org, owner, plan):
    services.record_archive(record=plan["pathway"], actor=owner)
    services.record_archive(record=plan["tasks"][0], actor=owner)
    groups = {g["kind"].name: g["records"] for g in selectors.archived_records(organization=org)}
    assert list(groups) == ["pathway", "task"]
    assert groups["pathway"][0].archived_with == ["1 objective", "2 key results"]
    assert groups["task"][0].archived_with == []


# -- pages --------------------------------------------------------------------------------------


def test_archive_confirm_then_archive_page_then_restore(client, org, owner, plan):
    client.force_login(owner)
    project = plan["project"]
    page = client.get(url("project_archive", org, project_id=project.pk)).content.decode()
    assert "Archive project “New clinic”?" in page and "3 tasks" in page
    edit = client.get(url("project_edit", org, project_id=project.pk)).content.decode()
    assert url("project_archive", org, project_id=project.pk) in edit
    assert url("project_delete", org, project_id=project.pk) in edit

    response = client.post(url("project_archive", org, project_id=project.pk))
    assert response.status_code == 302 and response.url == url("project_list", org)
    assert client.get(url("project_detail", org, project_id=project.pk)).status_code == 404

    archive = client.get(url("archive", org)).content.decode()
    assert "New clinic" in archive and "3 tasks" in archive
    assert url("project_restore", org, project_id=project.pk) in archive

    response = client.post(url("project_restore", org, project_id=project.pk))
    assert response.status_code == 302 and response.url == url("archive", org)
    assert client.get(url("project_detail", org, project_id=project.pk)).status_code == 200
    assert live(Task, org) == {t.pk for t in plan["tasks"]}


def test_delete_page_refuses_what_is_not_empty_and_offers_archive(client, org, owner, plan):
    client.force_login(owner)
    project = plan["project"]
    page = client.get(url("project_delete", org, project_id=project.pk)).content.decode()
    assert "cannot be deleted" in page and "3 tasks" in page
    assert url("project_archive", org, project_id=project.pk) in page
    response = client.post(url("project_delete", org, project_id=project.pk))
    assert response.status_code == 400 and "3 tasks" in response.content.decode()
    assert live(Project, org) == {project.pk}

    task = plan["tasks"][0]
    response = client.post(url("task_delete", org, task_id=task.pk))
    assert response.status_code == 302 and response.url == url(
        "project_detail", org, project_id=project.pk
    )
    assert not Task.objects.for_org(org, include_archived=True).filter(pk=task.pk).exists()


def test_cycle_edit(client, org, owner, plan):
    client.force_login(owner)
    cycle = plan["cycle"]
    response = client.post(
        url("cycle_edit", org, cycle_id=cycle.pk),
        {"name": " Q3 2026 ", "starts_on": "2026-07-01", "ends_on": "2026-09-30"},
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.name == "Q3 2026"


@pytest.mark.parametrize(
    ("role", "name", "key", "allowed"),
    [
        (Role.MEMBER, "task_archive", "task", True),
        (Role.VIEWER, "task_archive", "task", False),
        (Role.MEMBER, "project_archive", "project", False),
        (Role.ADMIN, "project_archive", "project", True),
        (Role.ADMIN, "person_archive", "person", True),
    ],
)
def test_who_may_archive_is_who_may_edit(client, org, member_of, plan, role, name, key, allowed):
    client.force_login(member_of(org, role))
    record = plan["tasks"][0] if key == "task" else plan[key]
    response = client.post(url(name, org, **{f"{key}_id": record.pk}))
    assert response.status_code == (302 if allowed else 403)
    assert (type(record).objects.for_org(org).filter(pk=record.pk).exists()) is not allowed


def test_another_organizations_records_are_404(client, org, other_org, owner, plan):
    client.force_login(owner)
    theirs = ProjectFactory(organization=other_org)
    their_task = TaskFactory(organization=other_org, project=theirs)
    services.record_archive(record=their_task, actor=None)
    for name, kwargs in (
        ("project_archive", {"project_id": theirs.pk}),
        ("project_delete", {"project_id": theirs.pk}),
        ("project_restore", {"project_id": theirs.pk}),
        ("task_restore", {"task_id": their_task.pk}),
    ):
        assert client.post(url(name, org, **kwargs)).status_code == 404, name
        assert client.get(url(name, org, **kwargs)).status_code in (404, 405), name
    assert "Step" not in client.get(url("archive", org)).content.decode()
    assert Task.objects.for_org(other_org, include_archived=True).get().archived_at is not None


def test_a_viewer_sees_the_archive_without_restore_buttons(client, org, owner, member_of, plan):
    services.record_archive(record=plan["project"], actor=owner)
    client.force_login(member_of(org, Role.VIEWER))
    page = client.get(url("archive", org)).content.decode()
    assert "New clinic" in page and "Restore" not in page


def test_only_what_was_archived_here_is_restored_here(org, owner, plan):
    """A row the sync archived (gone from Airtable) or data health merged away is not this
    page's to bring back."""
    task = plan["tasks"][0]
    Task.objects.for_org(org).filter(pk=task.pk).update(
        archived_at=datetime.datetime.now(datetime.UTC), source_record_id="recGONE000000001"
    )
    with pytest.raises(ValidationError, match="gone from Airtable"):
        services.record_restore(record=task, actor=owner)
    merged = plan["tasks"][1]
    Task.objects.for_org(org).filter(pk=merged.pk).update(
        archived_at=datetime.datetime.now(datetime.UTC), source_extra={"merged_into": task.pk}
    )
    with pytest.raises(ValidationError, match="not archived from its Archive page"):
        services.record_restore(record=merged, actor=owner)
    assert selectors.archived_records(organization=org) == []


def test_a_project_linked_to_an_archived_pathway_can_still_be_edited(client, org, owner, plan):
    services.record_archive(record=plan["pathway"], actor=owner)
    client.force_login(owner)
    edit = url("project_edit", org, project_id=plan["project"].pk)
    form = client.get(edit).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["name"] = "Renamed clinic"
    response = client.post(edit, data)
    assert response.status_code == 302, response.context["form"].errors
    assert Project.objects.for_org(org).get().name == "Renamed clinic"
    # New choices leave the archived pathway out.
    new = client.get(url("project_create", org)).context["form"]
    assert plan["pathway"] not in new.fields["pathway"].queryset
