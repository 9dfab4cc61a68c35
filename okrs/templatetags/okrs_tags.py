from __future__ import annotations

from decimal import Decimal

from django import template

from missionos import events
from okrs import formatting

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
    """A value with its unit, when the key result is not at hand (okrs.formatting): prefer
    `kr_value`, which also knows yes/no and milestones."""
    return formatting.value_text(value, unit=unit)


@register.filter
def kr_value(value, key_result) -> str:
    """A value of a key result as it reads everywhere (okrs.formatting): "Done" / "Not yet"
    for yes/no, whole counts ("5 clinics"), "42.5%"."""
    return formatting.key_result_value_text(value, key_result)


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


@register.filter
def checked_in_by(check_in) -> str:
    """Who recorded a check-in, or where it came from: every check-in says one of them."""
    author = check_in.author
    if author is not None:
        return author.get_full_name() or author.get_username()
    if check_in.source_record_id:
        return "from Airtable"
    return "author not recorded"


@register.filter
def comments_event(objective_id: int) -> str:
    """The live event an objective's page listens to for its comments (missionos.events)."""
    return events.comments_event(objective_id)
