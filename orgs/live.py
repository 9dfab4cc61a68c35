"""The event stream, served straight from the ASGI server (see missionos/asgi.py).

Django serves an async view through its middleware, and any synchronous step there (session,
user, membership) gives the request a thread of its own that lives until the response ends:
for an event stream, hours, one thread per open dashboard. So `/o/<slug>/events/` is answered
here: the same checks as every organization URL (session login, then membership by slug through
`orgs.selectors.membership_for_slug`; a stranger gets 404, anonymous a login redirect) run once
in a shared worker thread, which hands its database connection back, and then the stream holds
nothing but a queue on the process's one Redis subscription (`missionos.events`).

Access is not checked once for good: the same checks run again when the viewer's membership
changes (orgs.services publishes a membership notice) and every few seconds as a backstop
(settings.EVENT_STREAM_RECHECK_SECONDS); the stream ends once they fail or the viewer's role is
no longer the one it was opened for (the browser reconnects and is checked anew).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponsePermanentRedirect,
)
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

from missionos import events
from missionos.headers import security_headers
from orgs.models import Membership
from orgs.selectors import membership_for_slug

logger = logging.getLogger(__name__)


def _header_list(request: ASGIRequest, response: HttpResponse) -> list[tuple[bytes, bytes]]:
    """The response's headers with those every response carries (missionos.headers)."""
    response = security_headers(request, response)
    # No cookies: the stream and its refusals (a 404, a login redirect) set none.
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.items()]


def stream_headers(request: ASGIRequest) -> list[tuple[bytes, bytes]]:
    response = HttpResponse(content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"  # nginx and friends: pass each event on at once
    patch_vary_headers(response, ["Cookie"])  # it is this viewer's stream: private, no-store
    return _header_list(request, response)


STREAM_PATH_END = "/events/"  # orgs/org_urls.py: org_events


def events_slug(scope: dict) -> str | None:
    """The organization slug when the request is for an event stream, else None."""
    # Every request passes here: only paths shaped like a stream's pay for URL resolution.
    if (
        scope["type"] != "http"
        or scope.get("method") != "GET"
        or not scope["path"].endswith(STREAM_PATH_END)
    ):
        return None
    try:
        match = resolve(scope["path"])
    except Resolver404:
        return None
    return match.kwargs.get("org_slug") if match.url_name == "org_events" else None


def authorize(request: ASGIRequest, slug: str) -> Membership | HttpResponse:
    """The viewer's membership of the organization the stream is for, or the answer to send
    instead. The session and the user are read afresh each time (a recheck sees a logout)."""
    try:
        request.get_host()  # ALLOWED_HOSTS, as Django checks it
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return HttpResponsePermanentRedirect(
                request.build_absolute_uri().replace("http", "https", 1)
            )
        if not settings.REDIS_URL:
            return HttpResponse(status=204)  # no events to hear: the page polls instead
        engine = import_module(settings.SESSION_ENGINE)
        request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        user = get_user(request)
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_slug(user=user, slug=slug)
        if membership is None:
            return HttpResponseNotFound("No such organization.")
        return membership
    except DisallowedHost:
        return HttpResponseBadRequest()
    finally:
        connections.close_all()  # this worker thread is shared: keep no connection


def still_allowed(request: ASGIRequest, slug: str, role: str) -> bool:
    """Whether the stream's viewer is still a member of the organization, with the role the
    stream was opened for."""
    try:
        outcome = authorize(request, slug)
    except Exception:  # the database is away: end the stream; the browser comes back later
        logger.warning("could not recheck an event stream's viewer", exc_info=True)
        return False
    return isinstance(outcome, Membership) and outcome.role == role


async def stream_app(scope: dict, receive, send, slug: str) -> None:
    request = ASGIRequest(scope, io.BytesIO())
    outcome = await sync_to_async(authorize, thread_sensitive=False)(request, slug)
    if isinstance(outcome, HttpResponse):
        await _send_response(send, request, outcome)
        return
    membership = outcome
    headers = stream_headers(request)
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def recheck() -> bool:
        return await sync_to_async(still_allowed, thread_sensitive=False)(
            request, slug, membership.role
        )

    async def pump() -> None:
        chunks = events.stream(
            membership.organization_id, user_id=membership.user_id, recheck=recheck
        )
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(until_disconnect())
    try:
        done, _ = await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    # The stream ended (Redis went away, or the viewer may no longer listen): close it; the
    # browser reconnects, and is checked anew.
    if pumping in done:
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_response(send, request: ASGIRequest, response: HttpResponse) -> None:
    headers = _header_list(request, response)
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
