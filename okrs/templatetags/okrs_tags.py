from __future__ import annotations

from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.formats import number_format

from orgs.models import Activity, ActivityTarget, Role

register = template.Library()


@register.filter
def percent(fraction: float | None) -> str:
    """0.426 -> "43%"; no progress -> an en dash."""
    if fraction is None:
        return "–"
    return f"{round(fraction * 100)}%"


@register.filter
def percent_number(fraction: float | None) -> int:
    """For widths and <progress> values: 0.426 -> 43; no progress -> 0."""
    return 0 if fraction is None else max(0, min(100, round(fraction * 100)))


@register.filter
def metric(value: Decimal | None, unit: str = "") -> str:
    """A metric value without trailing zeros: Decimal("42.5000") -> "42.5"."""
    if value is None:
        return "–"
    text = number_format(
        value.normalize() if isinstance(value, Decimal) else value, force_grouping=True
    )
    if unit in ("%", "percent"):
        return f"{text}%"
    return f"{text} {unit}".strip()


@register.filter
def trend(change: float | None) -> str:
    """A change in progress, in percentage points: 0.062 -> "▲ 6 pts", -0.01 -> "▼ 1 pt"."""
    if change is None:
        return ""
    points = round(change * 100)
    if points == 0:
        return "no change"
    arrow = "▲" if points > 0 else "▼"
    return f"{arrow} {abs(points)} pt{'s' if abs(points) != 1 else ''}"


_ACTIVITY_PAGES = {
    ActivityTarget.PATHWAY: ("pathway_detail", "pathway_id"),
    ActivityTarget.OBJECTIVE: ("objective_detail", "objective_id"),
    ActivityTarget.PROJECT: ("project_detail", "project_id"),
    ActivityTarget.PERSON: ("person_edit", "person_id"),
    ActivityTarget.SYNC_RUN: ("sync_run", "run_id"),
}
# Pages only admins may open: other members see the entry without a link.
_ADMIN_PAGES = {ActivityTarget.PERSON, ActivityTarget.SYNC_RUN}


@register.simple_tag
def activity_link(entry: Activity, request) -> str:
    """Where an activity entry leads, for this member; "" when nowhere (a cycle, a task with no
    project, an admin page for a member)."""
    page = _ACTIVITY_PAGES.get(entry.target)
    if page is None or entry.target_id is None:
        return ""
    if entry.target in _ADMIN_PAGES and not request.membership.allows(Role.ADMIN):
        return ""
    name, kwarg = page
    url = reverse(name, kwargs={"org_slug": request.org.slug, kwarg: entry.target_id})
    return f"{url}#{entry.anchor}" if entry.anchor else url
