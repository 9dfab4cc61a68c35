"""Whether a Celery worker is there to run queued work, for pages that queue some.

Queueing never fails for want of a worker (the broker keeps the message), so a page that only
said "queued" could wait forever in silence. Pages ask here and say so instead. A ping returns
with the first worker's answer, and waits WORKER_PING_SECONDS only when none comes; the answer
is kept a while in the cache, so polling pages do not ask on every view.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
_CACHE_KEY = "missionos:workers-answering"


def workers_answering(*, fresh: bool = False) -> bool:
    """True when at least one worker answered a ping (lately; now, with `fresh`: before
    queueing, where a "no" remembered from before a worker started would mislead)."""
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return False  # only this process could consume it, and it runs no worker
    known = None if fresh else cache.get(_CACHE_KEY)
    if known is not None:
        return known
    seconds = settings.WORKER_PING_SECONDS
    try:
        # The first answer is enough: a worker there answers at once, and only an absent one
        # costs the whole wait.
        answering = bool(current_app.control.ping(timeout=seconds, limit=1))
    except Exception:  # a broker that cannot broadcast (memory://) or is down: nobody heard
        logger.info("no answer to a worker ping", exc_info=True)
        answering = False
    # Remember a "yes" a while, a "no" only briefly: a worker that starts shows up soon.
    cache.set(_CACHE_KEY, answering, timeout=30 if answering else seconds * 3)
    return answering
