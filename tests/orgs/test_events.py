"""Live events: published after commit only, streamed only to members of the organization."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import redis
from django.db import transaction
from django.urls import reverse

from missionos import events
from okrs import services
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


def asgi_scope(path: str, cookie: str = "") -> dict:
    """The scope of a GET from a browser, as uvicorn passes it to missionos.asgi."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


class AsgiStream:
    """One GET to the real ASGI application (missionos.asgi), in process: what it sends."""

    def __init__(self, path: str, cookie: str = "") -> None:
        self.path, self.cookie = path, cookie
        self.sent: asyncio.Queue = asyncio.Queue()
        self.gone = asyncio.Event()

    async def open(self) -> dict:
        from missionos.asgi import application

        async def receive() -> dict:
            await self.gone.wait()
            return {"type": "http.disconnect"}

        self.task = asyncio.ensure_future(
            application(asgi_scope(self.path, self.cookie), receive, self.sent.put)
        )
        return await self.next()

    async def next(self) -> dict:
        return await asyncio.wait_for(self.sent.get(), 5)

    async def close(self) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, 5)


def session_cookie(client, user) -> str:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def run_async(coroutine):
    # A thread of its own: browser tests leave Playwright's event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_member_hears_the_organizations_events_on_the_stream(
    client, settings, org, other_org, owner
):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    cookie = session_cookie(client, owner)

    async def listen() -> list[dict]:
        stream = AsgiStream(events_url(org), cookie)
        start = await stream.open()
        first = await stream.next()  # subscribed: the retry hint
        # Another organization's event never reaches this stream; its own does.
        await asyncio.to_thread(events._send, other_org.pk, events.PLAN)
        await asyncio.to_thread(events._send, org.pk, events.SYNC)
        second = await stream.next()
        await stream.close()
        return [start, first, second]

    start, first, second = run_async(listen())
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream") in start["headers"]
    assert first["body"].startswith(b"retry: ")
    assert second["body"] == b"event: sync\ndata: sync\n\n"


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_the_asgi_stream_refuses_strangers_and_visitors(
    client, settings, org, other_org, member_of
):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    stranger_cookie = session_cookie(client, member_of(other_org))

    async def ask(cookie: str) -> dict:
        stream = AsgiStream(events_url(org), cookie)
        start = await stream.open()
        await stream.close()
        return start

    assert run_async(ask(stranger_cookie))["status"] == 404
    anonymous = run_async(ask(""))
    assert anonymous["status"] == 302
    assert (b"location", f"/login/?next={events_url(org)}".encode()) in [
        (name.lower(), value) for name, value in anonymous["headers"]
    ]


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_open_streams_hold_no_thread_each_and_share_one_subscription(client, settings, org, owner):
    """Found by the load benchmark: under Django's middleware every open stream kept an idle
    thread (4,005 threads at 4,000 streams) and a Redis connection of its own."""
    settings.REDIS_URL = os.environ["REDIS_URL"]
    cookie = session_cookie(client, owner)
    redis_client = redis.Redis.from_url(settings.REDIS_URL)

    async def open_many(count: int) -> tuple[int, int, int, int]:
        threads_before = threading.active_count()
        redis_before = len(redis_client.client_list())
        streams = [AsgiStream(events_url(org), cookie) for _ in range(count)]
        for stream in streams:
            assert (await stream.open())["status"] == 200
            await stream.next()  # the retry hint: subscribed
        threads_open = threading.active_count()
        redis_open = len(redis_client.client_list())
        await asyncio.to_thread(events._send, org.pk, events.PLAN)
        heard = [await stream.next() for stream in streams]
        assert all(m["body"] == b"event: plan\ndata: plan\n\n" for m in heard)
        for stream in streams:
            await stream.close()
        return threads_before, threads_open, redis_before, redis_open

    threads_before, threads_open, redis_before, redis_open = run_async(open_many(40))
    # The shared pool that ran the membership checks may have grown by a few; not one per stream.
    assert threads_open - threads_before <= 8
    assert redis_open - redis_before <= 2  # one subscription (plus at most a pool connection)


@needs_redis
def test_a_stream_left_while_joining_lets_go_of_the_subscription(settings):
    """Found when a CI run hung: a browser gone while its stream was still joining the
    subscription left its queue registered, so the subscription outlived every stream."""
    settings.REDIS_URL = os.environ["REDIS_URL"]

    async def leave_while_joining() -> tuple[dict, bool]:
        hub = events._hub()
        joining = asyncio.ensure_future(hub.join(42))
        await asyncio.sleep(0)  # registered, the subscription not yet made
        joining.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await joining
        return dict(hub.listeners), hub.reader is None

    listeners, reader_gone = run_async(leave_while_joining())
    assert listeners == {} and reader_gone


# -- comments: the objective's open pages hear of them (issue 14) ----------------------------


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str]]:
    """What would reach Redis: (organization id, message), without needing Redis."""
    messages: list[tuple[int, str]] = []
    monkeypatch.setattr(events, "_send", lambda org_id, kind: messages.append((org_id, kind)))
    return messages


@pytest.mark.django_db
def test_a_comment_names_its_objective_once_committed_and_a_rolled_back_one_never(
    org, member_of, sent, django_capture_on_commit_callbacks
):
    author = member_of(org)
    kr = KeyResultFactory(organization=org)
    objective = kr.objective
    expected = [(org.pk, "plan"), (org.pk, f"comments:{objective.pk}")]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        comment = services.comment_create(author=author, body="Hello", objective=objective)
    assert sent == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sent == expected
    # On a key result: the page to tell is its objective's. Edits and deletes too.
    for write in (
        lambda: services.comment_create(author=author, body="On the KR", key_result=kr),
        lambda: services.comment_update(comment=comment, body="Hello again", actor=author),
        lambda: services.comment_delete(comment=comment, actor=author),
    ):
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            write()
        assert sent == expected
    sent.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.comment_create(author=author, body="Lost", objective=objective)
        raise RuntimeError("the request failed after the write")
    assert callbacks == [] and sent == []


@pytest.mark.django_db
def test_a_comment_on_a_key_result_without_objective_tells_only_the_plan(
    org, member_of, sent, django_capture_on_commit_callbacks
):
    kr = KeyResultFactory(organization=org, objective=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(author=member_of(org), body="Orphan", key_result=kr)
    assert sent == [(org.pk, "plan")]


def test_a_comments_message_becomes_the_objectives_page_event():
    assert events._item("comments:12") == "comments-12" == events.comments_event(12)
    assert events._item("comments:") is None and events._item("comments:x") is None
    assert events._frame(events._item("comments:12")) == "event: comments-12\ndata: comments-12\n\n"


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_member_hears_comments_on_their_organizations_objectives_only(
    client, settings, org, other_org, owner
):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    cookie = session_cookie(client, owner)

    async def listen() -> dict:
        stream = AsgiStream(events_url(org), cookie)
        await stream.open()
        await stream.next()  # subscribed: the retry hint
        await asyncio.to_thread(events._send, other_org.pk, "comments:7")
        await asyncio.to_thread(events._send, org.pk, "comments:8")
        heard = await stream.next()
        await stream.close()
        return heard

    assert run_async(listen())["body"] == b"event: comments-8\ndata: comments-8\n\n"
