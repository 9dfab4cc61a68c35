"""What the activity feed can point at: a registry the apps above fill.

An activity line names its target by kind ("pathway", "sync_run") and id. The kinds belong to
the apps that own those pages, and `orgs` sits below them, so each app registers its kinds in
its `AppConfig.ready()`; the feed's link tag and the model's choices read them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class TargetKind:
    """A kind of record an activity line leads to."""

    name: str  # stored in Activity.target
    label: str
    url_name: str = ""  # the page it opens, with `org_slug` and `url_kwarg`; "" for nowhere
    url_kwarg: str = ""
    # What a member must be allowed (an action or a role of orgs.roles) to follow the link;
    # others see the line only.
    required: str = "viewer"
    # Who to name when a line has no actor (an unattended sync run: "Airtable").
    unattended_actor: str = "Someone"
    # The model of the row a line names, when it can be archived or deleted: its page then
    # answers 404, so the line leads to the Archive page or nowhere (`note_target_states`).
    model: type[models.Model] | None = None


_kinds: dict[str, TargetKind] = {}
# The URL name of the page listing archived records (okrs registers it), which has a row
# `archived-<kind>-<id>` for each record archived there on its own.
_archive_page: list[str] = []


def register_archive_page(url_name: str) -> None:
    _archive_page[:] = [url_name]


def archive_page() -> str:
    return _archive_page[0] if _archive_page else ""


def register_target(kind: TargetKind) -> None:
    """Called from an app's ready(). Registering the same kind twice with other values is a
    programming error (two apps claiming one name)."""
    existing = _kinds.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"activity target {kind.name!r} is already registered as {existing}")
    _kinds[kind.name] = kind


def target_kind(name: str) -> TargetKind | None:
    return _kinds.get(name)


def target_choices() -> list[tuple[str, str]]:
    """Activity.target's choices (a callable, so the apps above can add kinds)."""
    return [(kind.name, kind.label) for kind in _kinds.values()]


LIVE, ARCHIVED, DELETED = "live", "archived", "deleted"


def note_target_states(organization, entries: Iterable) -> None:
    """Set each line's `target_state` (live, archived, deleted) and `archive_anchor` (its row on
    the Archive page, "" when it has none): one query per kind of record named. A record
    archived with another (a project's tasks) is found at that one's row; one the sync archived
    (gone from Airtable) has no row; a deleted one (gone, or archived to be deleted in
    Airtable) none either."""
    entries = list(entries)
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        entry.target_state, entry.archive_anchor = LIVE, ""
        kind = _kinds.get(entry.target)
        if kind is not None and kind.model is not None and entry.target_id is not None:
            wanted.setdefault(kind.name, set()).add(entry.target_id)
    from orgs.models import ARCHIVED_HERE, ARCHIVED_WITH, DELETE_IN_AIRTABLE  # it imports this

    states: dict[tuple[str, int], tuple[str, str]] = {}
    for name, ids in wanted.items():
        rows = (
            _kinds[name]
            .model.objects.for_org(organization, include_archived=True)
            .filter(pk__in=ids)
            .values_list(
                "pk",
                "archived_at",
                f"source_extra__{DELETE_IN_AIRTABLE}",
                f"source_extra__{ARCHIVED_HERE}",
                f"source_extra__{ARCHIVED_WITH}",
            )
        )
        for pk in ids:
            states[name, pk] = (DELETED, "")  # unless found
        for pk, archived_at, deleted, here, with_mark in rows:
            if archived_at is None:
                states[name, pk] = (LIVE, "")
            elif deleted:
                states[name, pk] = (DELETED, "")
            elif with_mark:
                states[name, pk] = (ARCHIVED, "archived-" + str(with_mark).replace(":", "-"))
            else:
                states[name, pk] = (ARCHIVED, f"archived-{name}-{pk}" if here else "")
    for entry in entries:
        state = states.get((entry.target, entry.target_id))
        if state is not None:
            entry.target_state, entry.archive_anchor = state
