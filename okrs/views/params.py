"""Reading the query parameters the pages share: ids and a past day to show the plan as of.
Bad input is never an error page: an id that is not a number is no id, and a date that is not a
date (or has not happened yet, or is outside the dates MissionOS keeps: missionos.dates) is
refused with a sentence the page shows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from missionos import dates
from missionos.forms import row_id

# An id, or None for one that names no row (missionos.forms.row_id).
int_or_none = row_id


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
