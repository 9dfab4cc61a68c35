"""Whether a Celery worker is there to run queued work, for pages that queue some.

Queueing never fails for want of a worker (the broker keeps the message), so a page that only
said "queued" could wait forever in silence. Pages ask here and say so instead. A ping costs up
to WORKER_PING_SECONDS; the answer is kept as long in the cache, so polling pages ask the
workers once per period, not once per view.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
_CACHE_KEY = "missionos:workers-answering"


def workers_answering() -> bool:
    """True when at least one worker answered a ping (lately)."""
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return False  # only this process could consume it, and it runs no worker
    known = cache.get(_CACHE_KEY)
    if known is not None:
        return known
    seconds = settings.WORKER_PING_SECONDS
    try:
        answering = bool(current_app.control.ping(timeout=seconds))
    except Exception:  # a broker that cannot broadcast (memory://) or is down: nobody heard
        logger.info("no answer to a worker ping", exc_info=True)
        answering = False
    # Remember a "yes" a while, a "no" only briefly: a worker that starts shows up soon.
    cache.set(_CACHE_KEY, answering, timeout=30 if answering else seconds * 3)
    return answering
