"""The end of a quarter in Chromium: the cycle's review, carrying the unfinished objective
over into the next quarter, its review page, then "My work" with the check-ins due."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect

from okrs.models import Objective
from orgs.models import Role
from tests.browser.conftest import shoot
from tests.browser.test_pages import log_in
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    UserFactory,
)


@pytest.fixture
def quarter_end(transactional_db):
    today = datetime.date.today()
    org = OrganizationFactory(name="North Unit", slug="north")
    dana = UserFactory(username="dana", email="dana@example.org")
    MembershipFactory(user=dana, organization=org, role=Role.ADMIN)
    person = PersonFactory(organization=org, name="Dana", user=dana)
    ended = CycleFactory(
        organization=org,
        name="Last quarter",
        starts_on=today - datetime.timedelta(days=100),
        ends_on=today - datetime.timedelta(days=9),
    )
    CycleFactory(
        organization=org,
        name="This quarter",
        starts_on=today - datetime.timedelta(days=8),
        ends_on=today + datetime.timedelta(days=83),
    )
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(
        organization=org, pathway=pathway, cycle=ended, title="Cut waiting times", owner=person
    )
    KeyResultFactory(
        organization=org,
        objective=objective,
        title="Clinics open",
        current_value=4,
        target_value=10,
        owner=person,
    )
    ProjectFactory(organization=org, pathway=pathway, name="Night clinics").objectives.add(
        objective
    )
    return {"org": org, "objective": objective}


def test_review_carry_over_and_my_work(live_server, page, quarter_end, screenshot_dir):
    log_in(page, live_server)
    objective = quarter_end["objective"]
    page.goto(f"{live_server.url}/o/north/objectives/{objective.pk}/")
    page.get_by_role("link", name="Last quarter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review of Last quarter")
    expect(page.get_by_text("unfinished", exact=True)).to_be_visible()
    shoot(page, screenshot_dir, "cycle-review", desktop=(1366, 800))

    page.get_by_role("button", name="Carry over").click()
    expect(
        page.get_by_text("Carried 1 objective and 1 key result over into This quarter.")
    ).to_be_visible()
    shoot(page, screenshot_dir, "cycle-review-carried", desktop=(1366, 800))

    page.get_by_role("link", name="Cut waiting times").click()
    note = page.get_by_role("textbox", name="Closing note")
    note.fill("Two clinics opened late; the rest move on.")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_text("Closing note saved.")).to_be_visible()
    expect(page.get_by_role("link", name="already carried over to This quarter")).to_be_visible()
    shoot(page, screenshot_dir, "objective-review", desktop=(1366, 800))

    copy = Objective.objects.for_org(quarter_end["org"]).get(carried_over_from=objective)
    page.goto(f"{live_server.url}/my-work/")
    due = page.locator("#check-ins-due")
    expect(due.get_by_role("heading")).to_contain_text("Check-ins due")
    due.get_by_role("link", name="Check in").first.click()
    expect(page).to_have_url(re.compile(rf"/o/north/objectives/{copy.pk}/#kr-\d+$"))
    expect(page.get_by_text("Carried over from")).to_be_visible()
    page.goto(f"{live_server.url}/my-work/")
    shoot(page, screenshot_dir, "my-work-due", desktop=(1366, 800))
