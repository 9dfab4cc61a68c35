"""Which cycle a day falls in, and how much of it has gone."""

from __future__ import annotations

import datetime

from django.utils import timezone

from okrs import progress
from okrs.models import (
    Cycle,
)
from orgs.models import Organization


def current_cycle(
    *, organization: Organization, today: datetime.date | None = None
) -> Cycle | None:
    """The cycle containing today; else the latest one that has started; else the next one."""
    cycles = Cycle.objects.for_org(organization).order_by("-starts_on", "-pk")
    return cycle_on(list(cycles), today or timezone.localdate())


def cycle_elapsed(cycle: Cycle | None, today: datetime.date | None = None) -> float:
    if cycle is None:
        return 0.0
    return progress.elapsed_fraction(cycle.starts_on, cycle.ends_on, today or timezone.localdate())


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last moment of a day in the site's time zone: what "as of 3 Nov" includes."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def cycle_on(cycles: list[Cycle], day: datetime.date) -> Cycle | None:
    """`current_cycle`'s rule over the organization's cycles, newest first."""
    return (
        next((c for c in cycles if c.starts_on <= day <= c.ends_on), None)
        or next((c for c in cycles if c.starts_on <= day), None)
        or (cycles[-1] if cycles else None)
    )


def chosen_cycle(
    *, organization: Organization, cycle_id: int | None, today: datetime.date
) -> Cycle | None:
    """The cycle a page shows: the one asked for (Cycle.DoesNotExist when it is not this
    organization's), else the one on `today` (`cycle_on`). The dashboard, pathway and
    objective pages choose it alike, so a drill-down stays in the dashboard's cycle."""
    cycles = list(Cycle.objects.for_org(organization).order_by("-starts_on", "-pk"))
    if cycle_id is None:
        return cycle_on(cycles, today)
    cycle = next((c for c in cycles if c.pk == cycle_id), None)
    if cycle is None:
        raise Cycle.DoesNotExist
    return cycle
