"""The header's search box and the search page at desktop and phone widths: a pasted message
finds the right project first, and the arrow keys walk the results (static/js/app.js)."""

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
    TaskFactory,
    UserFactory,
)

DESKTOP = (1366, 800)


@pytest.fixture
def north(transactional_db):
    user = UserFactory(username="dana")
    org = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=user, organization=org, role=Role.VIEWER)
    people = PathwayFactory(organization=org, name="People & Culture")
    priya = PersonFactory(organization=org, name="Priya Patel")
    onboarding = ProjectFactory(
        organization=org, name="New-starter onboarding", pathway=people, owner=priya
    )
    ProjectFactory(organization=org, name="Onboarding checklist refresh", pathway=people)
    TaskFactory(organization=org, project=onboarding, title="Book laptops for new starters")
    return org


def test_a_pasted_message_finds_the_project_and_the_keys_walk_the_results(
    live_server, page, north, screenshot_dir
):
    log_in(page, live_server)
    box = page.get_by_label("Find anything in North Unit")
    box.fill("hi, any news on the new-starter onbaording thing??")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    hits = page.locator("[data-search-hit]")
    expect(page.locator("#search-projects [data-search-hit]").first).to_contain_text(
        "New-starter onboarding"
    )
    expect(page.locator("#search-projects")).to_contain_text("Priya Patel")
    for width, height in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (width, overflow)
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    shoot(page, screenshot_dir, "search-results", desktop=DESKTOP)

    page.locator("#search-page-q").focus()
    page.keyboard.press("ArrowDown")
    expect(hits.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(hits.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#search-page-q")).to_be_focused()
    page.keyboard.press("ArrowDown")
    first = hits.nth(0).get_attribute("href")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}{first}")


def test_no_results_say_what_to_try(live_server, page, north, screenshot_dir):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/search/?q=zzqxv")
    expect(page.get_by_text("Try fewer words")).to_be_visible()
    shoot(page, screenshot_dir, "search-nothing", desktop=DESKTOP)
