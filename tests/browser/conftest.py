"""Browser test fixtures: Debian's Chromium driven by Playwright's sync API.

Every test under tests/browser/ is marked `browser` (deselect with `-m "not browser"`). When
/usr/bin/chromium is missing the tests are skipped with a reason; `.ci/run` installs it.

`live_server` (pytest-django) is WSGI, so pages it serves never open the event stream; the
`asgi_server` fixture serves the project under uvicorn, as production does, for the live tests.

Shared by several test files: `shoot` (full-page screenshots at desktop and phone widths), the
`acme` organization with its owner and `invite` (an invitation sent from the members page: the
emailed link), `supabase` (the fake Supabase Auth with committed data) and `supabase_sign_in`.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from orgs.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.orgs.supabase_helpers import PASSWORD as SUPABASE_PASSWORD
from tests.parallel import TIMED

# Playwright's sync API runs an asyncio event loop in the test thread; Django's ORM refuses to run
# in a thread with a running loop unless told it is safe (live_server tests touch the database).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
DESKTOP = (1366, 800)  # a common laptop
PHONE = (390, 844)
INVITATION_LINK = re.compile(r"https?://[^\s]+/invitations/[\w-]+/")


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups (tests/parallel.py)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group(TIMED))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM} "
            "(apt-get install chromium; .ci/run installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


CSP_REFUSAL = "Content Security Policy"


def csp_refusals(context) -> list[str]:
    """Every Content-Security-Policy refusal Chromium reports in the context's pages, as it
    happens (it logs each to the console)."""
    refusals: list[str] = []
    context.on(
        "console",
        lambda message: refusals.append(message.text) if CSP_REFUSAL in message.text else None,
    )
    return refusals


def assert_nothing_refused(request, refusals: list[str]) -> None:
    """The test fails on any CSP refusal, unless it is marked `csp_refusals_expected`."""
    if request.node.get_closest_marker("csp_refusals_expected") is None:
        assert refusals == [], "the Content-Security-Policy refused what a page needed"


@pytest.fixture
def page(browser, request):
    """A page at desktop size. Every browser test doubles as a CSP check: a page that needs
    anything the policy refuses (an inline script or handler, an injected style, an outside
    origin) fails the test that opened it, unless it is marked `csp_refusals_expected`."""
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    refusals = csp_refusals(context)
    page = context.new_page()
    page.csp_refusals = refusals
    try:
        yield page
    finally:
        context.close()
    assert_nothing_refused(request, refusals)


@pytest.fixture
def screenshot_dir() -> Path:
    path = PROJECT_ROOT / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(page, screenshot_dir: Path, name: str, *, desktop: tuple[int, int] = DESKTOP) -> None:
    """Full-page screenshots `<name>-<width>.png` at desktop and phone widths, then back to
    the desktop size."""
    for width, height in (desktop, PHONE):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_dir / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": desktop[0], "height": desktop[1]})


@pytest.fixture
def acme(transactional_db):
    """Acme Health (slug `acme`), owned by Olivia (olivia@example.org)."""
    org = OrganizationFactory(name="Acme Health", slug="acme")
    owner = UserFactory(username="olivia", email="olivia@example.org", first_name="Olivia")
    MembershipFactory(user=owner, organization=org, role=Role.OWNER)
    return org


def invite(page, url: str, email: str, role: str) -> str:
    """Invite from Acme's members page (the page is signed in as an owner); the link the email
    carries."""
    sent = len(mail.outbox)
    page.goto(f"{url}/o/acme/members/")
    page.get_by_label("Email").fill(email)
    page.locator("#id_role").select_option(role)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    assert len(mail.outbox) == sent + 1
    return INVITATION_LINK.search(mail.outbox[-1].body).group(0)


@pytest.fixture
def supabase(supabase_auth, transactional_db):
    """The fake Supabase Auth (tests/supabase_fixtures.py), with data committed for the live
    server's thread."""
    return supabase_auth


def supabase_sign_in(page, email: str, password: str = SUPABASE_PASSWORD) -> None:
    """Sign in with the Supabase login form the page shows."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AsgiServer:
    """The project under uvicorn, in a daemon thread of the test process. `stop()` then
    `start()` again serves on the same port (a dropped stream that comes back)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server = None
        self._thread: threading.Thread | None = None
        # urllib would honour http_proxy; the server is on this machine.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self, timeout: float = 10.0) -> None:
        import uvicorn

        import missionos.asgi

        # The production entry point (Django, with the event streams answered before it),
        # built anew under this test's settings: WhiteNoise reads them when the handler is
        # built, and the module's first import would keep the first test's.
        importlib.reload(missionos.asgi)
        config = uvicorn.Config(
            "missionos.asgi:application",
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            # Open event streams never end by themselves: cancel them when stopping.
            timeout_graceful_shutdown=0.5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            if not self._thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            try:
                with self._opener.open(self.url + "/login/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not answer on {self.url} within {timeout}s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():  # a slow machine: stop waiting for anything
            self._server.force_exit = True
            self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("uvicorn did not stop")


@pytest.fixture
def asgi_server(transactional_db, settings):
    """The project served under ASGI (uvicorn), so dashboards hold a real event stream.

    The server thread has its own database connections, hence `transactional_db`: test data
    must be committed to be seen. Without REDIS_URL there is no stream (pages poll instead,
    covered in tests/orgs/test_events.py), so these tests are skipped.

    Static files: the tests run with DEBUG off (pytest-django's default), so WhiteNoise would
    only serve STATIC_ROOT, which is empty until `collectstatic`: htmx, its SSE extension and
    app.js would 404 and nothing would be live. Finding them through the staticfiles finders,
    as it does with DEBUG on, serves the same files without collecting them.
    """
    if not os.environ.get("REDIS_URL"):
        pytest.skip(
            "live dashboard tests need REDIS_URL (CI sets it): without Redis there is no "
            "event stream and dashboards poll instead"
        )
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    server = AsgiServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        # Django renders a 404 under ASGI in an executor thread of its own, and the connection
        # the page's context processors open there is only closed when garbage-collected;
        # collect now, or the test database cannot be dropped at the end of the session.
        gc.collect()


@pytest.fixture
def asgi_page(asgi_server, browser, request):
    """`asgi_page()` -> a page in a browser context of its own (its own cookies: one user).
    Contexts close before the server stops, so their streams end first. The same CSP check as
    the `page` fixture's, over every context."""
    contexts = []
    refusals: list[list[str]] = []  # each context's, as they happen

    def make():
        context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
        contexts.append(context)
        refusals.append(csp_refusals(context))
        return context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    assert_nothing_refused(request, [text for texts in refusals for text in texts])
