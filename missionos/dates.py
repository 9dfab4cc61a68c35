"""The dates MissionOS keeps: 1 January 1900 to 31 December 2199, one rule for every door.

Python's dates run from year 1 to 9999, but the pages do arithmetic on them (a day either side
of a chart's range, "a week before" an as-of day, time zone conversions, days overdue) that
overflows near both ends, and no plan of an organization is dated there: a year 1 or 9999 in a
plan is a typo (or a formula error in Airtable). So a date outside the range is refused where
it comes in, with a sentence that says why, and never stored:

- model fields a person or the sync fills carry `validate_kept_date` (forms built from them show
  the message beside the field; the services' `full_clean` refuses it too);
- the sync's cell conversion (`sync.values`) turns such a cell into a record issue, quoting the
  value, and keeps the rest of the record;
- the `as_of` query parameter (`okrs.views.params.past_date`) ignores it with a note.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2199, 12, 31)
RANGE_TEXT = "1 Jan 1900 to 31 Dec 2199"


def out_of_range(value: datetime.date | datetime.datetime) -> str | None:
    """Why a date (or the day of a date-time) is not one MissionOS keeps, or None if it is.
    A date-time is judged by its own calendar day, so no conversion can overflow first."""
    day = value.date() if isinstance(value, datetime.datetime) else value
    if EARLIEST <= day <= LATEST:
        return None
    return f"{day.isoformat()} is outside the dates MissionOS keeps ({RANGE_TEXT})"


def validate_kept_date(value: datetime.date | datetime.datetime | None) -> None:
    """The field validator: `out_of_range` as a ValidationError."""
    if value is None:
        return
    problem = out_of_range(value)
    if problem:
        raise ValidationError(f"{problem}.", code="date_out_of_range")
