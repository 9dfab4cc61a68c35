"""The data health page of the demo organization as a person sees it, at laptop and phone
width: the score, the trend, the findings grouped by kind with their records."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.test_live import log_in

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.DEMO_BASE_STATE = str(tmp_path / "demo-base.json")
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_data_health_page(live_server, page, demo, screenshot_dir):
    log_in(page, live_server, "demo")
    page.goto(f"{live_server.url}/o/northwind/")
    status = page.locator("#health-status")
    expect(status).to_contain_text("/100")
    status.get_by_role("link", name="see what to fix").click()
    expect(page.get_by_role("heading", name="Data health", level=1)).to_be_visible()
    expect(page.locator(".health-score-big")).to_contain_text("/100")
    departed = page.get_by_role("heading", name="Tasks held by people who left")
    expect(departed).to_be_visible()
    expect(page.locator("[data-kind=task_departed_assignee]").first).to_contain_text("who left")
    expect(page.locator("[data-kind=abandoned_project]").first).to_be_visible()
    page.screenshot(path=screenshot_dir / "health-page.png", full_page=True)
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=screenshot_dir / "health-page-phone.png", full_page=True)
