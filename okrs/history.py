"""Progress and task history, rebuilt from what is stored: check-ins and task timestamps.

Nothing stores an objective's or a pathway's progress over time, so it is recomputed: at any
moment, each key result stands at its latest live check-in by then, and the rules of
`okrs.progress` (not re-implemented here) roll those values up the same way the live figures
are. Each function reads a fixed number of queries whatever the size of the data (one for the
key results, one for their check-ins; one for a project's tasks) and does the rest in Python.

A key result's value at a moment:
- its latest live check-in at or before that moment;
- if it has check-ins but none by then, its start value (it had not moved yet);
- if it has no check-ins at all, its current value: there is no history to go on (typically a
  key result whose value is synced from Airtable without check-ins, or edited by hand).

The charts drawn from these series are built in `okrs.charts.pages`.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

from django.db.models import QuerySet
from django.utils import timezone

from okrs import progress
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import Organization
from orgs.tenancy import live_q

Point = tuple[datetime.datetime, float]


@dataclass(frozen=True)
class KeyResultHistory:
    """What the history of one key result needs: its values and its live check-ins."""

    start_value: Decimal
    current_value: Decimal
    target_value: Decimal
    weight: Decimal
    # (checked_in_at, value), oldest first.
    check_ins: Sequence[tuple[datetime.datetime, Decimal]] = field(default_factory=tuple)

    def value_at(self, moment: datetime.datetime) -> Decimal:
        if not self.check_ins:
            return self.current_value
        index = bisect_right(self.check_ins, moment, key=itemgetter(0))
        return self.check_ins[index - 1][1] if index else self.start_value

    def started_at(self, moment: datetime.datetime) -> bool:
        """Whether it has a value at `moment` (`okrs.progress`: "not started" until then)."""
        if not self.check_ins:
            return self.current_value != self.start_value
        return self.check_ins[0][0] <= moment

    def progress_at(self, moment: datetime.datetime) -> float | None:
        return progress.key_result_progress(
            self.start_value, self.value_at(moment), self.target_value
        )


def objective_progress_at(
    key_results: Iterable[KeyResultHistory], moment: datetime.datetime
) -> float | None:
    """An objective's progress at `moment`: the weighted mean of its key results'. Its own
    chart starts from where it stood (0% before its first check-in)."""
    return progress.weighted_mean((kr.progress_at(moment), kr.weight) for kr in key_results)


def started_objective_progress_at(
    key_results: Iterable[KeyResultHistory], moment: datetime.datetime
) -> float | None:
    """An objective's progress at `moment` as its pathway counts it: None until one of its key
    results has a value (not started), as the live figure (`okrs.rollups`)."""
    return progress.objective_progress(
        (kr.progress_at(moment), kr.weight, kr.started_at(moment)) for kr in key_results
    )


def pathway_progress_at(
    objectives: Iterable[Sequence[KeyResultHistory]], moment: datetime.datetime
) -> float | None:
    """A pathway's progress at `moment`: the mean of its objectives' that have one (an
    objective not started by then is left out). With one objective (the objective's own
    series), that objective's progress."""
    objectives = list(objectives)
    if len(objectives) == 1:
        return objective_progress_at(objectives[0], moment)
    return progress.mean(started_objective_progress_at(krs, moment) for krs in objectives)


def progress_series(
    objectives: Sequence[Sequence[KeyResultHistory]],
    *,
    start: datetime.datetime | None,
    now: datetime.datetime,
) -> list[Point]:
    """The mean progress of `objectives` at `start`, at every check-in after it, and at `now`.

    An objective's series is this with one objective (the mean of one value is that value).
    Moments where nothing has progress are left out. Check-ins before `start` count through
    the start point's value; check-ins after `now` (a clock ahead in Airtable) are not history.
    """
    if start is not None and start > now:
        start = None  # a cycle that has not begun: its history so far is all there is
    moments = {
        at
        for key_results in objectives
        for key_result in key_results
        for at, _ in key_result.check_ins
        if (start is None or at > start) and at <= now
    }
    moments.add(now)
    if start is not None:
        moments.add(start)
    points = []
    for moment in sorted(moments):
        value = pathway_progress_at(objectives, moment)
        if value is not None:
            points.append((moment, value))
    return points


def _histories(
    *, organization: Organization, key_results: QuerySet[KeyResult]
) -> dict[int, list[KeyResultHistory]]:
    """Histories of `key_results` grouped by objective: two queries, whatever their number."""
    check_ins: dict[int, list[tuple[datetime.datetime, Decimal]]] = defaultdict(list)
    rows = (
        CheckIn.objects.for_org(organization)
        .filter(key_result__in=key_results.order_by().values("pk"))
        .order_by("checked_in_at", "pk")
        .values_list("key_result_id", "checked_in_at", "value")
    )
    for key_result_id, checked_in_at, value in rows:
        check_ins[key_result_id].append((checked_in_at, value))
    by_objective: dict[int, list[KeyResultHistory]] = defaultdict(list)
    # Ordered by id only: the model's default order joins the objective and its pathway.
    for pk, objective_id, start, current, target, weight in key_results.order_by("pk").values_list(
        "pk", "objective_id", "start_value", "current_value", "target_value", "weight"
    ):
        by_objective[objective_id].append(
            KeyResultHistory(start, current, target, weight, tuple(check_ins.get(pk, ())))
        )
    return by_objective


def _midnight(day: datetime.date) -> datetime.datetime:
    """The start of `day` in the current time zone (where the organization reads its dates)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def cycle_start(cycle: Cycle | None) -> datetime.datetime | None:
    """Where a cycle's series begins: the midnight that starts its first day."""
    return _midnight(cycle.starts_on) if cycle is not None else None


