"""What a person sees in Chromium: login, switching organizations, inline updates."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orgs.models import Membership, Role
from tests.factories import (
    PASSWORD,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)


@pytest.fixture
def two_units(transactional_db):
    user = UserFactory(username="dana")
    north = OrganizationFactory(name="North Unit", slug="north")
    south = OrganizationFactory(name="South Unit", slug="south")
    Membership.objects.create(user=user, organization=north, role=Role.MEMBER)
    Membership.objects.create(user=user, organization=south, role=Role.MEMBER)
    cycle = CycleFactory(organization=north)
    pathway = PathwayFactory(organization=north, name="Patient access")
    objective = ObjectiveFactory(
        organization=north, pathway=pathway, cycle=cycle, title="Cut waiting times"
    )
    kr = KeyResultFactory(
        organization=north, objective=objective, title="Clinics open", target_value=10
    )
    PathwayFactory(organization=south, name="Research grants")
    project = ProjectFactory(organization=north, pathway=pathway, name="Night clinics")
    TaskFactory(organization=north, project=project, title="Hire nurses")
    TaskFactory(organization=north, project=project, title="Book rooms")
    return {"objective": objective, "kr": kr, "project": project}


def log_in(page, live_server, username="dana"):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_login_and_switch_organizations_in_one_click(live_server, page, two_units):
    log_in(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("North Unit")
    expect(page.get_by_role("link", name="Patient access")).to_be_visible()

    page.get_by_role("navigation", name="Switch organization").get_by_role(
        "link", name="South Unit"
    ).click()
    expect(page).to_have_url(re.compile(r"/o/south/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("South Unit")
    expect(page.get_by_role("link", name="Research grants")).to_be_visible()
    expect(page.get_by_text("Patient access")).to_have_count(0)


def test_check_in_moves_objective_and_pathway_without_reload(
    live_server, page, two_units, screenshot_dir
):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/objectives/{two_units['objective'].pk}/")
    summary = page.locator("#objective-progress")
    # No check-in yet: not started, no progress (issue 14), rather than 0% and off track.
    expect(summary.get_by_text("Not started")).to_be_visible()
    expect(summary.get_by_role("progressbar", name="Objective progress")).not_to_have_attribute(
        "aria-valuenow", re.compile(".*")
    )
    page.evaluate("window.__sameDocument = true")

    card = page.locator(f"#kr-{two_units['kr'].pk}")
    card.get_by_label("New value").fill("4")
    card.get_by_label("Confidence").fill("7")
    card.get_by_label("Note").fill("Two clinics opened this week")
    card.get_by_role("button", name="Save check-in").click()

    expect(page.get_by_text("Check-in saved.")).to_be_visible()
    expect(summary.get_by_role("progressbar", name="Objective progress")).to_have_attribute(
        "aria-valuenow", "40"
    )
    expect(summary.get_by_role("progressbar", name="Pathway progress")).to_have_attribute(
        "aria-valuenow", "40"
    )
    assert page.evaluate("window.__sameDocument") is True  # no full reload happened
    page.screenshot(path=screenshot_dir / "objective.png", full_page=True)

    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator(".pathway-card").get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", "40"
    )
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)


def test_bad_check_in_shows_the_error_beside_the_field(live_server, page, two_units):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/objectives/{two_units['objective'].pk}/")
    card = page.locator(f"#kr-{two_units['kr'].pk}")
    card.get_by_label("New value").fill("4")
    card.get_by_label("Confidence").fill("11")
    card.get_by_role("button", name="Save check-in").click()
    expect(card.get_by_text("Ensure this value is less than or equal to 10.")).to_be_visible()
    expect(card.get_by_label("New value")).to_have_value("4")  # what was typed is kept


def test_moving_a_task_updates_completion_inline(live_server, page, two_units):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/projects/{two_units['project'].pk}/")
    expect(page.get_by_text("0 of 2 tasks done")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Status of Hire nurses").select_option("done")
    expect(page.get_by_text("1 of 2 tasks done")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    # With scripts running, the no-JavaScript "Update" buttons are hidden.
    expect(page.get_by_role("button", name="Update").first).to_be_hidden()
