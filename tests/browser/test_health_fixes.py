"""An admin fixes the data from the data health page in Chromium: closes an abandoned project,
reassigns a departed person's open tasks and merges two duplicate objectives. Each is previewed,
lands in the fake Airtable base once the write-back pushes it, moves the score, and is undone
from the page (the undo lands in Airtable too)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from devtools.fakeairtable import FakeAirtable
from health import services as health_services
from health.models import HealthSnapshot
from okrs.models import KeyResult, Objective, Project, Task
from orgs.models import Person, Role
from sync import services
from sync.airtable.ratelimit import NoRateLimiter
from tests.browser.test_live import log_in
from tests.health.labelled_base import (
    BASE_ID,
    T_OBJECTIVES,
    T_PROJECTS,
    T_TASKS,
    TOKEN,
    _fid,
    build,
)
from tests.health.test_findings import FAST, sync

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def labelled(transactional_db, settings, org, member_of):
    member_of(org, Role.ADMIN, username="ada")
    with FakeAirtable(rate_limit=None, seed=3) as fake:
        settings.AIRTABLE_API_URL = fake.url
        build(fake, timezone.now())
        connection = services.connection_create(
            organization=org, name="Labelled", base_id=BASE_ID, token=TOKEN
        )
        sync(connection)
        health_services.findings_compute(organization=org)
        yield {"org": org, "fake": fake, "connection": connection}


def push(connection) -> None:
    connection.refresh_from_db()
    report = services.push_connection(connection=connection, policy=FAST, limiter=NoRateLimiter())
    assert report is not None and report.failed == 0, report.line()


def cell(fake, table_id, record_id, name):
    return fake.bases[BASE_ID].table(table_id).get(record_id).fields.get(_fid(table_id, name))


def score(org) -> int:
    return HealthSnapshot.objects.for_org(org).first().score


def confirm(page) -> None:
    expect(page.get_by_role("heading", level=2, name="What will change")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Data health", level=1)).to_be_visible()


def test_an_admin_fixes_the_data_and_undoes_it(live_server, page, labelled, screenshot_dir):
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    start = score(org)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/o/{org.slug}/health/")
    page.screenshot(path=screenshot_dir / "health-fixes-before.png", full_page=True)

    # 1. Close the abandoned project as done.
    legacy = Project.objects.for_org(org).get(name="Legacy portal revamp")
    finding = page.locator("[data-kind=abandoned_project]", has_text="Legacy portal revamp")
    finding.get_by_role("button", name="Close as done").click()
    expect(page.get_by_text("Legacy portal revamp: Active → Done")).to_be_visible()
    page.screenshot(path=screenshot_dir / "health-fix-preview.png", full_page=True)
    confirm(page)
    expect(page.get_by_role("status")).to_contain_text("Closed Legacy portal revamp as done")
    push(connection)
    assert cell(fake, T_PROJECTS, legacy.source_record_id, "Status") == "Done"
    after_close = score(org)
    assert after_close > start

    # 2. Give Jo Former's open tasks to Maya.
    form = page.locator(".fix-form", has_text="Give Jo Former's open task")
    form.get_by_role("combobox").select_option(label="Maya Okafor")
    form.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Call suppliers: Jo Former → Maya Okafor")).to_be_visible()
    confirm(page)
    push(connection)
    task = Task.objects.for_org(org).get(title="Call suppliers")
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    assert cell(fake, T_TASKS, task.source_record_id, "Assigned to") == [maya.source_record_id]
    assert score(org) > after_close

    # 3. Merge the duplicate objectives, keeping the well-spelt one.
    survivor = Objective.objects.for_org(org).get(title="Improve patient onboarding")
    copy = Objective.objects.for_org(org).get(title="improve patient onbaording")
    page.locator("[data-kind=duplicate_objectives]").get_by_role("button", name="Merge…").click()
    page.get_by_label("Improve patient onboarding").check()
    page.get_by_role("button", name="Show what changes").click()
    expect(
        page.get_by_text("Onboarding survey: moves to Improve patient onboarding")
    ).to_be_visible()
    confirm(page)
    push(connection)
    assert cell(fake, T_OBJECTIVES, copy.source_record_id, "Objective").startswith(
        "Merged into “Improve patient onboarding”"
    )
    expect(page.locator("[data-kind=duplicate_objectives]")).to_have_count(0)
    merged_score = score(org)
    page.screenshot(path=screenshot_dir / "health-fixes-after.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshot_dir / "health-fixes-after-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Undo all three, newest first, from the page.
    fixes = page.locator("li.fix")
    expect(fixes).to_have_count(3)
    for _ in range(3):
        page.locator("li.fix", has=page.get_by_role("button", name="Undo")).first.get_by_role(
            "button", name="Undo"
        ).click()
        expect(page.get_by_role("status")).to_contain_text("Undone: ")
    push(connection)
    assert cell(fake, T_OBJECTIVES, copy.source_record_id, "Objective") == (
        "improve patient onbaording"
    )
    assert cell(fake, T_TASKS, task.source_record_id, "Assigned to") == [
        Person.objects.for_org(org).get(name="Jo Former").source_record_id
    ]
    assert cell(fake, T_PROJECTS, legacy.source_record_id, "Status") == "In Progress"
    assert score(org) < merged_score
    expect(page.locator("li.fix .badge", has_text="undone")).to_have_count(3)
    # The merge is undone here too: the copy's key result is its own again.
    survey = KeyResult.objects.for_org(org).get(title="Onboarding survey")
    assert survey.objective_id == copy.pk != survivor.pk
