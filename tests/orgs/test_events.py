"""Live events: published after commit only, streamed only to members of the organization."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.test import AsyncClient
from django.urls import reverse

from okrs import services
from orgs import events
from orgs import services as org_services
from tests.factories import KeyResultFactory, PersonFactory

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"
)


def events_url(org) -> str:
    return reverse("org_events", kwargs={"org_slug": org.slug})


@pytest.fixture
def subscriber(settings, org):
    """A real Redis subscriber on the organization's channel."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    pubsub = redis.Redis.from_url(settings.REDIS_URL).pubsub()
    pubsub.subscribe(events._channel(org.pk))
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    yield pubsub
    pubsub.close()


@needs_redis
def test_a_check_in_is_announced_after_commit_and_a_rolled_back_one_never(
    org, subscriber, django_capture_on_commit_callbacks
):
    kr = KeyResultFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_in_create(key_result=kr, value=Decimal(3), confidence=7, author=None)
    message = subscriber.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None and message["data"] == b"plan"

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.check_in_create(key_result=kr, value=Decimal(4), confidence=7, author=None)
        raise RuntimeError("the request failed after the write")
    assert callbacks == []
    assert subscriber.get_message(ignore_subscribe_messages=True, timeout=0.5) is None


@needs_redis
def test_editing_a_person_is_announced(org, subscriber, django_capture_on_commit_callbacks):
    """Found in review: the people service saved without announcing it, so open dashboards
    kept showing the old name."""
    person = PersonFactory(organization=org, name="Sam")
    person.name = "Sam Lee"
    with django_capture_on_commit_callbacks(execute=True):
        org_services.person_save(person=person)
    message = subscriber.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None and message["data"] == b"plan"


def test_without_redis_publishing_is_a_quiet_no_op(settings, org):
    settings.REDIS_URL = ""
    events._send(org.pk, events.PLAN)  # nothing to publish to, nothing raised
    with pytest.raises(ValueError):
        events.publish(org.pk, "gossip")


def test_strangers_get_404_and_visitors_the_login_page(client, org, other_org, member_of):
    stranger = member_of(other_org)
    client.force_login(stranger)
    assert client.get(events_url(org)).status_code == 404
    client.logout()
    response = client.get(events_url(org))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_without_redis_there_is_no_stream_and_the_dashboard_polls(client, settings, owner, org):
    settings.REDIS_URL = ""
    client.force_login(owner)
    assert client.get(events_url(org)).status_code == 204
    page = client.get(reverse("org_home", kwargs={"org_slug": org.slug})).content.decode()
    assert "sse-connect" not in page and 'hx-trigger="every 20s"' in page


@needs_redis
def test_under_wsgi_there_is_no_stream_and_the_dashboard_polls(client, settings, owner, org):
    """Found when CI hung: the browser tests' WSGI live server opened the dashboard's stream,
    and each endless response pinned a thread the interpreter then waited for at exit."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    client.force_login(owner)  # the test client is WSGI, like runserver and the live server
    assert client.get(events_url(org)).status_code == 204
    page = client.get(reverse("org_home", kwargs={"org_slug": org.slug})).content.decode()
    assert "sse-connect" not in page and 'hx-trigger="every 20s"' in page


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_member_hears_the_organizations_events_on_the_stream(settings, org, other_org, owner):
    settings.REDIS_URL = os.environ["REDIS_URL"]

    async def listen() -> list[bytes]:
        client = AsyncClient()
        await client.aforce_login(owner)
        response = await client.get(events_url(org))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/event-stream"
        chunks = aiter(response.streaming_content)
        received = [await asyncio.wait_for(anext(chunks), 5)]  # subscribed: the retry hint
        # Another organization's event never reaches this stream; its own does.
        await asyncio.to_thread(events._send, other_org.pk, events.PLAN)
        await asyncio.to_thread(events._send, org.pk, events.SYNC)
        received.append(await asyncio.wait_for(anext(chunks), 5))
        await sync_to_async(connections.close_all)()  # the executor thread's own connection
        return received

    # A thread of its own: browser tests leave Playwright's event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        first, second = pool.submit(asyncio.run, listen()).result(timeout=30)
    assert first.startswith(b"retry: ")
    assert second == b"event: sync\ndata: sync\n\n"
