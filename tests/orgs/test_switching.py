"""Cross-unit staff: the header switcher and where login lands."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orgs.models import Membership, Role
from tests.factories import PASSWORD, OrganizationFactory, ProjectFactory, UserFactory
from tests.orgs.test_tenancy import build_objects, fill, org_patterns

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


def test_switcher_from_an_object_page_goes_to_the_nearest_list(client, cross_unit, org):
    project = ProjectFactory(organization=org)
    client.force_login(cross_unit)
    html = client.get(reverse("project_detail", args=[org.slug, project.pk])).content.decode()
    assert switcher_links(html)["borealis"] == reverse("project_list", args=["borealis"])


def test_switcher_keeps_list_filters_but_not_ids_or_the_page(client, cross_unit, org):
    client.force_login(cross_unit)
    url = reverse("project_list", args=[org.slug])
    html = client.get(url, {"q": "clinic", "status": "active", "pathway": "7", "page": "2"})
    link = switcher_links(html.content.decode())["borealis"].replace("&amp;", "&")
    assert link == reverse("project_list", args=["borealis"]) + "?q=clinic&status=active"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.ADMIN])
def test_switching_from_any_page_never_lands_on_a_refusal(client, org, other_org, role):
    """From every page an owner can open in one organization, the switcher's link to another
    where the user has a lesser role opens a page (the nearest one the role allows)."""
    ids = build_objects(org)
    build_objects(other_org)
    user = UserFactory(username="switcher")
    Membership.objects.create(user=user, organization=org, role=Role.OWNER)
    Membership.objects.create(user=user, organization=other_org, role=role)
    client.force_login(user)
    landed = {}
    for name, params in org_patterns():
        response = client.get(fill(name, params, org.slug, ids))
        if response.streaming or response.status_code != 200:
            continue
        if b'class="org-switcher"' not in response.content:
            continue
        link = switcher_links(response.content.decode())["borealis"].replace("&amp;", "&")
        landed[name] = (link, client.get(link).status_code)
    assert len(landed) > 15
    refused = {name: got for name, got in landed.items() if got[1] != 200}
    assert not refused, f"switching from these pages lands on a refusal: {refused}"


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
