"""Who hears that a sync run or a change-feed batch ended: a registry the apps above fill in
their AppConfig.ready() (health recomputes its findings). Called once the run's end is
committed; a listener that fails is logged and does not fail the run."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sync.models import SyncRun

logger = logging.getLogger(__name__)

RunListener = Callable[[SyncRun], None]
_listeners: list[RunListener] = []


def register_run_listener(listener: RunListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def run_ended(run: SyncRun) -> None:
    for listener in list(_listeners):
        try:
            listener(run)
        except Exception:
            logger.exception("a listener of run %s's end failed", run.pk)
