"""What every request pays for: the user with their memberships in one query, Redis and
Postgres connections shared by the whole process, no URL resolution to tell a stream apart,
and a bounded number of requests in Django at once that event streams never wait for."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from django.core.cache import caches
from django.urls import re_path, reverse
from django_redis.cache import RedisCache

from missionos import asgi
from missionos.redis_clients import shared_redis
from orgs.auth import MembershipsBackend
from orgs.live import STREAM_PATH_END, events_slug
from orgs.models import Role
from tests.factories import UserFactory
from tests.orgs.test_events import (
    AsgiStream,
    asgi_scope,
    events_url,
    needs_redis,
    run_async,
    session_cookie,
)

pytestmark = pytest.mark.django_db


def test_the_user_comes_with_their_memberships_in_one_query(
    org, other_org, member_of, django_assert_num_queries
):
    user = member_of(org, Role.ADMIN)
    other_org.memberships.create(user=user, role=Role.VIEWER)
    with django_assert_num_queries(1):
        loaded = MembershipsBackend().get_user(user.pk)
        memberships = {m.organization.slug: m.role for m in loaded.loaded_memberships}
        assert all(m.user is loaded for m in loaded.loaded_memberships)
    assert loaded == user
    assert memberships == {"acme": Role.ADMIN, "borealis": Role.VIEWER}


def test_a_user_in_no_organization_and_an_inactive_one(org, member_of):
    loner = UserFactory(username="loner")
    assert MembershipsBackend().get_user(loner.pk).loaded_memberships == []
    gone = member_of(org, Role.OWNER, is_active=False)
    assert MembershipsBackend().get_user(gone.pk) is None


def test_an_org_page_asks_once_for_the_user_and_their_organizations(
    client, org, other_org, member_of, django_assert_num_queries, session_queries
):
    user = member_of(org)
    other_org.memberships.create(user=user, role=Role.VIEWER)
    client.force_login(user)
    url = reverse("people_list", args=[org.slug])
    client.get(url)
    with django_assert_num_queries(session_queries + 2) as captured:
        page = client.get(url).content.decode()
    # The user with their memberships, then the people.
    user_query = captured[session_queries]["sql"]
    assert "orgs_membership" in user_query and "auth_user" in user_query
    assert 'data-org="borealis"' in page  # the switcher came from the same query


# A URLconf in which every path is an organization's event stream: a path resolved against it
# comes out as a stream, so a path that does not is one that was never resolved.
urlpatterns = [re_path(r"^o/(?P<org_slug>[^/]+)/", lambda request: None, name="org_events")]


def test_only_stream_shaped_paths_are_resolved(org, settings):
    stream = events_url(org)
    assert stream.endswith(STREAM_PATH_END)
    pages = [reverse("org_home", args=[org.slug]), "/healthz/", "/o/acme/people/"]
    settings.ROOT_URLCONF = __name__
    assert events_slug({"type": "http", "method": "GET", "path": stream}) == org.slug
    for path in pages:
        assert events_slug({"type": "http", "method": "GET", "path": path}) is None


@needs_redis
def test_every_thread_shares_one_redis_client(settings):
    """Django builds a cache backend per thread, and under ASGI each request has a thread of
    its own: Django's own Redis backend opened connections per request, and django-redis alone
    builds a client (some 170 response callbacks) per request."""
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("the cache is not Redis here")
    clients, event_clients = [], []

    def use_the_cache() -> None:
        caches["default"].set("shared-client-probe", 1)
        clients.append(caches["default"].client.get_client(write=True))
        event_clients.append(shared_redis())

    threads = [threading.Thread(target=use_the_cache) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1
    assert clients[0] is cache.client.get_client(write=False)
    # Events and locks: one client per process too, whichever thread asks.
    assert len({id(client) for client in event_clients}) == 1


async def get(path: str) -> dict:
    """A plain GET through the ASGI application: the start of its answer."""
    sent: list[dict] = []
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected

    async def send(message: dict) -> None:
        sent.append(message)

    await asyncio.wait_for(asgi.application(asgi_scope(path), receive, send), 10)
    return sent[0]


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_open_streams_take_no_turn_from_pages(client, settings, org, owner, monkeypatch):
    """With room for one request in Django at a time, pages still answer while streams are
    held open: a stream waits on Redis, not on a turn."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    monkeypatch.setattr(settings, "DJANGO_CONCURRENCY", 1)
    cookie = session_cookie(client, owner)

    async def pages_while_streaming() -> list[int]:
        streams = [AsgiStream(events_url(org), cookie) for _ in range(3)]
        for stream in streams:
            assert (await stream.open())["status"] == 200
        starts = await asyncio.gather(*(get("/healthz/") for _ in range(3)))
        for stream in streams:
            await stream.close()
        assert asgi.django_turns()._value == 1  # every turn was given back
        return [start["status"] for start in starts]

    assert run_async(pages_while_streaming()) == [200, 200, 200]