def has_check_ins(objectives: Iterable[Sequence[KeyResultHistory]]) -> bool:
    """Whether any key result of `objectives` has a live check-in: without one there is no
    history, only today's value."""
    return any(kr.check_ins for krs in objectives for kr in krs)


def objective_histories(
    *, organization: Organization, objective: Objective
) -> list[KeyResultHistory]:
    """The histories of the objective's live key results. Two queries."""
    key_results = KeyResult.objects.for_org(organization).filter(objective=objective)
    return _histories(organization=organization, key_results=key_results).get(objective.pk, [])


def pathway_histories(
    *, organization: Organization, pathway: Pathway, cycle: Cycle | None
) -> list[list[KeyResultHistory]]:
    """The histories of the pathway's live key results, one list per objective. Two queries."""
    # The same objectives as the pathway's live figure (okrs.rollups.pathway_progress): live
    # ones, of the cycle when there is one. Objectives without key results have no progress
    # and are left out of the mean either way, so only key results need reading.
    key_results = KeyResult.objects.for_org(organization).filter(
        live_q("objective"), objective__pathway=pathway
    )
    if cycle is not None:
        key_results = key_results.filter(objective__cycle=cycle)
    return list(_histories(organization=organization, key_results=key_results).values())


def pathways_histories(
    *, organization: Organization, cycle: Cycle | None
) -> dict[int, list[list[KeyResultHistory]]]:
    """The histories of every pathway's live key results (of `cycle`, when there is one), by
    pathway id, one list per objective: what `pathway_histories` gives for one pathway, for all
    of them in two queries (the dashboard's chart)."""
    key_results = KeyResult.objects.for_org(organization).filter(
        objective__pathway__isnull=False, objective__archived_at__isnull=True
    )
    if cycle is not None:
        key_results = key_results.filter(objective__cycle=cycle)
    check_ins: dict[int, list[tuple[datetime.datetime, Decimal]]] = defaultdict(list)
    rows = (
        CheckIn.objects.for_org(organization)
        .filter(key_result__in=key_results.order_by().values("pk"))
        .order_by("checked_in_at", "pk")
        .values_list("key_result_id", "checked_in_at", "value")
    )
    for key_result_id, checked_in_at, value in rows:
        check_ins[key_result_id].append((checked_in_at, value))
    by_pathway: dict[int, dict[int, list[KeyResultHistory]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for pk, pathway_id, objective_id, start, current, target, weight in key_results.order_by(
        "pk"
    ).values_list(
        "pk",
        "objective__pathway_id",
        "objective_id",
        "start_value",
        "current_value",
        "target_value",
        "weight",
    ):
        by_pathway[pathway_id][objective_id].append(
            KeyResultHistory(start, current, target, weight, tuple(check_ins.get(pk, ())))
        )
    return {pathway_id: list(objectives.values()) for pathway_id, objectives in by_pathway.items()}


def objective_progress_series(
    *, organization: Organization, objective: Objective, now: datetime.datetime | None = None
) -> list[Point]:
    """The objective's progress at its cycle's start (if known), at each check-in of any of its
    key results since, and now. Two queries (three if `objective.cycle` is not loaded)."""
    return progress_series(
        [objective_histories(organization=organization, objective=objective)],
        start=cycle_start(objective.cycle),
        now=now or timezone.now(),
    )


def pathway_progress_series(
    *,
    organization: Organization,
    pathway: Pathway,
    cycle: Cycle | None,
    now: datetime.datetime | None = None,
) -> list[Point]:
    """The pathway's progress (its objectives of `cycle`) at the cycle's start, at each
    check-in since and now. Two queries."""
    return progress_series(
        pathway_histories(organization=organization, pathway=pathway, cycle=cycle),
        start=cycle_start(cycle),
        now=now or timezone.now(),
    )


@dataclass(frozen=True)
class BurnUp:
    """A project's tasks over time: how many existed (scope) and how many were done."""

    scope: list[Point]
    done: list[Point]

    @property
    def is_empty(self) -> bool:
        return not self.scope


def project_burnup(
    *, organization: Organization, project: Project, now: datetime.datetime | None = None
) -> BurnUp:
    """Scope and done counts of the project's live tasks at its start (if known), whenever a
    task was added or completed, and now. One query.

    Scope counts a task from when it was created; done counts it from its completion time
    (`completed_at`, kept by the services as the status changes). A task reopened since is not
    done: its completion time is cleared, and nothing keeps the earlier one.
    """
    now = now or timezone.now()
    rows = list(
        Task.objects.for_org(organization)
        .filter(project=project)
        .values_list("created_at", "completed_at")
    )
    if not rows:
        return BurnUp(scope=[], done=[])
    # A synced task's row is created when it is first pulled, possibly after it was completed in
    # Airtable: it existed at least since it was done. Times past `now` (a clock ahead) count now.
    created = sorted(
        min(created_at, completed_at or created_at, now) for created_at, completed_at in rows
    )
    completed = sorted(min(completed_at, now) for _, completed_at in rows if completed_at)
    moments = {*created, *completed, now}
    if project.starts_on is not None:
        starts = _midnight(project.starts_on)
        if starts < created[0]:
            moments.add(starts)
    ordered = sorted(moments)
    return BurnUp(
        scope=[(moment, float(bisect_right(created, moment))) for moment in ordered],
        done=[(moment, float(bisect_right(completed, moment))) for moment in ordered],
    )
