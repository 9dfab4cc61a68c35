"""Cross-unit staff: the header switcher and where login lands."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orgs.models import Membership, Role
from tests.factories import PASSWORD, OrganizationFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cross_unit(org, other_org):
    user = UserFactory(username="dana")
    Membership.objects.create(user=user, organization=org, role=Role.MEMBER)
    Membership.objects.create(user=user, organization=other_org, role=Role.VIEWER)
    OrganizationFactory(name="Not mine", slug="not-mine")
    return user


def switcher_links(html: str) -> dict[str, str]:
    """slug -> href of the links in the header's organization switcher."""
    nav = re.search(r'<nav class="org-switcher".*?</nav>', html, re.S).group(0)
    return {slug: href for href, slug in re.findall(r'<a href="([^"]+)" data-org="([^"]+)"', nav)}


def test_switcher_lists_only_my_organizations_and_marks_the_current(client, cross_unit, org):
    client.force_login(cross_unit)
    html = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert set(switcher_links(html)) == {"acme", "borealis"}
    assert 'data-org="acme" class="current" aria-current="true"' in html
    assert "Not mine" not in html


def test_switcher_keeps_the_kind_of_page(client, cross_unit, org):
    client.force_login(cross_unit)
    html = client.get(reverse("project_list", args=[org.slug])).content.decode()
    assert switcher_links(html)["borealis"] == reverse("project_list", args=["borealis"])


def test_switcher_from_an_object_page_goes_to_the_other_home(client, cross_unit, org):
    project = ProjectFactory(organization=org)
    client.force_login(cross_unit)
    html = client.get(reverse("project_detail", args=[org.slug, project.pk])).content.decode()
    assert switcher_links(html)["borealis"] == reverse("org_home", args=["borealis"])


def test_one_click_switch_then_login_lands_in_the_last_organization(client, cross_unit):
    client.force_login(cross_unit)
    assert client.get(reverse("project_list", args=["borealis"])).status_code == 200
    assert client.get(reverse("people_list", args=["acme"])).status_code == 200
    assert client.get(reverse("org_home", args=["borealis"])).status_code == 200
    client.post(reverse("logout"))

    response = client.post(reverse("login"), {"username": "dana", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response.url).url == reverse("org_home", args=["borealis"])


def test_login_with_a_wrong_password_says_so(client, cross_unit):
    response = client.post(reverse("login"), {"username": "dana", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_a_user_without_organizations_is_told_what_to_do(client, db):
    client.force_login(UserFactory(username="newbie"))
    response = client.get(reverse("home"))
    assert "You do not belong to an organization yet" in response.content.decode()


def test_switching_writes_only_when_the_organization_changes(client, cross_unit, org):
    client.force_login(cross_unit)
    client.get(reverse("people_list", args=[org.slug]))
    first = Membership.objects.unscoped().get(user=cross_unit, organization=org).last_used_at
    client.get(reverse("people_list", args=[org.slug]))
    assert (
        Membership.objects.unscoped().get(user=cross_unit, organization=org).last_used_at == first
    )
