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

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
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


# What the chart reads of each key result, in this order (both ways of computing it).
_CHART_KEY_RESULT_FIELDS = (
    "pk",
    "objective__pathway_id",
    "objective_id",
    "start_value",
    "current_value",
    "target_value",
    "weight",
)


def _chart_key_results(*, organization: Organization, cycle: Cycle | None) -> QuerySet:
    """The key results the dashboard's chart counts: live objectives' with a pathway, of
    `cycle` when there is one."""
    key_results = KeyResult.objects.for_org(organization).filter(
        objective__pathway__isnull=False, objective__archived_at__isnull=True
    )
    return key_results if cycle is None else key_results.filter(objective__cycle=cycle)


def pathways_histories(
    *, organization: Organization, cycle: Cycle | None
) -> dict[int, list[list[KeyResultHistory]]]:
    """The histories of every pathway's live key results (of `cycle`, when there is one), by
    pathway id, one list per objective: what `pathway_histories` gives for one pathway, for all
    of them in two queries (the dashboard's chart)."""
    key_results = _chart_key_results(organization=organization, cycle=cycle)
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
    ).values_list(*_CHART_KEY_RESULT_FIELDS):
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


def _progress_sql(value: str) -> str:
    """`okrs.progress.key_result_progress` of `value` for a row of `counted` (start differs
    from target), in SQL: the span in floats, clamped to [0, 1]."""
    fraction = f"(({value}) - counted.s) / (counted.t - counted.s)"
    return f"(CASE WHEN {fraction} < 0 THEN 0.0 WHEN {fraction} > 1 THEN 1.0 ELSE {fraction} END)"


