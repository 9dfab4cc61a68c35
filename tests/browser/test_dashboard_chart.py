"""The demo's dashboard as leadership sees it: each pathway's progress over the cycle as a line
chart, at laptop and phone width; printed without navigation or buttons, chart kept; and its
board report, one PDF page."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from missionos import pdf
from tests.browser.conftest import PHONE, shoot
from tests.browser.test_live import log_in

LAPTOP = (1366, 768)


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.DEMO_BASE_STATE = str(tmp_path / "demo-base.json")
    call_command("seed_demo", stdout=StringIO())


def test_the_dashboard_charts_each_pathways_progress(live_server, page, demo, screenshot_dir):
    log_in(page, live_server, "demo")
    page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
    page.goto(f"{live_server.url}/o/northwind/")
    chart = page.locator("#dashboard-progress-chart")
    expect(chart).to_be_visible()
    assert chart.locator("polyline.chart-line").count() >= 2  # a line per pathway
    legend = chart.locator(".chart-legend li")
    assert legend.count() == page.locator(".pathway-card").count()
    box = chart.bounding_box()
    assert box and box["width"] > 600
    shoot(page, screenshot_dir, "dashboard-chart", desktop=LAPTOP)
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the dashboard scrolls sideways on a phone ({width}px)"
    expect(chart).to_be_visible()

    # Printed: the chart and the figures, no navigation, no buttons.
    page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
    page.emulate_media(media="print")
    expect(chart).to_be_visible()
    expect(page.locator(".stats")).to_be_visible()
    expect(page.locator(".org-nav")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("link", name="Board report (PDF)")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "dashboard-print.png", full_page=True)
    page.emulate_media(media="screen")


@pytest.mark.skipif(bool(pdf.pdf_unavailable()), reason=pdf.pdf_unavailable() or "loads")
def test_the_demo_board_report_is_one_page(live_server, page, demo, screenshot_dir):
    from pypdf import PdfReader

    log_in(page, live_server, "demo")
    page.goto(f"{live_server.url}/o/northwind/")
    href = page.get_by_role("link", name="Board report (PDF)").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    content = response.body()
    assert content.startswith(b"%PDF")
    (screenshot_dir / "board-report.pdf").write_bytes(content)
    document = PdfReader(io.BytesIO(content))
    assert len(document.pages) == 1
    text = document.pages[0].extract_text()
    names = page.locator(".pathway-card h3").all_inner_texts()
    assert len(names) >= 3
    for name in [page.locator("h1").first.inner_text(), *names]:
        assert name.split()[0] in text, name
