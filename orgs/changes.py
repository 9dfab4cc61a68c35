"""Telling whoever mirrors the plan elsewhere that a service wrote a row.

Services call `record_written(record, actor=…)` inside the transaction of the write, after it.
The apps above register listeners: the Airtable sync's (sync.writeback.journal) queues the row
for write-back in that same transaction, so a change that rolls back queues nothing and one
that commits is never forgotten; data health's (health.tasks) refreshes the findings about the
row once the transaction commits. Without a listener nothing happens. What changed is not said
here: the write-back compares the row with what Airtable last had.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser

from orgs.models import OrgOwned

ChangeListener = Callable[..., None]  # (*, record: OrgOwned, actor: AbstractBaseUser | None)

_listeners: list[ChangeListener] = []


def register_change_listener(listener: ChangeListener) -> None:
    """Called from the apps' ready(), in their order (the sync's first)."""
    if listener not in _listeners:
        _listeners.append(listener)


def record_written(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> None:
    """The row was created or changed by a person or a rule of MissionOS (not by the sync)."""
    for listener in _listeners:
        listener(record=record, actor=actor)
