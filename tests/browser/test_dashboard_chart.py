"""The demo's dashboard as leadership sees it: each pathway's progress over the cycle as a line
chart, at laptop and phone width; the dashboard, a pathway, an objective and a project printed
without the screen's controls, figures and charts kept; and its board report, one PDF page."""

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


# Nothing a reader of paper can use: navigation, controls, live-update hints, downloads.
SCREEN_ONLY = (
    ".site-header, .org-nav, .crumbs, .head-actions, .download-links, .view-picker, form, button,"
    " .button, input, select, textarea, details.source, .screen-only, .comment-actions,"
    " .check-in-actions, details:not([open])"
)
# A4 portrait less the print margins, in CSS pixels.
PAPER = (703, 1000)


def visible(page, selector: str) -> list[str]:
    """The start of each visible element matching `selector`."""
    return page.evaluate(
        "selector => [...document.querySelectorAll(selector)]"
        "  .filter((element) => element.checkVisibility())"
        "  .map((element) => element.outerHTML.slice(0, 100))",
        selector,
    )


def test_printed_pages_keep_the_figures_and_drop_the_controls(
    live_server, page, demo, screenshot_dir
):
    log_in(page, live_server, "demo")
    page.set_viewport_size({"width": PAPER[0], "height": PAPER[1]})
    page.goto(f"{live_server.url}/o/northwind/")
    cycle = page.locator(".page-head p.muted").first.inner_text().split(":")[0]
    pathway = page.locator(".pathway-card h3 a").first.get_attribute("href")
    page.emulate_media(media="print")
    pages = {"dashboard": (f"{live_server.url}/o/northwind/", "#dashboard-progress-chart")}
    page.goto(f"{live_server.url}{pathway}")
    objective = page.locator("#objectives-h + .list a").first.get_attribute("href")
    project = page.locator("#projects-h + .list a").first.get_attribute("href")
    pages |= {
        "pathway": (f"{live_server.url}{pathway}", "#pathway-progress-chart"),
        "objective": (f"{live_server.url}{objective}", "#objective-progress-chart"),
        "project": (f"{live_server.url}{project}", "#project-burnup-chart"),
    }
    for name, (url, chart) in pages.items():
        page.goto(url)
        page.screenshot(path=screenshot_dir / f"print-{name}.png", full_page=True)
        assert visible(page, SCREEN_ONLY) == [], name
        assert "Refreshes every" not in page.locator("body").inner_text(), name
        expect(page.locator("h1")).to_be_visible()
        expect(page.locator(chart)).to_be_visible()
        expect(page.locator(".printed-on")).to_contain_text("printed")
        assert visible(page, ".progress"), name
    # The figures a board reader needs: the cycle, the status of each objective and task.
    page.goto(pages["dashboard"][0])
    expect(page.locator(".stats")).to_be_visible()
    expect(page.locator(".page-head")).to_contain_text(cycle)
    page.goto(pages["objective"][0])
    assert visible(page, "#objective-progress .badge"), "the objective's status"
    page.goto(pages["project"][0])
    assert len(visible(page, ".task > .badge")) == page.locator(".task").count()
    page.emulate_media(media="screen")
    assert visible(page, ".printed-on") == []


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
