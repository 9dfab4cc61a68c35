"""The live dashboard in Chromium, served under ASGI (uvicorn) with Redis, as in production.

Each test opens real event streams through the `asgi_server` fixture (tests/browser/conftest.py)
and is skipped without REDIS_URL: without Redis there is no stream, and dashboards poll.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from devtools.fakeairtable import FakeAirtable
from missionos import events
from okrs import services as okr_services
from okrs.models import Pathway
from orgs.models import Membership, Role
from sync import services as sync_services
from sync.crypto import encrypt_token
from sync.models import Connection, RunKind, RunStatus, SyncRun
from tests.browser.conftest import shoot
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    UserFactory,
)
from tests.sync.airtable_base import BASE_ID, TOKEN, build_base
from tests.sync.test_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]
# What listens for the plan's changes and fetches the dashboard's part again.
LIVE = "[data-live]:has(> #dashboard-live)"
# How long an update may take to arrive through a stream (ms): generous for a busy machine. A
# live page does not poll, so only its stream can bring the update; how fast streams deliver
# is measured by bench/dashboard.py (event fan-out), not asserted here.
STREAM_WAIT = 10_000

# Nothing checked in yet: not started, no progress at all (issue 14), rather than 0%.
NO_VALUE = re.compile(".*")


@pytest.fixture
def north(asgi_server):
    """North Unit with members Ana and Ben and admin Ada, one objective with one key result
    (target 10); Otto belongs to South Unit only."""
    org = OrganizationFactory(name="North Unit", slug="north")
    south = OrganizationFactory(name="South Unit", slug="south")
    for username, organization, role in [
        ("ana", org, Role.MEMBER),
        ("ben", org, Role.MEMBER),
        ("ada", org, Role.ADMIN),
        ("otto", south, Role.MEMBER),
    ]:
        Membership.objects.create(
            user=UserFactory(username=username), organization=organization, role=role
        )
    cycle = CycleFactory(organization=org)
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(
        organization=org, pathway=pathway, cycle=cycle, title="Cut waiting times"
    )
    kr = KeyResultFactory(
        organization=org, objective=objective, title="Clinics open", target_value=10
    )
    return {"org": org, "objective": objective, "kr": kr}


def log_in(page, server, username: str) -> None:
    """Sign the page's browser context in (its session cookie; the login form itself is
    covered in test_pages.py) and open the page where login lands."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": server.url}]
    )
    page.goto(server.url + "/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=5000)


def listening_streams(org) -> int:
    """How many streams of the organization the server has subscribed to its events. The
    server runs in this process, so its hub (missionos.events: one Redis subscription per event
    loop) can be asked. The browser's `open` event comes with the response headers, which can
    be sent before the subscription is made: an event published in between would be lost."""
    try:
        hubs = list(events._hubs.values())
    except RuntimeError:  # the server thread added a hub meanwhile
        return 0
    return sum(
        len(hub.listeners.get(org.pk, ()))
        for hub in hubs
        if hub.ready is not None and hub.ready.is_set() and hub.reader and not hub.reader.done()
    )


def wait_for_streams(org, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while listening_streams(org) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} stream(s) subscribed within {timeout}s")
        time.sleep(0.02)


def open_live_dashboard(page, server, org) -> None:
    """Open the dashboard, wait for its stream, and mark the document: the mark survives
    fragment swaps but not a reload or a navigation."""
    page.goto(f"{server.url}/o/{org.slug}/")
    live = page.locator(".live")
    expect(live).to_have_attribute("sse-connect", f"/o/{org.slug}/events/")
    # Listening to the stream, not polling (polling would be every 20 s).
    expect(page.locator(LIVE)).to_have_attribute("hx-trigger", re.compile(r"^sse:plan"))
    # static/js/app.js marks the element when htmx's SSE extension reports the stream open.
    expect(live).to_have_attribute("data-stream-opened", "true", timeout=5000)
    page.evaluate(
        """() => {
            window.__sameDocument = true;
            window.__streamOpens = 0;
            window.__streamMessages = 0;
            document.addEventListener("htmx:sseOpen", () => window.__streamOpens++);
            document.addEventListener("htmx:sseMessage", () => window.__streamMessages++);
        }"""
    )


def wait_until(page, predicate, timeout: float, what: str) -> None:
    """Poll a Python condition while letting Playwright handle the page's events."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(20)


def hold_first_refresh(page, fragment: str) -> list:
    """Hold the page's first fetch of a fragment in flight: the server renders it at once,
    but the browser gets the answer only when the test releases it."""
    held: list = []

    def handle(route):
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route(re.compile(rf"[?&]fragment={fragment}\b"), handle)
    return held


def release(held: list) -> None:
    route, response = held[0]
    # The page may have given up on that request (a newer one replaced it): fine.
    with contextlib.suppress(PlaywrightError):
        route.fulfill(response=response)


def pathway_progress(page):
    return page.locator(".pathway-card").get_by_role("progressbar")


def test_a_check_in_shows_on_another_members_open_dashboard(
    asgi_server, asgi_page, north, screenshot_dir
):
    """Ben's dashboard, open in another browser, shows Ana's check-in: the pathway's progress
    and the recent check-in arrive through the stream, with no reload (a live dashboard does not
    poll, so nothing else can bring them)."""
    org, kr = north["org"], north["kr"]
    ana, ben = asgi_page(), asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    expect(pathway_progress(ben)).not_to_have_attribute("aria-valuenow", NO_VALUE)
    checkins = ben.locator("section", has=ben.get_by_role("heading", name="Recent check-ins"))
    expect(checkins.get_by_text("No check-ins yet.")).to_be_visible()

    log_in(ana, asgi_server, "ana")
    ana.goto(f"{asgi_server.url}/o/north/objectives/{north['objective'].pk}/")
    wait_for_streams(org, 1)
    card = ana.locator(f"#kr-{kr.pk}")
    card.get_by_label("New value").fill("4")
    card.get_by_label("Confidence").fill("7")
    card.get_by_label("Note").fill("Two clinics opened this week")
    card.get_by_role("button", name="Save check-in").click()
    expect(ana.get_by_text("Check-in saved.")).to_be_visible(timeout=5000)

    expect(pathway_progress(ben)).to_have_attribute("aria-valuenow", "40", timeout=STREAM_WAIT)
    expect(checkins.get_by_role("link", name="Clinics open")).to_be_visible(timeout=STREAM_WAIT)
    expect(checkins.get_by_text("Two clinics opened this week")).to_be_visible()
    expect(checkins.get_by_text("ana", exact=True)).to_be_visible()
    assert ben.evaluate("window.__sameDocument") is True  # swapped in place, never reloaded
    assert ben.evaluate("window.__streamOpens") == 0  # the same stream all along

    ana.screenshot(path=screenshot_dir / "objective-check-in.png", full_page=True)
    ben.screenshot(path=screenshot_dir / "dashboard-live-update.png", full_page=True)


def this_test_database_url() -> str:
    s = db_connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def synced_base(north, settings):
    """A connection of North Unit to a fake Airtable base (people, 2 pathways, 4 objectives,
    8 key results, 6 projects, 24 tasks), and a real Celery worker process to run its syncs."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the sync test needs Postgres: the Celery worker is another process")
    from missionos.celery import app as celery_app

    with FakeAirtable(rate_limit=None, seed=11) as fake:
        settings.AIRTABLE_API_URL = fake.url
        build_base(fake)
        connection = sync_services.connection_create(
            organization=north["org"], name="Northwind plans", base_id=BASE_ID, token=TOKEN
        )
        celery_app.control.purge()  # nothing left over from an earlier run on this Redis db
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "missionos", "worker", "--pool=solo"),
                *("--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "warning"),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": this_test_database_url(),
                "AIRTABLE_API_URL": fake.url,
                # 7 requests (schema + 6 one-page tables) at 2/s: about 3 s, so the connection
                # page, which polls every second, sees the run midway.
                "AIRTABLE_REQUESTS_PER_SECOND": "2",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # Started, not yet ready: under load its start alone took most of the test's 30 s
            # deadline (the run then stayed queued). The deadline is for the run, not the start.
            wait_for(lambda: celery_app.control.ping(timeout=0.5), 60, "the worker to answer")
            yield {**north, "connection": connection}
        finally:
            worker.terminate()
            try:
                _, stderr = worker.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                _, stderr = worker.communicate()
            print(stderr.decode(errors="replace"))  # shown when the test fails


def test_sync_now_advances_the_bar_and_the_open_dashboard_catches_up(
    asgi_server, asgi_page, synced_base, screenshot_dir
):
    """An admin presses "Sync now" on the connection page; the run goes the production way:
    the view queues `sync.execute_run` on Redis (Celery's broker) after commit, a real worker
    process (`celery worker --pool=solo`, on this test's database) runs it, paced at 2
    requests/s by AIRTABLE_REQUESTS_PER_SECOND, and announces progress on Redis pub/sub. Eager
    Celery would run the sync inside the POST, so no progress could ever be seen.

    The connection page's bar (it polls every second) shows the run midway, and Ben's dashboard
    in another browser shows the sync running, then the synced pathways, without a reload."""
    org, connection = synced_base["org"], synced_base["connection"]
    admin, ben = asgi_page(), asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    expect(ben.locator("#sync-status")).to_contain_text("Not synced from Airtable yet.")
    expect(ben.get_by_role("link", name="Quality")).to_have_count(0)

    log_in(admin, asgi_server, "ada")
    admin.goto(f"{asgi_server.url}/o/north/sync/{connection.pk}/")
    wait_for_streams(org, 1)
    admin.get_by_role("button", name="Sync now").click()
    expect(admin.get_by_text("Incremental sync queued.")).to_be_visible(timeout=5000)
    run = SyncRun.objects.unscoped().get(connection=connection)

    bar_readings: list[tuple[int, int]] = []  # (tables done, tables in all), as displayed
    statuses: set[str] = set()  # what Ben's dashboard said about the sync meanwhile
    deadline = time.monotonic() + 30
    while True:
        try:
            reading = admin.evaluate(
                """() => {
                    const bar = document.querySelector(".run-progress [role=progressbar]");
                    const value = (name) => Number(bar.getAttribute(name));
                    return bar && [value("aria-valuenow"), value("aria-valuemax")];
                }"""
            )
        except PlaywrightError:  # the page reloads when the run ends (HX-Refresh)
            reading = None
        if reading and (not bar_readings or tuple(reading) != bar_readings[-1]):
            bar_readings.append(tuple(reading))
            if 0 < reading[0] < reading[1]:
                admin.screenshot(path=screenshot_dir / "sync-progress.png", full_page=True)
        statuses.add(ben.evaluate("document.querySelector('#sync-status .badge')?.textContent"))
        run.refresh_from_db()
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            break
        assert time.monotonic() < deadline, f"the run is still {run.status}: {bar_readings}"
        time.sleep(0.05)
    assert run.status == RunStatus.SUCCEEDED, run.error

    # The bar advanced: several values, never backwards, at least one strictly midway.
    done = [now for now, _ in bar_readings]
    assert len(set(done)) >= 2 and done == sorted(done), bar_readings
    assert any(0 < now < total for now, total in bar_readings), bar_readings
    # The finished run reloads the connection page into the list of runs.
    expect(admin.locator(".run-progress")).to_have_count(0, timeout=5000)
    expect(admin.get_by_role("table").get_by_text("Succeeded")).to_be_visible()

    # Ben's dashboard heard it all on the stream.
    assert "Running" in statuses, statuses
    expect(ben.locator("#sync-status")).to_contain_text("Succeeded", timeout=3000)
    synced = Pathway.objects.unscoped(include_archived=True).filter(
        organization=org, source_record_id__isnull=False
    )
    names = sorted(synced.values_list("name", flat=True))
    assert names == ["Access", "Quality"]
    cards = ben.locator(".pathway-card")
    for name in names:
        expect(cards.get_by_role("link", name=name, exact=True)).to_be_visible(timeout=3000)
    assert ben.evaluate("window.__sameDocument") is True
    ben.screenshot(path=screenshot_dir / "dashboard-after-sync.png", full_page=True)


def test_an_outsider_cannot_open_the_stream(asgi_server, asgi_page, north):
    """Otto (South Unit only) gets 404 for North's stream, a visitor the login page; and a real
    EventSource of Otto's hears nothing while a member's, open at the same time, hears the
    event."""
    org = north["org"]
    path = f"/o/{org.slug}/events/"

    visitor = asgi_page()
    response = visitor.goto(asgi_server.url + path)
    assert response.request.redirected_from.response().status == 302
    expect(visitor).to_have_url(f"{asgi_server.url}/login/?next={path}")
    expect(visitor.get_by_role("button", name="Log in")).to_be_visible()

    otto, ben = asgi_page(), asgi_page()
    log_in(otto, asgi_server, "otto")
    assert otto.evaluate("(url) => fetch(url).then((r) => r.status)", path) == 404

    probe = """(url) => {
        const heard = { opened: false, errors: 0, events: [] };
        const source = new EventSource(url);
        source.onopen = () => { heard.opened = true; };
        source.onerror = () => { heard.errors++; };
        source.onmessage = (event) => heard.events.push("message");
        for (const kind of ["plan", "sync"]) {
            source.addEventListener(kind, () => heard.events.push(kind));
        }
        window.__heard = heard;
        window.__source = source;
    }"""
    log_in(ben, asgi_server, "ben")  # lands on North's dashboard, which streams too
    ben.evaluate(probe, path)
    otto.evaluate(probe, path)
    ben.wait_for_function("() => window.__heard.opened", timeout=5000)
    wait_for_streams(org, 2)  # Ben's dashboard and Ben's probe; Otto's never subscribes
    assert listening_streams(org) == 2
    otto.wait_for_function("() => window.__heard.errors > 0", timeout=5000)

    okr_services.check_in_create(
        key_result=north["kr"], value=Decimal(2), confidence=None, author=None
    )
    ben.wait_for_function("() => window.__heard.events.includes('plan')", timeout=3000)
    otto.wait_for_timeout(300)  # the same time again for anything that would reach Otto
    heard = otto.evaluate("window.__heard")
    assert heard == {"opened": False, "errors": 1, "events": []}
    # 404 fails the connection for good: the browser does not even retry.
    assert otto.evaluate("window.__source.readyState") == 2  # EventSource.CLOSED


def test_a_dropped_stream_reconnects_and_catches_up(asgi_server, asgi_page, north, screenshot_dir):
    """The server goes away (as in a deploy) while Ben's dashboard is open; a check-in is made
    while it is down, so its event is lost (pub/sub keeps nothing). When the server is back on
    the same address the browser reconnects (the stream's `retry: 2000`), and app.js fetches
    the fragments again on reopening: the check-in shows, without a reload."""
    org = north["org"]
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    expect(pathway_progress(ben)).not_to_have_attribute("aria-valuenow", NO_VALUE)

    asgi_server.stop()
    okr_services.check_in_create(
        key_result=north["kr"], value=Decimal(7), confidence=6, author=None, note="While away"
    )
    ben.wait_for_timeout(500)  # nothing can reach the page now
    expect(pathway_progress(ben)).not_to_have_attribute("aria-valuenow", NO_VALUE)
    asgi_server.start()

    expect(pathway_progress(ben)).to_have_attribute("aria-valuenow", "70", timeout=8000)
    expect(ben.get_by_text("While away")).to_be_visible()
    assert ben.evaluate("window.__streamOpens") >= 1  # it came back through a new stream
    assert ben.evaluate("window.__sameDocument") is True
    ben.screenshot(path=screenshot_dir / "dashboard-reconnected.png", full_page=True)


def test_a_change_during_a_dashboard_refresh_is_not_lost(asgi_server, asgi_page, north):
    """Two check-ins in quick succession: the second one's event arrives while the dashboard
    is still fetching the fragment for the first. The dashboard must end up showing the second
    (the last event must always lead to a fetch rendered after it)."""
    org, kr = north["org"], north["kr"]
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    wait_for_streams(org, 1)
    held = hold_first_refresh(ben, "live")

    okr_services.check_in_create(key_result=kr, value=Decimal(4), confidence=None, author=None)
    wait_until(ben, lambda: held, 3, "the dashboard to fetch its fragment")  # rendered at 40%
    okr_services.check_in_create(key_result=kr, value=Decimal(7), confidence=None, author=None)
    ben.wait_for_timeout(600)  # the second event arrives, and its 300 ms delay passes
    release(held)

    expect(pathway_progress(ben)).to_have_attribute("aria-valuenow", "70", timeout=3000)
    assert ben.evaluate("window.__sameDocument") is True


@pytest.mark.parametrize("answered", ["after the end's delay", "within the end's delay"])
def test_the_end_of_a_sync_is_not_lost_behind_its_last_progress_event(
    asgi_server, asgi_page, north, answered
):
    """A run ends a few milliseconds after its last progress event (sync.services: the last
    `_save_progress`, then `_finish`, which announces "sync" and "plan"). The dashboard's sync
    status is still fetching for the progress event when the end is announced; it must end on
    "Succeeded", not stay on "Running".

    The fetch may be answered after the end's trigger delay (the newer fetch replaces it) or
    within it: then the answer is swapped in while the end's fetch is still waiting to go, and
    that fetch must still go (it was lost when the status line replaced itself, listener and
    all; seen as a flaky `test_sync_now_advances_the_bar...`)."""
    org = north["org"]
    connection = Connection.objects.create(
        organization=org,
        name="Northwind plans",
        base_id=BASE_ID,
        token_encrypted=encrypt_token(TOKEN),
        token_last4=TOKEN[-4:],
    )
    run = SyncRun.objects.create(
        organization=org, connection=connection, kind=RunKind.FULL, status=RunStatus.RUNNING
    )
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    status = ben.locator("#sync-status")
    expect(status).to_contain_text("Running")
    wait_for_streams(org, 1)
    held = hold_first_refresh(ben, "sync")

    run.pulled = 47
    run.save(update_fields=["pulled"])
    events._send(org.pk, events.SYNC)  # the last progress
    wait_until(ben, lambda: held, 3, "the dashboard to fetch its sync status")  # "Running"
    run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    heard = ben.evaluate("window.__streamMessages")
    events._send(org.pk, events.SYNC)  # the end, as `_finish` announces it
    events._send(org.pk, events.PLAN)
    if answered == "after the end's delay":
        ben.wait_for_timeout(600)
    else:  # both events in, their 100 and 300 ms delays still running
        ben.wait_for_function(f"window.__streamMessages >= {heard + 2}", polling=5)
    release(held)

    expect(status).to_contain_text("Succeeded", timeout=3000)
    assert ben.evaluate("window.__sameDocument") is True


def test_an_open_stream_holds_no_database_connection(asgi_server, asgi_page, north):
    """Each open dashboard holds its stream for hours. The stream never queries the database,
    so it must not keep the connection its request opened (the membership check): one
    connection per open dashboard would exhaust Postgres's (100 by default)."""
    if db_connection.vendor != "postgresql":
        pytest.skip("counts connections in pg_stat_activity (Postgres)")

    def server_connections() -> set[int]:
        with db_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return {pid for (pid,) in cursor.fetchall()}

    before = server_connections()
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, north["org"])
    wait_for_streams(north["org"], 1)
    deadline = time.monotonic() + 10  # generous: a busy machine closes them late
    while (held := server_connections() - before) and time.monotonic() < deadline:
        ben.wait_for_timeout(50)
    assert not held, f"connections still open while the dashboard streams: {held}"
    assert ben.evaluate("window.__streamOpens") == 0  # still the same stream


