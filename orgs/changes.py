"""Telling whoever mirrors the plan elsewhere that a service wrote a row.

Services call `record_written(record, actor=…)` inside the transaction of the write, after it.
The Airtable sync, an app above, registers the listener (sync.writeback.journal) that queues
the row for write-back in that same transaction, so a change that rolls back queues nothing
and one that commits is never forgotten. Without a listener nothing happens. What changed is
not said here: the write-back compares the row with what Airtable last had.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser

from orgs.models import OrgOwned

ChangeListener = Callable[..., None]  # (*, record: OrgOwned, actor: AbstractBaseUser | None)

_listener: ChangeListener | None = None


def register_change_listener(listener: ChangeListener) -> None:
    """Called from the sync app's ready()."""
    global _listener
    if _listener is not None and _listener is not listener:
        raise ValueError("a change listener is already registered")
    _listener = listener


def record_written(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> None:
    """The row was created or changed by a person or a rule of MissionOS (not by the sync)."""
    if _listener is not None:
        _listener(record=record, actor=actor)
