"""Roles: their order, and what a refusal looks like. Who may do what on every page of an
organization is the matrix in tests/orgs/test_role_matrix.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orgs.models import Role
from tests.factories import KeyResultFactory, MembershipFactory, PersonFactory, TaskFactory

pytestmark = pytest.mark.django_db


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
