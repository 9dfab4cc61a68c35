"""Issue 14 in Chromium: a comment posted with an @mention without a reload, a check-in edited
with its earlier version kept, and the dashboard's cycle selector applying on change."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from okrs import services
from orgs.models import Membership, Role
from tests.browser.conftest import shoot
from tests.factories import (
    PASSWORD,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    PersonFactory,
    UserFactory,
)

WIDE = (1366, 768)


@pytest.fixture
def plan(transactional_db):
    org = OrganizationFactory(name="North Unit", slug="north")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Scully")
    jo = UserFactory(username="jo", first_name="Jo", last_name="Former")
    Membership.objects.create(user=dana, organization=org, role=Role.MEMBER)
    Membership.objects.create(user=jo, organization=org, role=Role.MEMBER)
    PersonFactory(organization=org, name="Jo Former", user=jo)
    # Someone of another organization, with a name typed in the comment: stays plain text.
    elsewhere = OrganizationFactory(name="South Unit", slug="south")
    PersonFactory(organization=elsewhere, name="Bea Elsewhere")
    today = timezone.localdate()
    now_cycle = CycleFactory(
        organization=org,
        name="This quarter",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
    )
    CycleFactory(
        organization=org,
        name="Last quarter",
        starts_on=today - datetime.timedelta(days=120),
        ends_on=today - datetime.timedelta(days=31),
    )
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(
        organization=org, pathway=pathway, cycle=now_cycle, title="Cut waiting times"
    )
    kr = KeyResultFactory(
        organization=org, objective=objective, title="Clinics open", target_value=10
    )
    check_in = services.check_in_create(
        key_result=kr, value=Decimal(3), confidence=6, note="Three so far", author=dana
    )
    return {"objective": objective, "kr": kr, "check_in": check_in}


def log_in(page, live_server, username):
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_comment_with_a_mention_and_a_check_in_edit(live_server, page, plan, screenshot_dir):
    log_in(page, live_server, "dana")
    objective_url = f"{live_server.url}/o/north/objectives/{plan['objective'].pk}/"
    page.goto(objective_url)
    page.evaluate("window.__sameDocument = true")

    thread = page.locator(f"#comments-objective-{plan['objective'].pk}")
    thread.get_by_label("Comment on Cut waiting times").fill(
        "@jo former can you check <b>this</b>? cc @Bea Elsewhere"
    )
    thread.get_by_role("button", name="Post comment").click()
    thread = page.locator(f"#comments-objective-{plan['objective'].pk}")
    expect(thread.locator(".comment")).to_have_count(1)
    expect(thread.locator(".mention")).to_have_text("@jo former")
    expect(thread.locator(".mention")).to_have_attribute("title", "Jo Former")
    expect(thread.locator(".comment-body")).to_contain_text("<b>this</b>? cc @Bea Elsewhere")
    expect(thread.get_by_label("Comment on Cut waiting times")).to_have_value("")
    assert page.evaluate("window.__sameDocument") is True  # posted without a reload

    # Edit the check-in: the new value shows, the earlier one is kept in its history.
    card = page.locator(f"#kr-{plan['kr'].pk}")
    card.locator("summary", has_text="History").click()
    card.get_by_role("link", name=re.compile(r"^Edit check-in of")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit check-in on Clinics open")
    page.get_by_label("New value").fill("4")
    page.get_by_label("Note").fill("Four: one more opened")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Check-in updated.")).to_be_visible()
    card = page.locator(f"#kr-{plan['kr'].pk}")
    expect(card.locator(".kr-current")).to_have_text("4")
    card.locator("summary", has_text="History").click()
    expect(card.locator(".timeline .badge", has_text="edited")).to_be_visible()
    card.locator("summary", has_text="Earlier version").click()
    expect(card.locator(".revisions")).to_contain_text("Three so far")
    shoot(page, screenshot_dir, "track-objective", desktop=WIDE)

    # Jo sees the mention on My work.
    page.context.clear_cookies()
    log_in(page, live_server, "jo")
    page.goto(f"{live_server.url}/my-work/")
    mentions = page.locator("section.mentions")
    expect(mentions.get_by_role("heading", name="Mentions")).to_be_visible()
    expect(mentions.locator(".mention")).to_have_text("@jo former")
    shoot(page, screenshot_dir, "track-my-work", desktop=WIDE)


def test_the_cycle_selector_applies_on_change(live_server, page, plan, screenshot_dir):
    log_in(page, live_server, "dana")
    page.goto(f"{live_server.url}/o/north/")
    expect(page.get_by_role("link", name="Patient access")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_role("button", name="Show")).to_be_hidden()  # scripts run: no button
    page.get_by_label("Cycle").select_option(label="Last quarter")
    expect(page).to_have_url(re.compile(r"/o/north/\?cycle=\d+"))
    expect(page.locator(".page-head .muted").first).to_contain_text("Last quarter")
    expect(page.get_by_label("Cycle")).to_have_value(re.compile(r"\d+"))
    assert page.evaluate("window.__sameDocument") is True
    shoot(page, screenshot_dir, "track-cycle", desktop=WIDE)
