import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missionos.settings")

django_application = get_asgi_application()

from orgs.live import events_slug, stream_app  # noqa: E402  (needs the apps loaded above)


async def application(scope, receive, send):
    """Django, except for the organization event streams, which are held without a thread
    each (orgs/live.py)."""
    slug = events_slug(scope)
    if slug is not None:
        await stream_app(scope, receive, send, slug)
    else:
        await django_application(scope, receive, send)
