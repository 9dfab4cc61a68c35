"""Archiving a project and restoring it from the Archive page, in Chromium (and under the
Content-Security-Policy: the page fixture fails on any refusal)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orgs.models import Membership, Role
from tests.browser.test_pages import log_in
from tests.factories import OrganizationFactory, ProjectFactory, TaskFactory, UserFactory


@pytest.fixture
def unit(transactional_db):
    user = UserFactory(username="dana")
    org = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
    project = ProjectFactory(organization=org, name="Night clinics")
    TaskFactory(organization=org, project=project, title="Hire nurses")
    TaskFactory(organization=org, project=project, title="Book rooms")
    return project


def test_archive_a_project_then_restore_it_with_its_tasks(live_server, page, unit):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/projects/{unit.pk}/")
    page.get_by_role("link", name="Archive…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archive project “Night clinics”?")
    expect(page.get_by_text("2 tasks")).to_be_visible()
    page.get_by_role("button", name="Archive project").click()
    expect(page.get_by_text("“Night clinics” archived with 2 more.")).to_be_visible()
    expect(page.get_by_role("link", name="Night clinics")).to_have_count(0)

    page.get_by_role("navigation", name="North Unit").get_by_role("link", name="Archive").click()
    row = page.locator(f"#archived-project-{unit.pk}")
    expect(row).to_contain_text("Night clinics")
    expect(row).to_contain_text("2 tasks")
    row.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("“Night clinics” restored with 2 more.")).to_be_visible()
    expect(page.get_by_text("Nothing is archived.")).to_be_visible()

    page.goto(f"{live_server.url}/o/north/projects/{unit.pk}/")
    expect(page.get_by_text("Hire nurses", exact=True)).to_be_visible()
    expect(page.get_by_text("Book rooms", exact=True)).to_be_visible()
