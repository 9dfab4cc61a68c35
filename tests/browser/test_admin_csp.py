"""Django's admin runs under the Content-Security-Policy too: its index, a list and a change
form load with no refusal (the `page` fixture fails the test on any) and its scripts work."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD, PathwayFactory, UserFactory


def test_the_admin_works_under_the_policy(live_server, page, acme):
    UserFactory(username="root", is_staff=True, is_superuser=True)
    pathway = PathwayFactory(organization=acme, name="Patient access")
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(f"{live_server.url}/admin/okrs/pathway/")
    expect(page.get_by_role("link", name="Patient access")).to_be_visible()
    # The action bar's "select all" is the admin's own script at work.
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.goto(f"{live_server.url}/admin/okrs/pathway/{pathway.pk}/change/")
    expect(page.get_by_label("Name")).to_have_value("Patient access")
