import asyncio
import os
import weakref

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (needs the settings configured above)

from orgs.live import events_slug, stream_app  # noqa: E402  (needs the apps loaded above)

_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def django_turns() -> asyncio.Semaphore:
    """The turns to run Django in this process's event loop (settings.DJANGO_CONCURRENCY).

    Django runs each request in a thread of its own; past a few at once, more threads only
    contend for the GIL and the database pool, so further requests wait here, threadless."""
    loop = asyncio.get_running_loop()
    turns = _turns.get(loop)
    if turns is None:
        turns = _turns[loop] = asyncio.Semaphore(settings.DJANGO_CONCURRENCY)
    return turns


async def application(scope, receive, send):
    """Django, except for the organization event streams, which are held without a thread
    each (orgs/live.py) and so wait for no turn."""
    slug = events_slug(scope)
    if slug is not None:
        await stream_app(scope, receive, send, slug)
    elif scope["type"] == "http":
        async with django_turns():
            await django_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