def pathways_progress_series(
    *,
    organization: Organization,
    cycle: Cycle | None,
    start: datetime.datetime | None,
    now: datetime.datetime,
) -> tuple[dict[int, list[Point]], bool]:
    """What `progress_series(pathways_histories(...)[pathway], start=..., now=...)` gives for
    every pathway, computed in the database in one query, and whether any of their key results
    has a live check-in (`has_check_ins`). The same points: the start, every check-in moment
    after it up to `now`, and `now`, each with the pathway's progress then.

    Why not in Python: replaying every check-in of the cycle (50,634 at 100x the demo) costs
    reading them all, then every moment times every key result. Here each check-in is an
    event that moves its objective's weighted sum (window functions over the check-ins of a
    key result, then of an objective); each objective's change moves its pathway's sum and
    count of started objectives; a pathway's value at a moment is the running sum over its
    events up to it. Only the points travel back. Sums of changes rather than means computed
    afresh: values agree with the replay to float rounding (tests/okrs/test_history.py
    compares the two)."""
    if start is not None and start > now:
        start = None  # as progress_series: a cycle that has not begun
    key_results = _chart_key_results(organization=organization, cycle=cycle)
    kr_sql, kr_params = (
        key_results.order_by().values_list(*_CHART_KEY_RESULT_FIELDS).query.sql_with_params()
    )
    check_ins = CheckIn.objects.for_org(organization)
    if start is not None:
        # Before the start only each key result's latest check-in counts (the chart starts
        # from where it stood): the rest would only add changes that cancel out.
        latest_before = (
            CheckIn.objects.for_org(organization)
            .filter(key_result=OuterRef("pk"), checked_in_at__lte=start)
            .order_by("-checked_in_at", "-pk")
            .values("pk")[:1]
        )
        check_ins = check_ins.filter(
            Q(checked_in_at__gt=start)
            | Q(
                pk__in=key_results.order_by()
                .annotate(latest=Subquery(latest_before))
                .values("latest")
            )
        )
    all_sql, all_params = (
        CheckIn.objects.for_org(organization)
        .order_by()
        .values_list("key_result_id")
        .query.sql_with_params()
    )
    ci_sql, ci_params = (
        # Column names for the SQL below (id, key_result_id, at, v).
        check_ins.order_by()
        .annotate(at=F("checked_in_at"), v=F("value"))
        .values_list("id", "key_result_id", "at", "v")
        .query.sql_with_params()
    )
    ops = connection.ops
    moment = "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"
    now_param = ops.adapt_datetimefield_value(now)
    start_param = ops.adapt_datetimefield_value(start) if start is not None else None
    real = "DOUBLE PRECISION"
    is_moment = "CASE WHEN at > %s THEN 1 ELSE 0 END" if start is not None else "1"
    start_row = (
        f"UNION ALL SELECT pathway_id, {moment}, 0.0, 0, 0.0, 1 FROM pathway_base"
        if start is not None
        else ""
    )
    sql = f"""
WITH kr(id, pathway_id, objective_id, s, c, t, w) AS ({kr_sql}),
counted AS (
  -- Every key result of the chart, as floats, whether it counts in its objective's mean
  -- (a weight, a target that differs from the start) and whether it has check-ins at all
  -- (later than now too: until its first, it stands at its start value).
  SELECT kr.id, kr.pathway_id, kr.objective_id,
    CAST(kr.s AS {real}) AS s, CAST(kr.c AS {real}) AS c, CAST(kr.t AS {real}) AS t,
    CAST(kr.w AS {real}) AS w,
    CASE WHEN kr.w > 0 AND kr.t <> kr.s THEN 1 ELSE 0 END AS counts,
    -- A probe of the key result's check-ins by index (LIMIT 1): as EXISTS, Postgres hashed
    -- every check-in of the organization first (25 ms of the chart's 150 at 100x).
    CASE WHEN (SELECT 1 FROM ({all_sql}) any_ci WHERE any_ci.key_result_id = kr.id LIMIT 1)
      IS NOT NULL THEN 1 ELSE 0 END AS has_check_ins
  FROM kr
),
kr_events AS (
  -- Each check-in up to now: for a key result that counts, the change of its weighted
  -- progress (from 0, the start value, for its first) and whether it is its first (the key
  -- result starts); for the others, only the moment (a point of the chart).
  SELECT pathway_id, objective_id, at,
    CASE WHEN counts = 1 THEN weighted - COALESCE(LAG(weighted) OVER key_result, 0.0)
      ELSE 0.0 END AS d_sum,
    CASE WHEN counts = 1 AND ROW_NUMBER() OVER key_result = 1 THEN 1 ELSE 0 END AS d_started
  FROM (
    SELECT id, key_result_id, at, pathway_id, objective_id, counts,
      w * CASE WHEN fraction < 0 THEN 0.0 WHEN fraction > 1 THEN 1.0 ELSE fraction END
        AS weighted
    FROM (
      SELECT ci.id, ci.key_result_id, ci.at, counted.pathway_id, counted.objective_id,
        counted.counts, counted.w,
        (CAST(ci.v AS {real}) - counted.s) / NULLIF(counted.t - counted.s, 0) AS fraction
      FROM ({ci_sql}) ci JOIN counted ON counted.id = ci.key_result_id
      WHERE ci.at <= {moment}
    ) fractions
  ) check_ins
  WINDOW key_result AS (PARTITION BY key_result_id ORDER BY at, id)
),
objective_base AS (
  -- Each objective before any check-in: key results without check-ins at their current
  -- value (started if it differs from the start), the others at their start.
  SELECT counted.objective_id, MIN(counted.pathway_id) AS pathway_id,
    SUM(CASE WHEN counted.counts = 1 THEN counted.w ELSE 0.0 END) AS weights,
    SUM(CASE WHEN counted.counts = 1 AND counted.has_check_ins = 0
      THEN counted.w * {_progress_sql("counted.c")} ELSE 0.0 END) AS weighted,
    SUM(CASE WHEN counted.counts = 1 AND counted.has_check_ins = 0 AND counted.c <> counted.s
      THEN 1 ELSE 0 END) AS started
  FROM counted GROUP BY counted.objective_id
),
objective_states AS (
  SELECT objective_base.pathway_id, e.objective_id, e.at, objective_base.weights,
    objective_base.weighted + SUM(e.d_sum) OVER objective AS weighted,
    objective_base.started + SUM(e.d_started) OVER objective AS started,
    objective_base.weighted AS weighted_0, objective_base.started AS started_0
  FROM (
    SELECT objective_id, at, SUM(d_sum) AS d_sum, SUM(d_started) AS d_started
    FROM kr_events GROUP BY objective_id, at
  ) e JOIN objective_base ON objective_base.objective_id = e.objective_id
  WINDOW objective AS (PARTITION BY e.objective_id ORDER BY e.at ROWS UNBOUNDED PRECEDING)
),
objective_values AS (
  -- The objective's progress as its pathway counts it (0 and not counted until started),
  -- and as its own (the pathway's value when it is the pathway's only objective); NULL for
  -- an objective none of whose key results counts.
  SELECT pathway_id, objective_id, at,
    CASE WHEN weights > 0 AND started > 0 THEN weighted / weights ELSE 0.0 END AS mean,
    CASE WHEN weights > 0 AND started > 0 THEN 1 ELSE 0 END AS is_started,
    CASE WHEN weights > 0 THEN weighted / weights END AS own,
    CASE WHEN weights > 0 AND started_0 > 0 THEN weighted_0 / weights ELSE 0.0 END AS mean_0,
    CASE WHEN weights > 0 AND started_0 > 0 THEN 1 ELSE 0 END AS is_started_0,
    CASE WHEN weights > 0 THEN weighted_0 / weights END AS own_0
  FROM objective_states
),
pathway_base AS (
  SELECT pathway_id, COUNT(*) AS objectives,
    SUM(CASE WHEN weights > 0 AND started > 0 THEN weighted / weights ELSE 0.0 END) AS means,
    SUM(CASE WHEN weights > 0 AND started > 0 THEN 1 ELSE 0 END) AS started,
    SUM(CASE WHEN weights > 0 THEN weighted / weights END) AS own
  FROM objective_base GROUP BY pathway_id
),
timeline AS (
  -- Every check-in moment (after the start) with the changes it brings, the start, now.
  SELECT pathway_id, at,
    mean - LAG(mean, 1, mean_0) OVER objective AS d_means,
    is_started - LAG(is_started, 1, is_started_0) OVER objective AS d_started,
    COALESCE(own - LAG(own, 1, own_0) OVER objective, 0.0) AS d_own,
    {is_moment} AS is_moment
  FROM objective_values
  WINDOW objective AS (PARTITION BY objective_id ORDER BY at)
  UNION ALL SELECT pathway_id, {moment}, 0.0, 0, 0.0, 1 FROM pathway_base
  {start_row}
),
moments AS (
  SELECT pathway_id, at, SUM(d_means) AS d_means, SUM(d_started) AS d_started,
    SUM(d_own) AS d_own, MAX(is_moment) AS is_moment
  FROM timeline GROUP BY pathway_id, at
),
states AS (
  SELECT m.pathway_id, m.at, m.is_moment, pathway_base.objectives,
    pathway_base.means + SUM(m.d_means) OVER pathway AS means,
    pathway_base.started + SUM(m.d_started) OVER pathway AS started,
    pathway_base.own + SUM(m.d_own) OVER pathway AS own
  FROM moments m JOIN pathway_base ON pathway_base.pathway_id = m.pathway_id
  WINDOW pathway AS (PARTITION BY m.pathway_id ORDER BY m.at ROWS UNBOUNDED PRECEDING)
)
SELECT pathway_id, at,
  CASE WHEN objectives = 1 THEN own
    WHEN started > 0 THEN means / CAST(started AS {real}) END AS progress,
  CASE WHEN EXISTS (SELECT 1 FROM counted WHERE has_check_ins = 1) THEN 1 ELSE 0 END
    AS any_check_ins
FROM states WHERE is_moment = 1 ORDER BY pathway_id, at
"""
    params = [
        *kr_params,
        *all_params,
        *ci_params,
        now_param,
        *([start_param] if start is not None else []),
        now_param,
        *([start_param] if start is not None else []),
    ]
    by_pathway: dict[int, list[Point]] = defaultdict(list)
    any_check_ins = False
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pathway_id, at, value, has_any in cursor.fetchall():
            any_check_ins = any_check_ins or bool(has_any)
            if value is not None:
                by_pathway[pathway_id].append((_aware(at), float(value)))
    return dict(by_pathway), any_check_ins


def _aware(value) -> datetime.datetime:
    """A moment as the database hands it back in raw SQL: SQLite gives text in UTC."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value
