"""Every page a person can open, on the demo's data, at laptop (1366 px) and phone (390 px)
width: it answers 200, nothing on it widens the document past the screen, nothing on a phone
hides columns in a box that scrolls sideways (tables stack into cards), no live part replaces
its own listener, and its screenshots
are written to artifacts/screenshots/every-page/ to be looked at.

The pages are found, not listed: every organization URL whose GET shows a page in the role
matrix (tests/orgs/test_role_matrix.py PAGES, which a new URL must join), with the demo's
first object of each kind its URL names; plus the pages outside any organization. A new page
is walked here the day it is added.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from orgs.models import Membership, Organization, Role
from orgs.shortcuts import URL_OBJECTS
from tests.browser.conftest import PHONE
from tests.browser.test_live import log_in
from tests.orgs.test_role_matrix import PAGES, Shows
from tests.orgs.test_tenancy import org_patterns

LAPTOP = (1366, 768)
# Downloads and streams, not pages a person reads (each has its own tests).
NOT_PAGES = ("org_events", "audit_csv", "dashboard_report", "objective_report")
OUTSIDE = ("my_work", "notifications", "help")


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.DEMO_BASE_STATE = str(tmp_path / "demo-base.json")
    call_command("seed_demo", stdout=StringIO())
    return Organization.objects.get(slug="northwind")


def page_names() -> list[tuple[str, set[str]]]:
    shown = []
    for name, params in org_patterns():
        behaviour = PAGES.get(name)
        is_page = isinstance(behaviour and behaviour.get, Shows) and behaviour.get.status == 200
        if is_page and name not in NOT_PAGES and not name.startswith("export_"):
            shown.append((name, params - {"org_slug"}))
    return sorted(shown)


def first_ids(organization: Organization, kwargs: set[str]) -> dict[str, int] | None:
    """The demo's first object of each kind the URL names; None if it has none."""
    ids = {}
    for kwarg in kwargs:
        model = URL_OBJECTS[kwarg]
        pk = model.objects.for_org(organization).order_by("pk").values_list("pk", flat=True)
        if not pk:
            return None
        ids[kwarg] = pk[0]
    return ids


def overflow(page) -> int:
    """How far the document is wider than the window, in pixels (0: it fits)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


# Boxes in the page that scroll sideways on their own (a table in its .table-wrap): on a phone
# their last columns are off screen with nothing saying so; every table stacks there instead.
SIDEWAYS_BOXES = """() => [...document.querySelectorAll("main *")]
  .filter((box) => box.scrollWidth > box.clientWidth + 1
    && ["auto", "scroll"].includes(getComputedStyle(box).overflowX))
  .map((box) => box.className || box.tagName)"""


# Live parts that replace themselves: the listener goes with the old element, so an event that
# comes while its fetch is out is lost (the fetch it asked for was still in its delay). A live
# part's listener wraps what it swaps (hx-target), as on the dashboard.
SELF_REPLACING_LIVE_PARTS = """() => [...document.querySelectorAll("[data-live]")]
  .filter((part) => (part.getAttribute("hx-swap") || "").startsWith("outerHTML")
    && ["", "this"].includes(part.getAttribute("hx-target") || ""))
  .map((part) => part.id || part.getAttribute("hx-get"))"""


def test_every_page_fits_a_laptop_and_a_phone(live_server, page, demo, screenshot_dir):
    folder = screenshot_dir / "every-page"
    folder.mkdir(exist_ok=True)
    urls = {name: reverse(name) for name in OUTSIDE}
    unshown = []
    for name, kwargs in page_names():
        ids = first_ids(demo, kwargs)
        if ids is None:
            unshown.append(name)
            continue
        urls[name] = reverse(name, kwargs={"org_slug": demo.slug, **ids})
    # The demo has an object of nearly every kind; what it lacks is named, and stays small.
    assert len(urls) >= 40 and len(unshown) <= 3, (len(urls), unshown)

    # As the owner, who may open every page (the role matrix tests what each role gets).
    Membership.objects.for_org(demo).filter(user__username="demo").update(role=Role.OWNER)
    log_in(page, live_server, "demo")
    problems = []
    for name, url in sorted(urls.items()):
        page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
        response = page.goto(live_server.url + url)
        if response is None or response.status != 200:
            problems.append(f"{name} {url}: {response and response.status}")
            continue
        if parts := page.evaluate(SELF_REPLACING_LIVE_PARTS):
            problems.append(f"{name} {url}: live parts that replace their own listener: {parts}")
        for width, height in (LAPTOP, PHONE):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
            if (extra := overflow(page)) > 0:
                problems.append(f"{name} {url}: {extra}px wider than a {width}px screen")
            if width == PHONE[0] and (boxes := page.evaluate(SIDEWAYS_BOXES)):
                problems.append(f"{name} {url}: cut off on a phone, scrolls sideways: {boxes}")
    assert not problems, "\n".join(problems)
