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


def test_the_sync_run_page_links_records_and_fits_a_phone(
    live_server, page, owner_org, screenshot_dir
):
    from sync.crypto import encrypt_token
    from sync.models import Connection, SyncIssue, SyncRun

    connection = Connection.objects.create(
        organization=owner_org,
        name="Northwind plans",
        base_id="appNORTHWIND0001",
        token_encrypted=encrypt_token("patSECRET.token"),
        token_last4="oken",
    )
    run = SyncRun.objects.create(organization=owner_org, connection=connection, kind="full")
    for i in range(3):
        SyncIssue.objects.create(
            organization=owner_org,
            run=run,
            connection=connection,
            kind=SyncIssue.Kind.VALUE,
            table_id="tblTASKS00000001",
            table_name="Tasks",
            record_id=f"recTASK000000000{i}",
            field_id="fldDUE",
            field_name="Due",
            reason="“next week” is not a date: left empty",
        )
    log_in(page, live_server)
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(f"{live_server.url}/o/north/sync/runs/{run.pk}/")
    link = page.get_by_role("link", name="recTASK0000000000")
    expect(link).to_have_attribute(
        "href", "https://airtable.com/appNORTHWIND0001/tblTASKS00000001/recTASK0000000000"
    )
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    problem = page.get_by_text("“next week” is not a date: left empty").first
    box = problem.bounding_box()
    assert box["x"] + box["width"] <= width  # the problem is on screen, not scrolled off
    shoot(page, screenshot_dir, "sync-run", desktop=(1366, 800))


def test_the_mapping_page_fits_a_screen_and_its_selects_a_phone(
    live_server, page, owner_org, screenshot_dir, settings
):
    from devtools.fakeairtable import FakeAirtable
    from sync import services
    from tests.sync.airtable_base import BASE_ID, TOKEN, build_base

    with FakeAirtable(rate_limit=None, seed=11) as fake:
        settings.AIRTABLE_API_URL = fake.url
        build_base(fake)
        connection = services.connection_create(
            organization=owner_org, name="Northwind plans", base_id=BASE_ID, token=TOKEN
        )
        log_in(page, live_server)
        page.set_viewport_size({"width": 1366, "height": 800})
        page.goto(f"{live_server.url}/o/north/sync/{connection.pk}/mapping/")
        assert page.evaluate("document.documentElement.scrollHeight") < 2600
        page.locator("#map-task summary").click()
        shoot(page, screenshot_dir, "mapping", desktop=(1366, 800))
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        width = page.evaluate("window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        cut = page.evaluate(
            """(width) => [...document.querySelectorAll('details[open] select')]
                 .filter(e => e.getBoundingClientRect().right > width + 0.5).map(e => e.name)""",
            width,
        )
        assert cut == []
