"""Reading the query parameters the pages share: ids and a past day to show the plan as of.
Bad input is never an error page: an id that is not a number is no id, and a date that is not a
date (or has not happened yet, or is outside the dates MissionOS keeps: missionos.dates) is
refused with a sentence the page shows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode

from missionos import dates
from missionos.forms import row_id

# An id, or None for one that names no row (missionos.forms.row_id).
int_or_none = row_id


def day_or_none(value: str | None) -> datetime.date | None:
    """A day (YYYY-MM-DD) MissionOS keeps, or None for anything else (no sentence: a list's
    "from" filter that names no day is no filter)."""
    try:
        day = datetime.date.fromisoformat(value or "")
    except ValueError:
        return None
    return None if dates.out_of_range(day) else day


def past_date(value: str | None) -> tuple[datetime.date | None, str]:
    """A day to show the dashboard as of: (the day, "") or (None, why it was refused)."""
    if not value:
        return None, ""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None, f"“{value[:40]}” is not a date (use YYYY-MM-DD); showing today instead."
    if dates.out_of_range(day):
        return None, (
            f"{day:%-d %b} {day.year} is outside the dates MissionOS keeps"
            f" ({dates.RANGE_TEXT}); showing today instead."
        )
    today = timezone.localdate()
    if day > today:
        return None, f"{day:%-d %b %Y} has not happened yet; showing today instead."
    return (day, "") if day < today else (None, "")  # today is the live dashboard


@dataclass(frozen=True)
class PlanView:
    """Which plan a page shows: a cycle (None: the one on the day) and a past day (None: now),
    as the dashboard's `?cycle=ID&as_of=YYYY-MM-DD` say. The pathway and objective pages take
    the same two, and every link between these pages carries `query` so a drill-down stays in
    the dashboard's cycle and day."""

    cycle_id: int | None
    as_of: datetime.date | None
    as_of_problem: str
    query: str  # "cycle=3&as_of=2026-11-03", or ""

    @property
    def suffix(self) -> str:
        """`query` ready to append to a link: "?cycle=3", or ""."""
        return f"?{self.query}" if self.query else ""


def plan_view(params) -> PlanView:
    """The cycle and day of `params` (request.GET). A cycle that is not a number is no page:
    Http404."""
    as_of, as_of_problem = past_date(params.get("as_of"))
    raw_cycle = params.get("cycle") or None
    cycle_id = int_or_none(raw_cycle)
    if raw_cycle is not None and cycle_id is None:
        raise Http404("No such cycle.")
    query = {
        key: value
        for key, value in (("cycle", cycle_id), ("as_of", as_of and as_of.isoformat()))
        if value
    }
    return PlanView(cycle_id, as_of, as_of_problem, urlencode(query))
