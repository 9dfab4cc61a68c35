"""The two-way sync as a person sees it, the production way: pages under ASGI (uvicorn), a real
Celery worker and beat in processes of their own on Redis, and the fake Airtable over HTTP.

- A check-in saved in the browser is queued with it (the outbox), pushed by the worker, and
  lands in the base's check-ins table, with the key result's current value beside it.
- An edit made in the base, through the fake's control API as in README's two-way demo, is
  heard by the change feed (beat polls it every second here) and shows on an open dashboard
  without a reload.

Needs Postgres (the worker and beat are other processes) and Redis (the event stream).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from devtools.fakeairtable import FakeAirtable
from okrs.models import CheckIn, KeyResult
from sync import services as sync_services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import FeedState, PendingWrite, RunKind, RunStatus
from tests.browser.test_live import (
    ROOT,
    STREAM_WAIT,
    log_in,
    north,  # noqa: F401 (a fixture)
    open_live_dashboard,
    this_test_database_url,
    wait_for_streams,
)
from tests.sync.airtable_base import (
    BASE_ID,
    T_KRS,
    T_UPDATES,
    TOKEN,
    add_check_ins_table,
    build_base,
)
from tests.sync.test_worker import wait_for

FAST = RetryPolicy(backoff=0.001, backoff_cap=0.002, rate_limit_wait=0.0, sleep=lambda s: None)
PHONE = {"width": 390, "height": 844}
# How long the worker may take to push a write or apply a feed batch (s): generous for a busy
# machine; bench/writeback.py and bench/change_feed.py measure how long it really takes.
WORKER_WAIT = 30


def start(command: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "missionos", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    print(stderr.decode(errors="replace"))  # shown when the test fails


@pytest.fixture
def two_way(north, settings):  # noqa: F811 (north: test_live's fixture)
    """North Unit connected to a fake base with a check-ins table, fully synced, its change
    feed active, and a Celery worker and beat running against this test's database."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the two-way test needs Postgres: the worker and beat are other processes")
    from missionos.celery import app as celery_app

    with FakeAirtable(rate_limit=None, seed=11) as fake:
        settings.AIRTABLE_API_URL = fake.url
        ids = build_base(fake)
        add_check_ins_table(fake)
        connection = sync_services.connection_create(
            organization=north["org"], name="Northwind plans", base_id=BASE_ID, token=TOKEN
        )
        run = sync_services.run_request(connection=connection, kind=RunKind.FULL)
        sync_services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
        connection.refresh_from_db()
        assert "check_in" in connection.mapping["entities"]
        # The feed's cursor starts after the sync's own view of the base.
        feed = sync_services.feed_ensure(connection=connection, limiter=NoRateLimiter()).feed
        assert feed.state == FeedState.ACTIVE, feed.message

        celery_app.control.purge()  # nothing left over from an earlier run on this Redis db
        env = {
            **os.environ,
            "DATABASE_URL": this_test_database_url(),
            "AIRTABLE_API_URL": fake.url,
            "AIRTABLE_FEED_POLL_SECONDS": "1",
        }
        worker = start(
            [
                *("worker", "--pool=threads", "--concurrency=2", "--without-heartbeat"),
                *("--without-mingle", "--without-gossip", "-l", "warning"),
            ],
            env,
        )
        beat = start(["beat", "-S", django_settings.CELERY_BEAT_SCHEDULER, "-l", "warning"], env)
        try:
            yield {**north, "fake": fake, "ids": ids, "connection": connection}
        finally:
            stop(beat)
            stop(worker)


