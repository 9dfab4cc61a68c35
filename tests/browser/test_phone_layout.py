"""On a phone: every tab of the organization's navigation is in sight, the role is a link to
the help page, and the projects table fits the screen (its rows become cards)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orgs.models import Membership, Role
from tests.browser.conftest import PHONE, shoot
from tests.browser.test_pages import log_in
from tests.factories import (
    OrganizationFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    UserFactory,
)


@pytest.fixture
def owner_org(transactional_db):
    user = UserFactory(username="dana")
    org = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=user, organization=org, role=Role.OWNER)
    pathway = PathwayFactory(organization=org, name="Patient access")
    owner = PersonFactory(organization=org, name="Maya Okafor")
    for i in range(6):
        ProjectFactory(
            organization=org, pathway=pathway, owner=owner, name=f"Night clinics phase {i}"
        )
    return org


def test_on_a_phone_nothing_is_cut_off(live_server, page, owner_org, screenshot_dir):
    log_in(page, live_server)
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    for path in ("/o/north/", "/o/north/projects/", "/help/"):
        page.goto(live_server.url + path)
        width = page.evaluate("window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        off_screen = page.evaluate(
            """(width) => [...document.querySelectorAll('.org-nav a, .table-wrap td')]
                 .filter(e => e.getBoundingClientRect().right > width + 0.5)
                 .map(e => e.textContent.trim())""",
            width,
        )
        assert off_screen == [], (path, off_screen)
    page.goto(live_server.url + "/o/north/")
    role = page.get_by_role("link", name="Your role: Owner")
    expect(role).to_be_visible()
    role.click()
    expect(page.get_by_role("heading", name="What each role allows")).to_be_visible()
    for name, path in (("help", "/help/"), ("projects", "/o/north/projects/")):
        page.goto(live_server.url + path)
        shoot(page, screenshot_dir, f"phone-{name}", desktop=(1366, 800))
