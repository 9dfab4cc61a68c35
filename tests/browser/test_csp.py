"""The Content-Security-Policy as Chromium enforces it: script injected into a page (an inline
handler, an inline script, a script from another origin) does not run and is reported, while
the app's own pages, htmx included, run under the policy without a single refusal (the `page`
fixture fails any browser test whose pages are refused something)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import test_pages
from tests.browser.test_pages import log_in
from tests.factories import PathwayFactory, ProjectFactory

two_units = test_pages.two_units  # the fixture, shared

INJECTIONS = [
    '<img src="/no-such-image.png" onerror="window.injected = 1">',
    "<script>window.injected = 1</script>",  # inserted as HTML: parsed, never run
    '<a id="go" href="javascript:window.injected=1">go</a>',
]


@pytest.mark.csp_refusals_expected
def test_injected_script_does_not_run_and_is_reported(live_server, page, two_units):
    log_in(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text("North Unit")
    page.evaluate(
        """(html) => { const box = document.createElement('div'); box.innerHTML = html;
           document.body.append(box); }""",
        "".join(INJECTIONS),
    )
    page.click("#go")
    # A script element added by script, from this site (allowed) and from elsewhere (refused).
    page.evaluate(
        """() => { for (const src of ['https://cdn.example.com/x.js']) {
             const script = document.createElement('script'); script.src = src;
             document.head.append(script); } }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.injected") is None
    joined = "\n".join(page.csp_refusals)
    assert "script-src-attr" in joined or "inline event handler" in joined
    assert "cdn.example.com" in joined
    assert len(page.csp_refusals) >= 3


def test_htmx_pages_work_under_the_policy(live_server, page, two_units):
    """Search as you type: htmx's request, swap and indicator, with no refusal (the page
    fixture checks) and the results swapped in."""
    north = two_units["project"].organization
    PathwayFactory(organization=north, name="Staff wellbeing")
    ProjectFactory(organization=north, pathway=two_units["project"].pathway, name="Rota app")
    log_in(page, live_server)
    page.goto(f"{live_server.url}/o/north/projects/")
    page.get_by_label("Search").fill("rota")
    expect(page.get_by_role("link", name="Rota app")).to_be_visible()
    expect(page.get_by_role("link", name="Night clinics")).to_have_count(0)
