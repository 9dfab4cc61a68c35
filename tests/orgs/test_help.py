"""The help page says how MissionOS works, and what each role allows as orgs.roles decides it;
the role in the navigation is a link to it, not a button that does nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orgs.models import Membership, Role
from orgs.roles import LEAST_ROLE, Action
from orgs.selectors import ACTION_TEXT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, org):
    user = UserFactory()
    Membership.objects.create(user=user, organization=org, role=Role.VIEWER)
    client.force_login(user)
    return user


def test_every_action_has_words_on_the_help_page():
    assert set(ACTION_TEXT) == {str(action) for action in Action}


def test_the_help_page_says_what_each_role_allows(client, viewer):
    html = client.get(reverse("help")).content.decode()
    for section in ("roles", "numbers", "sync", "health"):
        assert f'id="{section}"' in html
    for role in Role:
        row = re.search(rf'<tr id="role-{role.value}".*?</tr>', html, re.S).group(0)
        for action, least in LEAST_ROLE.items():
            assert (ACTION_TEXT[action] in row) == role.allows(least), (role, action)


def test_the_role_in_the_navigation_links_to_what_it_allows(client, org, viewer):
    html = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert re.search(
        rf'<a class="role-tag" href="{reverse("help")}#role-viewer"[^>]*>Your role: Viewer</a>',
        html,
    )
    assert f'<a href="{reverse("help")}"' in html  # in the header, on every page
