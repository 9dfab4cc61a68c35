"""The activity feed's links: where a line leads, for the member reading it."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import reverse

from orgs.activity import ARCHIVED, DELETED, LIVE, archive_page, target_kind
from orgs.models import Activity

register = template.Library()


@register.simple_tag
def activity_link(entry: Activity, request: HttpRequest) -> str:
    """Where an activity entry leads, for this member; "" when nowhere (a cycle, a task with no
    project, a page the member's role does not open)."""
    kind = target_kind(entry.target)
    if kind is None or not kind.url_name or entry.target_id is None:
        return ""
    if not request.membership.allows(kind.required):
        return ""
    state = getattr(entry, "target_state", LIVE)  # orgs.activity.note_target_states
    if state == DELETED:
        return ""
    if state == ARCHIVED:
        # Its page answers 404: the Archive page, at its row (or at what it went with).
        if not entry.archive_anchor or not archive_page():
            return ""
        archive = reverse(archive_page(), kwargs={"org_slug": request.org.slug})
        return f"{archive}#{entry.archive_anchor}"
    url = reverse(
        kind.url_name, kwargs={"org_slug": request.org.slug, kind.url_kwarg: entry.target_id}
    )
    return f"{url}#{entry.anchor}" if entry.anchor else url


@register.filter
def activity_actor(entry: Activity) -> str:
    """Who to name for an entry: its actor, else who it says did it (a check-in made in
    Airtable: "Airtable"), else what its kind says (a sync: "Airtable")."""
    if entry.actor is not None:
        return entry.actor.get_username()
    if entry.actor_label:
        return entry.actor_label
    kind = target_kind(entry.target)
    return kind.unattended_actor if kind else "Someone"
