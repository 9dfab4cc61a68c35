"""Revocation that bites: a member removed or given another role is treated so from their next
request on (nothing caches the old membership), their session gets a new key when their role
changed, and their open event streams end within a few seconds."""

from __future__ import annotations

import asyncio
import os
import time
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import connections
from django.test import Client
from django.urls import reverse

from missionos import events
from orgs import services
from orgs.models import Membership, Role
from tests.factories import PathwayFactory
from tests.orgs.test_events import AsgiStream, events_url, needs_redis, run_async, session_cookie

pytestmark = pytest.mark.django_db


def membership(user, org) -> Membership:
    return Membership.objects.for_org(org).get(user=user)


def session_exists(key: str) -> bool:
    store: SessionBase = import_module(django_settings.SESSION_ENGINE).SessionStore()
    return store.exists(key)


@pytest.fixture
def maya(org, member_of):
    return member_of(org, Role.ADMIN, username="maya")


@pytest.fixture
def maya_browser(maya) -> Client:
    browser = Client()
    browser.force_login(maya)
    return browser


def test_a_removed_member_is_refused_at_their_next_request(org, maya, maya_browser, clock):
    PathwayFactory(organization=org, name="Patient access")
    home = reverse("org_home", args=[org.slug])
    assert "Patient access" in maya_browser.get(home).content.decode()
    assert "Patient access" in maya_browser.get(home).content.decode()  # from the page cache
    services.membership_remove(membership=membership(maya, org))
    assert maya_browser.get(home).status_code == 404
    assert maya_browser.get(reverse("people_list", args=[org.slug])).status_code == 404


def test_a_new_role_applies_at_their_next_request(org, maya, maya_browser, clock):
    new_pathway = reverse("pathway_create", args=[org.slug])
    home = reverse("org_home", args=[org.slug])
    assert maya_browser.get(new_pathway).status_code == 200
    assert new_pathway in maya_browser.get(home).content.decode()  # cached for an admin
    services.membership_change_role(membership=membership(maya, org), role=Role.VIEWER)
    assert maya_browser.get(new_pathway).status_code == 403
    page = maya_browser.get(home)
    assert page.status_code == 200
    assert new_pathway not in page.content.decode()  # not the admin's cached page


def test_the_session_gets_a_new_key_when_the_role_changed(org, maya, maya_browser):
    home = reverse("org_home", args=[org.slug])
    maya_browser.get(home)
    before = maya_browser.session.session_key
    maya_browser.get(home)
    assert maya_browser.session.session_key == before  # no change, no new key

    services.membership_change_role(membership=membership(maya, org), role=Role.MEMBER)
    assert maya_browser.get(home).status_code == 200  # still signed in
    after = maya_browser.session.session_key
    assert after != before
    assert not session_exists(before)  # the old key opens nothing any more
    assert maya_browser.get(home).status_code == 200
    assert maya_browser.session.session_key == after


# -- open event streams ----------------------------------------------------------------------


def in_thread(work) -> None:
    """Database work done in a thread of its own, which keeps no connection after it (or
    the test database could not be dropped at the end)."""
    try:
        work()
    finally:
        connections.close_all()


async def seconds_until_closed(stream: AsgiStream, limit: float = 10.0) -> float:
    """How long until the server ends the stream (its last body), skipping keepalives."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        message = await asyncio.wait_for(stream.sent.get(), limit)
        if message.get("more_body") is False:
            return time.monotonic() - start
        assert b"membership" not in message.get("body", b""), message  # never sent to a page
    raise AssertionError(f"the stream was still open after {limit}s")


def open_and_change(client, org, user, change) -> float:
    """Open `user`'s stream, make `change` (in a thread: it is database work), and measure how
    long the stream stays open after it committed."""
    cookie = session_cookie(client, user)

    async def run() -> float:
        stream = AsgiStream(events_url(org), cookie)
        assert (await stream.open())["status"] == 200
        await stream.next()  # the retry hint: subscribed
        await asyncio.to_thread(in_thread, change)  # committed when it returns
        closed_after = await seconds_until_closed(stream)
        await stream.close()
        return closed_after

    return run_async(run())


@needs_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["remove", "demote"])
def test_a_removed_or_demoted_members_stream_ends_at_once(
    client, settings, org, owner, maya, change
):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.EVENT_STREAM_RECHECK_SECONDS = 60  # the notice alone, not the backstop

    def act() -> None:
        if change == "remove":
            services.membership_remove(membership=membership(maya, org))
        else:
            services.membership_change_role(membership=membership(maya, org), role=Role.VIEWER)

    seconds = open_and_change(client, org, maya, act)
    print(f"stream of a member ({change}) closed {seconds * 1000:.0f} ms after the change")
    assert seconds < 2.0


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_without_a_notice_the_periodic_recheck_ends_the_stream(client, settings, org, maya):
    """A membership deleted behind the services' back (the admin, the shell): no notice, and
    the backstop still ends the stream within its interval."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.EVENT_STREAM_RECHECK_SECONDS = 1.0

    def act() -> None:
        Membership.objects.for_org(org).filter(user=maya).delete()

    seconds = open_and_change(client, org, maya, act)
    print(f"stream closed {seconds * 1000:.0f} ms after an unannounced removal")
    assert seconds < 2.5


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_another_members_change_leaves_a_stream_open(client, settings, org, owner, maya):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    settings.EVENT_STREAM_RECHECK_SECONDS = 60
    cookie = session_cookie(client, owner)

    async def run() -> bytes:
        stream = AsgiStream(events_url(org), cookie)
        await stream.open()
        await stream.next()
        await asyncio.to_thread(
            in_thread, lambda: services.membership_remove(membership=membership(maya, org))
        )
        await asyncio.sleep(0.3)
        await asyncio.to_thread(events._send, org.pk, events.PLAN)
        heard = await stream.next()  # the owner's stream still hears, and no notice reached it
        await stream.close()
        return heard["body"]

    assert run_async(run()) == b"event: plan\ndata: plan\n\n"


def test_a_membership_notice_is_not_a_page_event():
    assert events._item("membership:42") == (events.MEMBERSHIP, 42)
    assert events._item("plan") == "plan"
    assert events._item("membership:x") is None
    assert events._item("gossip") is None
