"""When a check-in is due, pure: no ORM here, so it is tested without a database.

A key result's owner checks in on it at their cadence (orgs.models.CheckInCadence): weekly,
every two weeks, or monthly. A check-in is due once the cadence has passed since the day of
its latest check-in: a weekly key result checked in on a Tuesday is due again the next
Tuesday. Monthly means the same day of the next month, or that month's last day when it is
shorter (checked in on 31 January: due on 28 or 29 February). A key result never checked in
is due.
"""

from __future__ import annotations

import calendar
import datetime

WEEKLY, FORTNIGHTLY, MONTHLY = "weekly", "fortnightly", "monthly"
DAYS = {WEEKLY: 7, FORTNIGHTLY: 14}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clamped to the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def next_due(last: datetime.date, cadence: str) -> datetime.date:
    """The day a check-in falls due again after one on `last` (an unknown cadence: weekly)."""
    if cadence == MONTHLY:
        return add_months(last, 1)
    return last + datetime.timedelta(days=DAYS.get(cadence, DAYS[WEEKLY]))


def is_due(last: datetime.date | None, cadence: str, today: datetime.date) -> bool:
    return last is None or today >= next_due(last, cadence)


def week_of(day: datetime.date) -> datetime.date:
    """The Monday starting `day`'s week: what a weekly email is sent once for."""
    return day - datetime.timedelta(days=day.weekday())
