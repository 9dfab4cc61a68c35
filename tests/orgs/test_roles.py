"""Roles, enforced on the server: every action × every role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orgs.models import Role
from tests.factories import KeyResultFactory, MembershipFactory, PersonFactory, TaskFactory

pytestmark = pytest.mark.django_db

# action -> (URL name, method, form data, lowest role allowed)
ACTIONS = {
    "read the dashboard": ("org_home", "get", None, Role.VIEWER),
    "read a project": ("project_detail", "get", None, Role.VIEWER),
    "read people": ("people_list", "get", None, Role.VIEWER),
    "check in": ("check_in_create", "post", {"value": "3"}, Role.MEMBER),
    "move a task": ("task_status", "post", {"status": "done"}, Role.MEMBER),
    "add a task": ("task_create", "post", {"title": "New", "status": "todo"}, Role.MEMBER),
    "edit a task": ("task_edit", "post", {"title": "Renamed", "status": "todo"}, Role.MEMBER),
    "add a pathway": ("pathway_create", "post", {"name": "P", "position": "1"}, Role.ADMIN),
    "edit an objective": ("objective_edit", "get", None, Role.ADMIN),
    "add a key result": ("key_result_create", "get", None, Role.ADMIN),
    "add a project": ("project_create", "post", {"name": "X", "status": "planned"}, Role.ADMIN),
    "edit a person": ("person_edit", "post", {"name": "Renamed"}, Role.ADMIN),
    "add a cycle": ("cycle_create", "get", None, Role.ADMIN),
    "see members": ("member_list", "get", None, Role.OWNER),
    "change a role": ("member_role", "post", {"role": "admin"}, Role.OWNER),
    "remove a member": ("member_remove", "post", {}, Role.OWNER),
}


@pytest.fixture
def objects(org):
    key_result = KeyResultFactory(organization=org)
    task = TaskFactory(organization=org)
    return {
        "objective_id": key_result.objective_id,
        "key_result_id": key_result.pk,
        "project_id": task.project_id,
        "task_id": task.pk,
        "person_id": PersonFactory(organization=org).pk,
        "membership_id": MembershipFactory(organization=org, role=Role.VIEWER).pk,
    }


def action_url(name, org, objects):
    from django.urls import get_resolver

    route_params = {
        param
        for possibility in get_resolver().reverse_dict.getlist(name)
        for param in possibility[0][0][1]
    }
    kwargs = {key: objects[key] for key in route_params if key != "org_slug"}
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_matrix(client, org, objects, member_of, role, action):
    name, method, data, lowest = ACTIONS[action]
    client.force_login(member_of(org, role))
    response = getattr(client, method)(action_url(name, org, objects), data or {})
    if role.allows(lowest):
        assert response.status_code in (200, 302), f"{role} should be able to {action}"
    else:
        assert response.status_code == 403, f"{role} must not {action}"


def test_roles_are_ordered():
    assert Role.OWNER.allows(Role.ADMIN) and Role.ADMIN.allows(Role.MEMBER)
    assert not Role.VIEWER.allows(Role.MEMBER) and not Role.ADMIN.allows(Role.OWNER)


def test_viewers_see_no_forms_they_cannot_use(client, org, objects, member_of):
    client.force_login(member_of(org, Role.VIEWER))
    objective = client.get(reverse("objective_detail", args=[org.slug, objects["objective_id"]]))
    assert b"Save check-in" not in objective.content
    project = client.get(reverse("project_detail", args=[org.slug, objects["project_id"]]))
    assert b'name="status"' not in project.content and b"New task" not in project.content


def test_refusals_are_explained_on_a_finished_page(client, org, objects, member_of):
    client.force_login(member_of(org, Role.VIEWER))
    refused = client.get(reverse("member_list", args=[org.slug]))
    assert refused.status_code == 403
    assert "This needs the owner role." in refused.content.decode()
    assert 'class="org-switcher"' in refused.content.decode()  # the full layout, not a bare page
    missing = client.get(reverse("project_detail", args=[org.slug, 999_999]))
    assert missing.status_code == 404
    assert "There is nothing here" in missing.content.decode()
