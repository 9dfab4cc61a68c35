"""The activity feed: every check-in is in it however it was made (in MissionOS, brought by the
sync, built by the demo), every check-in says who made it or where it came from, and a save
that changes nothing (a status set to what it is, a form saved untouched) is no activity."""

from __future__ import annotations

import pytest
from django.urls import reverse

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
