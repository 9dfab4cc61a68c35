"""The audit log as an admin reads it: a change made on a page shows with its before and after,
the filters narrow it in place, and the CSV link carries them."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import shoot
from tests.factories import PASSWORD, PathwayFactory, ProjectFactory


def test_an_edit_shows_in_the_audit_log_with_before_and_after(
    live_server, page, acme, screenshot_dir
):
    pathway = PathwayFactory(organization=acme, name="Patient access")
    ProjectFactory(organization=acme, pathway=pathway, name="Night clinics")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/o/acme/projects/")
    page.get_by_role("link", name="Night clinics").click()
    page.get_by_role("link", name=re.compile("^Edit")).first.click()
    page.get_by_label("Name").fill("Evening clinics")
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Evening clinics")

    page.goto(f"{live_server.url}/o/acme/audit/")
    row = page.locator("tr", has_text="Evening clinics").first
    expect(row).to_contain_text("Night clinics")  # before
    expect(row).to_contain_text("olivia")  # the account, unambiguous
    page.get_by_label("Record").select_option(label="Project")
    expect(page).to_have_url(re.compile(r"kind=project"))
    expect(page.locator("#audit-results tbody tr")).to_have_count(1)
    href = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert "kind=project" in href
    shoot(page, screenshot_dir, "audit-log", desktop=(1366, 800))