def test_an_open_objective_page_follows_a_check_in_made_elsewhere(asgi_server, asgi_page, north):
    """Ben reads the objective while a check-in arrives from elsewhere (another member, an
    Airtable sync): its progress and chart follow through the stream, and his page is not
    reloaded."""
    org, kr = north["org"], north["kr"]
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    ben.goto(f"{asgi_server.url}/o/{org.slug}/objectives/{north['objective'].pk}/")
    listener = ben.locator(".live-listener")
    expect(listener).to_have_attribute("data-stream-opened", "true", timeout=5000)
    wait_for_streams(org, 1)
    ben.evaluate("() => { window.__sameDocument = true; }")
    progress = ben.locator("#objective-progress").get_by_role("progressbar").first
    expect(progress).not_to_have_attribute("aria-valuenow", NO_VALUE)

    okr_services.check_in_create(key_result=kr, value=Decimal(6), confidence=7, author=None)
    expect(progress).to_have_attribute("aria-valuenow", "60", timeout=STREAM_WAIT)
    expect(ben.locator("#objective-chart")).to_contain_text("60%")
    assert ben.evaluate("window.__sameDocument") is True


def test_a_comment_shows_on_another_members_open_objective_page(
    asgi_server, asgi_page, north, screenshot_dir
):
    """Issue 14: Ana comments on the objective while Ben has its page open, half way through
    typing a comment of his own on the key result. Ana's comment shows on Ben's page through
    the stream, with no reload, without her Edit or Delete (his view, not hers), and his
    draft is still there, as he left it."""
    org, objective, kr = north["org"], north["objective"], north["kr"]
    page_url = f"{asgi_server.url}/o/{org.slug}/objectives/{objective.pk}/"
    ana, ben = asgi_page(), asgi_page()
    log_in(ben, asgi_server, "ben")
    ben.goto(page_url)
    expect(ben.locator(".live-listener")).to_have_attribute(
        "data-stream-opened", "true", timeout=5000
    )
    ben.evaluate("() => { window.__sameDocument = true; }")
    draft = ben.get_by_label(f"Comment on {kr}")
    draft.fill("Half a thought about")
    draft.press("End")

    log_in(ana, asgi_server, "ana")
    ana.goto(page_url)
    wait_for_streams(org, 2)
    ana_thread = ana.locator(f"#comments-objective-{objective.pk}")
    ana_thread.get_by_label(f"Comment on {objective}").fill("Waiting lists are down 10%")
    ana_thread.get_by_role("button", name="Post comment").click()
    expect(ana_thread.get_by_text("Waiting lists are down 10%")).to_be_visible(timeout=5000)

    ben_thread = ben.locator(f"#comments-objective-{objective.pk}")
    expect(ben_thread.get_by_text("Waiting lists are down 10%")).to_be_visible(timeout=STREAM_WAIT)
    expect(ben_thread.get_by_role("heading", name="Comments (1)")).to_be_visible()
    expect(ben_thread.get_by_role("link", name="Edit")).to_have_count(0)  # Ana's, not his
    expect(draft).to_have_value("Half a thought about")
    assert ben.evaluate("window.__sameDocument") is True
    shoot(ben, screenshot_dir, "objective-comment-live", desktop=(1366, 900))
