"""Issue 14: a member sets their own check-in cadence on Notifications, in Chromium, and
My work says it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orgs.models import Role
from tests.browser.conftest import shoot
from tests.browser.test_pages import log_in
from tests.factories import (
    KeyResultFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    UserFactory,
)


@pytest.fixture
def dana(transactional_db):
    """Dana owns a key result in North Unit, and belongs to South Unit without an entry in
    its directory."""
    north = OrganizationFactory(name="North Unit", slug="north")
    south = OrganizationFactory(name="South Unit", slug="south")
    user = UserFactory(username="dana", email="dana@example.org")
    for organization in (north, south):
        MembershipFactory(user=user, organization=organization, role=Role.MEMBER)
    person = PersonFactory(organization=north, name="Dana", user=user)
    KeyResultFactory(organization=north, owner=person, title="Clinics open")
    return person


def test_a_member_sets_their_own_cadence(live_server, page, dana, screenshot_dir):
    log_in(page, live_server)
    page.goto(live_server.url + "/notifications/")
    expect(page.get_by_text("You are not linked to an entry in its directory")).to_be_visible()
    page.get_by_label("Check-in cadence in North Unit").select_option("fortnightly")
    shoot(page, screenshot_dir, "notifications-cadence", desktop=(1366, 900))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You now check in every two weeks in North Unit.")).to_be_visible()
    expect(page.get_by_label("Check-in cadence in North Unit")).to_have_value("fortnightly")

    page.goto(live_server.url + "/my-work/")
    note = page.locator(".cadence-note")
    expect(note).to_have_text("You check in every two weeks — change")
    note.get_by_role("link", name="change").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
