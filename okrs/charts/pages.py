"""The charts of the objective, pathway and project pages, built from `okrs.history`.

Each turns a history series into an `okrs.charts.geometry.LineChart`, in the viewer's local
time over a sensible range, and returns None when there is no history to draw: the page then
shows an empty state. The queries are those of the `okrs.history` functions they call.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from django.utils import timezone

from okrs import history
from okrs.charts import geometry, palette
from okrs.history import Point
from okrs.models import Cycle, Objective, Pathway, Project
from okrs.selectors.cycles import end_of_day
from orgs.models import Organization


def objective_progress_chart(
    *, organization: Organization, objective: Objective, now: datetime.datetime | None = None
) -> geometry.LineChart | None:
    """The objective's progress over its cycle; None before its first check-in (a flat line
    at today's value would pretend to a history there is none of)."""
    now = now or timezone.now()
    histories = [history.objective_histories(organization=organization, objective=objective)]
    if not history.has_check_ins(histories):
        return None
    points = history.progress_series(histories, start=history.cycle_start(objective.cycle), now=now)
    return _progress_chart(
        points, cycle=objective.cycle, title="Objective progress over time", now=now
    )


def pathway_progress_chart(
    *,
    organization: Organization,
    pathway: Pathway,
    cycle: Cycle | None,
    now: datetime.datetime | None = None,
) -> geometry.LineChart | None:
    """The pathway's progress over the cycle; None before the first check-in."""
    now = now or timezone.now()
    histories = history.pathway_histories(organization=organization, pathway=pathway, cycle=cycle)
    if not history.has_check_ins(histories):
        return None
    points = history.progress_series(histories, start=history.cycle_start(cycle), now=now)
    title = f"Pathway progress in {cycle.name}" if cycle else "Pathway progress over time"
    return _progress_chart(points, cycle=cycle, title=title, now=now)


def dashboard_progress_chart(
    *,
    organization: Organization,
    pathways: Sequence[Pathway],
    cycle: Cycle | None,
    as_of: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> geometry.LineChart | None:
    """Each pathway's progress over the cycle, a line each, up to now or to the end of `as_of`
    (the day the dashboard is shown as of: nothing later is drawn, and the marker says so).
    None before the first check-in of any. One query, whatever the number of pathways and
    check-ins: the series are computed in the database (okrs.history.pathways_progress_series).
    """
    now = end_of_day(as_of) if as_of is not None else (now or timezone.now())
    by_pathway, any_check_ins = history.pathways_progress_series(
        organization=organization, cycle=cycle, start=history.cycle_start(cycle), now=now
    )
    if not any_check_ins:
        return None
    series = []
    all_points: list[Point] = []
    for index, pathway in enumerate(pathways):
        points = by_pathway.get(pathway.pk, [])
        if points:
            all_points.extend(points)
            series.append(
                # Told apart by colour (okrs.charts.palette), then by legend order.
                geometry.Series(pathway.name, _local(points), key=palette.pathway_key(index))
            )
    if not series:
        return None
    all_points.sort(key=lambda point: point[0])
    start_day, end_day = _chart_range(
        all_points,
        starts_on=cycle.starts_on if cycle else None,
        ends_on=cycle.ends_on if cycle else None,
        now=now,
    )
    title = f"Pathway progress in {cycle.name}" if cycle else "Pathway progress over time"
    chart = geometry.line_chart(
        series,
        start=start_day,
        end=end_day,
        today=timezone.localtime(now),
        title=title,
    )
    if as_of is not None and chart.today is not None:
        label = f"As of {geometry.date_label(as_of)}"
        chart = dataclasses.replace(chart, today=dataclasses.replace(chart.today, label=label))
    return chart


def project_burnup_chart(
    *, organization: Organization, project: Project, now: datetime.datetime | None = None
) -> geometry.LineChart | None:
    """Tasks in scope and done over the project's time; None when it has no tasks."""
    now = now or timezone.now()
    burnup = history.project_burnup(organization=organization, project=project, now=now)
    if burnup.is_empty:
        return None
    start, end = _chart_range(
        burnup.scope, starts_on=project.starts_on, ends_on=project.ends_on, now=now
    )
    return geometry.line_chart(
        [
            geometry.Series("Tasks in scope", _local(burnup.scope), key="scope"),
            geometry.Series("Tasks done", _local(burnup.done), key="done"),
        ],
        start=start,
        end=end,
        y_max=max(value for _, value in burnup.scope),
        y_format=geometry.YFormat.COUNT,
        today=timezone.localtime(now),
        title="Burn-up: tasks in scope and done",
    )


def _progress_chart(
    points: list[Point], *, cycle: Cycle | None, title: str, now: datetime.datetime
) -> geometry.LineChart | None:
    if not points:
        return None
    start, end = _chart_range(
        points,
        starts_on=cycle.starts_on if cycle else None,
        ends_on=cycle.ends_on if cycle else None,
        now=now,
    )
    return geometry.line_chart(
        [geometry.Series("Progress", _local(points), key="progress")],
        start=start,
        end=end,
        # The marker is at this moment, where the line's last point ("now") is drawn.
        today=timezone.localtime(now),
        title=title,
    )


def _local(points: Sequence[Point]) -> list[tuple[datetime.datetime, float]]:
    return [(timezone.localtime(moment), value) for moment, value in points]


def _chart_range(
    points: Sequence[Point],
    *,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    now: datetime.datetime,
) -> tuple[datetime.date, datetime.date]:
    """From the planned start (or the first point, if earlier) to the end of the planned last
    day or of today, whichever is later: a running cycle shows the time left, a finished one
    runs on to today. The end is the midnight after that day, so that "now" (late in the day)
    and check-ins on the last day are inside the range."""
    first = timezone.localdate(points[0][0])
    last = timezone.localdate(points[-1][0])
    today = timezone.localdate(now)
    start = min(first, starts_on or first)
    end = max(today, last, ends_on or today) + datetime.timedelta(days=1)
    return start, end
