"""The lists of objectives, key results, check-ins and tasks at desktop and phone widths: the
filters narrow in place (htmx), and nothing runs off the side of the page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orgs.models import Membership, Role
from tests.browser.conftest import PHONE, shoot
from tests.browser.test_pages import log_in
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)

DESKTOP = (1366, 800)
LONG_NOTE = "Waiting for the landlord to sign " + "x" * 180 + " and then some more words."


@pytest.fixture
def north(transactional_db):
    user = UserFactory(username="dana")
    org = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=user, organization=org, role=Role.MEMBER)
    cycle = CycleFactory(organization=org, name="This quarter")
    access = PathwayFactory(organization=org, name="Patient access")
    maya = PersonFactory(organization=org, name="Maya Okafor")
    for i, title in enumerate(("Cut waiting times in every clinic", "Open evening clinics")):
        objective = ObjectiveFactory(
            organization=org, cycle=cycle, pathway=access, owner=maya, title=title
        )
        key_result = KeyResultFactory(
            organization=org,
            objective=objective,
            owner=maya,
            title=f"Clinics open late {i}",
            target_value=Decimal(12),
            current_value=Decimal(5),
            unit="clinics",
        )
        CheckInFactory(
            organization=org, key_result=key_result, value=Decimal(5), confidence=7, note=LONG_NOTE
        )
    project = ProjectFactory(organization=org, pathway=access, name="Night clinics")
    TaskFactory(
        organization=org,
        project=project,
        title="Hire night nurses",
        assignee=maya,
        due_on=timezone.localdate() - datetime.timedelta(days=4),
    )
    TaskFactory(organization=org, project=project, title="Book rooms", status="done")
    return org


PAGES = {
    "objectives": "Cut waiting times in every clinic",
    "key-results": "Clinics open late 0",
    "check-ins": "Clinics open late 1",
    "tasks": "Hire night nurses",
}


def test_each_list_fits_both_widths_and_filters_in_place(live_server, page, north, screenshot_dir):
    log_in(page, live_server)
    for path, row in PAGES.items():
        page.goto(f"{live_server.url}/o/north/{path}/")
        expect(page.get_by_text(row, exact=True).first).to_be_visible()
        for width, height in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": height})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, (path, width, overflow)
        shoot(page, screenshot_dir, f"list-{path}", desktop=DESKTOP)
    # The filters swap the results in place and put the filters in the address.
    page.goto(f"{live_server.url}/o/north/tasks/")
    page.get_by_label("Search").fill("nurses")
    expect(page.locator("#task-results")).not_to_contain_text("Book rooms")
    expect(page).to_have_url(
        f"{live_server.url}/o/north/tasks/?q=nurses&project=&assignee=&status="
    )
