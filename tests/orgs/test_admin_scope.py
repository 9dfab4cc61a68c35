"""The admin is scoped like every page: a staff user sees, filters by and links to the rows of
the organizations they belong to; a superuser sees every organization's."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from okrs.models import Task
from orgs.models import Role
from tests.factories import PersonFactory, ProjectFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, org, member_of):
    """A staff user of `org` (not of other_org) with every model permission."""
    user = member_of(org, Role.ADMIN, username="stella", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    client.force_login(user)
    return client


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def both(org, other_org):
    return {
        "mine": PersonFactory(organization=org, name="Mina Mine"),
        "theirs": PersonFactory(organization=other_org, name="Theo Theirs"),
    }


def test_lists_show_only_my_organizations_rows(staff_client, both):
    page = staff_client.get("/admin/orgs/person/").content.decode()
    assert "Mina Mine" in page
    assert "Theo Theirs" not in page


def test_another_organizations_row_is_not_found(staff_client, both):
    theirs = both["theirs"]
    response = staff_client.get(f"/admin/orgs/person/{theirs.pk}/change/", follow=True)
    assert "Theo Theirs" not in response.content.decode()
    assert "doesn’t exist" in response.content.decode()  # the admin's "not found"
    deleted = staff_client.post(f"/admin/orgs/person/{theirs.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    theirs.refresh_from_db()  # still there


def test_the_organization_filter_and_list_name_only_my_organizations(
    staff_client, both, org, other_org
):
    people = staff_client.get("/admin/orgs/person/").content.decode()
    assert org.name in people
    assert other_org.name not in people
    organizations = staff_client.get("/admin/orgs/organization/").content.decode()
    assert org.name in organizations and other_org.name not in organizations
    memberships = staff_client.get("/admin/orgs/membership/").content.decode()
    assert other_org.name not in memberships


def test_a_foreign_key_to_another_organizations_row_is_refused(staff_client, org, other_org):
    theirs = ProjectFactory(organization=other_org, name="Their project")
    response = staff_client.post(
        "/admin/okrs/task/add/",
        {"organization": org.pk, "title": "Sneaky", "status": "todo", "project": theirs.pk},
    )
    assert response.status_code == 200
    assert "project" in response.context["adminform"].form.errors
    assert not Task.objects.unscoped(include_archived=True).filter(title="Sneaky").exists()
    response = staff_client.post(
        "/admin/okrs/task/add/",
        {"organization": other_org.pk, "title": "Sneaky", "status": "todo"},
    )
    assert "organization" in response.context["adminform"].form.errors


def test_autocomplete_offers_only_my_organizations_rows(staff_client, org, other_org):
    ProjectFactory(organization=org, name="Clinic hours")
    ProjectFactory(organization=other_org, name="Clinic logistics")
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "okrs", "model_name": "task", "field_name": "project", "term": "Clinic"},
    )
    names = [result["text"] for result in response.json()["results"]]
    assert names == ["Clinic hours"]


def test_a_superuser_sees_every_organization(superuser_client, both):
    page = superuser_client.get("/admin/orgs/person/").content.decode()
    assert "Mina Mine" in page and "Theo Theirs" in page
    theirs = both["theirs"]
    assert superuser_client.get(f"/admin/orgs/person/{theirs.pk}/change/").status_code == 200


def test_archived_rows_stay_visible_in_the_admin(staff_client, org):
    task = TaskFactory(organization=org, title="Archived by the sync")
    Task.objects.for_org(org).filter(pk=task.pk).update(archived_at=task.created_at)
    assert "Archived by the sync" in staff_client.get("/admin/okrs/task/").content.decode()
