"""The activity feed: every check-in is in it however it was made (in MissionOS, brought by the
sync, built by the demo), every check-in says who made it or where it came from, and a save
that changes nothing (a status set to what it is, a form saved untouched) is no activity."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs import selectors, services
from okrs.models import TaskStatus
from orgs.models import Activity, AuditEntry, Membership, Role
from orgs.templatetags.activity import activity_actor
from tests.factories import (
    CheckInFactory,
    KeyResultFactory,
    ObjectiveFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_a_status_set_to_the_value_it_has_is_not_a_change(org):
    task = TaskFactory(organization=org, status=TaskStatus.IN_PROGRESS)
    user = UserFactory()
    services.task_set_status(task=task, status=TaskStatus.IN_PROGRESS, actor=user)
    assert not Activity.objects.for_org(org).exists()
    assert not AuditEntry.objects.for_org(org).exists()
    services.task_set_status(task=task, status=TaskStatus.DONE, actor=user)
    assert list(Activity.objects.for_org(org).values_list("verb", "detail")) == [
        ("moved", "to Done")
    ]


def test_a_form_saved_untouched_is_no_activity(org):
    project = ProjectFactory(organization=org)
    task = TaskFactory(organization=org, project=project)
    services.project_save(project=project)
    services.task_save(task=task)
    assert not Activity.objects.for_org(org).exists()
    task.title = "Renamed"
    services.task_save(task=task)
    assert Activity.objects.for_org(org).count() == 1


def test_check_ins_made_elsewhere_are_in_the_feed_dated_when_made(org):
    kr = KeyResultFactory(organization=org, title="Clinics open", unit="clinics")
    made = CheckInFactory(organization=org, key_result=kr, value=4)
    services.check_ins_noted(organization=org, check_ins=[made], by="Airtable")
    dashboard = selectors.dashboard(organization=org)
    [line] = dashboard.activity
    assert (activity_actor(line), line.verb, line.subject, line.detail) == (
        "Airtable",  # not "Someone"
        "checked in on",
        "Clinics open",
        "4 clinics",
    )
    assert line.occurred_at == made.checked_in_at


def test_every_check_in_on_the_dashboard_says_who_or_where_from(client, org):
    objective = ObjectiveFactory(organization=org)
    kr = KeyResultFactory(organization=org, objective=objective)
    author = UserFactory(username="maya", first_name="Maya", last_name="Okafor")
    CheckInFactory(organization=org, key_result=kr, author=author, note="by maya")
    CheckInFactory(organization=org, key_result=kr, note="no author")
    viewer = UserFactory()
    Membership.objects.create(user=viewer, organization=org, role=Role.VIEWER)
    client.force_login(viewer)
    html = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Maya Okafor" in html
    assert "author not recorded" in html


def test_lines_for_archived_or_deleted_records_lead_to_the_archive_or_nowhere(
    client, org, member_of, monkeypatch
):
    """Each kind of record the feed names: a live one links to its page; an archived one
    (its page answers 404) to its row on the Archive page, or to the row of what it was
    archived with, tagged "archived"; one the sync archived, or a deleted one, links nowhere."""
    import importlib

    from orgs.models import Person
    from orgs.services import activity_record
    from tests.factories import CycleFactory, PathwayFactory, PersonFactory

    monkeypatch.setattr(importlib.import_module("okrs.selectors.dashboard"), "ACTIVITY_LIMIT", 50)

    def line(record, subject):
        activity_record(record=record, actor=None, verb="edited", subject=subject)

    live = ObjectiveFactory(organization=org)
    pathway = PathwayFactory(organization=org)
    in_pathway = ObjectiveFactory(organization=org, pathway=pathway)
    kr = KeyResultFactory(organization=org, objective=in_pathway)
    project = ProjectFactory(organization=org)
    task = TaskFactory(organization=org, project=project)
    person = PersonFactory(organization=org)
    gone_from_airtable = PersonFactory(organization=org)
    empty = ObjectiveFactory(organization=org, pathway=live.pathway)
    cycle = CycleFactory(organization=org)
    for record, subject in (
        (live, "Live objective"),
        (pathway, "Archived pathway"),
        (in_pathway, "Objective archived with its pathway"),
        (kr, "Key result of that objective"),
        (project, "Archived project"),
        (task, "Task of that project"),
        (person, "Archived person"),
        (gone_from_airtable, "Person the sync archived"),
        (empty, "Deleted objective"),
        (cycle, "Archived cycle"),
    ):
        line(record, subject)
    for record in (pathway, project, person, cycle):
        services.record_archive(record=record, actor=None)
    services.record_delete(record=empty, actor=None)
    Person.objects.for_org(org).filter(pk=gone_from_airtable.pk).update(archived_at=timezone.now())

    client.force_login(member_of(org, Role.ADMIN))
    page = client.get(reverse("org_home", kwargs={"org_slug": org.slug}))
    html = page.text
    archive = reverse("archive", kwargs={"org_slug": org.slug})
    objective_url = reverse(
        "objective_detail", kwargs={"org_slug": org.slug, "objective_id": live.pk}
    )
    assert f'<a href="{objective_url}">Live objective</a>' in html
    for subject, anchor in (
        ("Archived pathway", f"archived-pathway-{pathway.pk}"),
        ("Objective archived with its pathway", f"archived-pathway-{pathway.pk}"),
        ("Key result of that objective", f"archived-pathway-{pathway.pk}"),
        ("Archived project", f"archived-project-{project.pk}"),
        ("Task of that project", f"archived-project-{project.pk}"),
        ("Archived person", f"archived-person-{person.pk}"),
    ):
        assert f'<a href="{archive}#{anchor}">{subject}</a>' in html, subject
    for subject in ("Person the sync archived", "Deleted objective", "Archived cycle"):
        assert f">{subject}<" not in html and subject in html, subject
    states = {entry.subject: entry.target_state for entry in page.context["d"].activity}
    assert states["Deleted objective"] == "deleted"
    assert states["Person the sync archived"] == "archived"
    assert states["Live objective"] == "live"
    # Each link answers: the Archive page has the rows they point at.
    archive_page = client.get(archive).text
    for anchor in (f"archived-pathway-{pathway.pk}", f"archived-project-{project.pk}"):
        assert f'id="{anchor}"' in archive_page