def control(fake: FakeAirtable, method: str, path: str, body: dict) -> dict:
    """The fake's control API, as README's two-way demo uses it with curl."""
    request = urllib.request.Request(
        f"{fake.url}/_control/{urllib.parse.quote(path)}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


def test_a_check_in_made_in_missionos_lands_in_the_airtable_base(
    asgi_server, asgi_page, two_way, screenshot_dir
):
    org, fake = two_way["org"], two_way["fake"]
    key_result = KeyResult.objects.for_org(org).get(title="KR 2")
    updates = fake.bases[BASE_ID].table(T_UPDATES)
    assert len(updates) == 0

    ada = asgi_page()
    log_in(ada, asgi_server, "ada")
    ada.goto(f"{asgi_server.url}/o/north/objectives/{key_result.objective_id}/")
    card = ada.locator(f"#kr-{key_result.pk}")
    card.get_by_label("New value").fill("31.5")
    card.get_by_label("Confidence").fill("8")
    card.get_by_label("Note").fill("Two more clinics booked")
    card.get_by_role("button", name="Save check-in").click()
    expect(ada.get_by_text("Check-in saved.")).to_be_visible(timeout=5000)
    check_in = CheckIn.objects.for_org(org).get(key_result=key_result)

    # The worker pushes it: a new record in the check-ins table, and the key result's Current.
    record_id = wait_for(
        lambda: CheckIn.objects.for_org(org).get(pk=check_in.pk).source_record_id,
        WORKER_WAIT,
        "the check-in's record id from Airtable",
    )
    cells = dict(updates.get(record_id).fields)
    assert cells["fldUKR0000000001"] == [key_result.source_record_id]
    assert cells["fldUVALUE0000001"] == 31.5
    assert cells["fldUNOTE00000001"] == "Two more clinics booked"
    assert len(updates) == 1
    kr_cells = fake.bases[BASE_ID].table(T_KRS).get(key_result.source_record_id).fields
    assert kr_cells["fldKCURRENT00001"] == 31.5
    wait_for(lambda: not PendingWrite.objects.for_org(org).exists(), WORKER_WAIT, "an empty outbox")
    key_result.refresh_from_db()
    assert key_result.current_value == Decimal("31.5")

    # The page says where the record stands: in Airtable, nothing waiting.
    ada.reload()
    card = ada.locator(f"#kr-{key_result.pk}")
    expect(card).to_contain_text("31.5")
    expect(ada.locator("[data-write-state=failed], [data-write-state=pending]")).to_have_count(0)
    expect(ada.locator("[data-write-state=in_airtable]").first).to_contain_text("In Airtable")
    ada.screenshot(path=screenshot_dir / "two-way-check-in.png", full_page=True)
    ada.set_viewport_size(PHONE)
    ada.screenshot(path=screenshot_dir / "two-way-check-in-phone.png", full_page=True)


def test_an_edit_in_the_airtable_base_shows_on_an_open_dashboard(
    asgi_server, asgi_page, two_way, screenshot_dir
):
    org, fake = two_way["org"], two_way["fake"]
    pathway_id = two_way["ids"]["pathways"][0]  # "Access"
    ben = asgi_page()
    log_in(ben, asgi_server, "ben")
    open_live_dashboard(ben, asgi_server, org)
    wait_for_streams(org, 1)
    cards = ben.locator(".pathway-card")
    expect(cards.get_by_role("link", name="Access", exact=True)).to_be_visible()

    control(fake, "PATCH", f"{BASE_ID}/Strategic Pillars/{pathway_id}", {
        "fields": {"Name": "Access and waiting times"}
    })  # fmt: skip

    renamed = cards.get_by_role("link", name="Access and waiting times", exact=True)
    expect(renamed).to_be_visible(timeout=WORKER_WAIT * 1000 + STREAM_WAIT)
    expect(cards.get_by_role("link", name="Access", exact=True)).to_have_count(0)
    assert ben.evaluate("window.__sameDocument") is True  # swapped in place, never reloaded
    assert ben.evaluate("window.__streamOpens") == 0  # the same stream all along
    ben.screenshot(path=screenshot_dir / "two-way-airtable-edit.png", full_page=True)
    ben.set_viewport_size(PHONE)
    ben.screenshot(path=screenshot_dir / "two-way-airtable-edit-phone.png", full_page=True)
