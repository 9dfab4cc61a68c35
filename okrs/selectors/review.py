"""The end-of-cycle review: each objective's final score, what its key results moved over the
cycle, its closing note, and what can be carried over into the next cycle.

The figures are rebuilt from check-ins (okrs.history) at the end of the cycle's last day, or
now while the cycle is still running: the same rules as the live figures, at another moment.
A fixed number of queries, whatever the number of objectives and key results.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from okrs import history, progress
from okrs.models import CheckIn, Cycle, KeyResult, Objective, ObjectiveReview
from okrs.selectors.cycles import end_of_day
from orgs.models import Organization

DONE = 1.0


@dataclass
class KeyResultMove:
    """A key result's value at the cycle's start and at its end (its final score)."""

    key_result: KeyResult
    start: Decimal
    end: Decimal
    score: float | None
    checked_in: bool  # whether its history has any check-in (else both are today's value)

    @property
    def moved(self) -> bool:
        return self.start != self.end

    @property
    def unfinished(self) -> bool:
        """Worth carrying over: not reached at the end, nor since (its value now)."""
        kr = self.key_result
        now = progress.key_result_progress(kr.start_value, kr.current_value, kr.target_value)
        return (self.score is None or self.score < DONE) and (now is None or now < DONE)


@dataclass
class ObjectiveScore:
    objective: Objective
    score: float | None
    moves: list[KeyResultMove] = field(default_factory=list)
    # Its copy in a later cycle, if carried over (the live one first; `.cycle` loaded).
    carried_over_to: Objective | None = None

    @property
    def unfinished(self) -> bool:
        return self.score is None or self.score < DONE


@dataclass
class CycleReview:
    cycle: Cycle
    scores: list[ObjectiveScore]
    as_of: datetime.datetime
    ended: bool
    next_cycle: Cycle | None
    later_cycles: list[Cycle]

    @property
    def unfinished(self) -> list[ObjectiveScore]:
        return [score for score in self.scores if score.unfinished]

    @property
    def carried(self) -> list[ObjectiveScore]:
        """Unfinished and carried over already: shown with their copy, not offered."""
        return [s for s in self.unfinished if s.carried_over_to is not None]

    @property
    def carryable(self) -> list[ObjectiveScore]:
        """Unfinished and not yet carried over (into any cycle): what the form offers."""
        return [s for s in self.unfinished if s.carried_over_to is None]


@dataclass
class ObjectiveReviewPage:
    score: ObjectiveScore
    cycle: Cycle | None
    as_of: datetime.datetime
    ended: bool
    review: ObjectiveReview | None
    next_cycle: Cycle | None


def review_moment(cycle: Cycle | None, now: datetime.datetime) -> tuple[datetime.datetime, bool]:
    """The moment the review is read at, and whether the cycle has ended by now."""
    if cycle is None:
        return now, False
    end = end_of_day(cycle.ends_on)
    return min(end, now), now >= end


def cycle_after(cycle: Cycle) -> dict:
    """What a form proposes for the cycle after `cycle`: starting the next day, as long as it.
    A proposal only: the person creating it sees the dates and changes or confirms them."""
    starts_on = cycle.ends_on + datetime.timedelta(days=1)
    return {
        "name": f"After {cycle.name}"[:80],
        "starts_on": starts_on,
        "ends_on": starts_on + (cycle.ends_on - cycle.starts_on),
    }


def later_cycles(*, organization: Organization, cycle: Cycle) -> list[Cycle]:
    """The organization's cycles starting after `cycle` does, soonest first."""
    return list(
        Cycle.objects.for_org(organization)
        .filter(starts_on__gt=cycle.starts_on)
        .order_by("starts_on", "pk")
    )


def _scores(
    *,
    organization: Organization,
    objectives: list[Objective],
    as_of: datetime.datetime,
    start: datetime.datetime | None,
) -> list[ObjectiveScore]:
    """Three queries: key results, their check-ins, and the copies carried over."""
    key_results = list(
        KeyResult.objects.for_org(organization)
        .filter(objective__in=[o.pk for o in objectives])
        .select_related("owner")
        .order_by("pk")
    )
    check_ins: dict[int, list] = {}
    for kr_id, moment, value in (
        CheckIn.objects.for_org(organization)
        .filter(key_result__in=[kr.pk for kr in key_results])
        .order_by("checked_in_at", "pk")
        .values_list("key_result_id", "checked_in_at", "value")
    ):
        check_ins.setdefault(kr_id, []).append((moment, value))
    copies = carried_copies(organization=organization, objectives=objectives)
    by_objective: dict[int, list[KeyResultMove]] = {}
    histories: dict[int, list[history.KeyResultHistory]] = {}
    for kr in key_results:
        kept = history.KeyResultHistory(
            kr.start_value,
            kr.current_value,
            kr.target_value,
            kr.weight,
            tuple(check_ins.get(kr.pk, ())),
        )
        histories.setdefault(kr.objective_id, []).append(kept)
        # Where it stood as the cycle began: its latest check-in before, else its start value
        # (or, with no check-in at all, its value now: there is no history to go on).
        if start is not None:
            start_value = kept.value_at(start - datetime.timedelta(microseconds=1))
        else:
            start_value = kr.start_value if kept.check_ins else kr.current_value
        by_objective.setdefault(kr.objective_id, []).append(
            KeyResultMove(
                key_result=kr,
                start=start_value,
                end=kept.value_at(as_of),
                score=kept.progress_at(as_of),
                checked_in=bool(kept.check_ins),
            )
        )
    return [
        ObjectiveScore(
            objective=objective,
            score=history.objective_progress_at(histories.get(objective.pk, []), as_of),
            moves=by_objective.get(objective.pk, []),
            carried_over_to=copies.get(objective.pk),
        )
        for objective in objectives
    ]


def carried_copies(
    *, organization: Organization, objectives: list[Objective]
) -> dict[int, Objective]:
    """objective id -> its copy carried over into another cycle, whichever cycle it went to
    (not only the next one), archived copies too (restoring one would make a duplicate); a
    live copy before an archived one. One query; each copy's `cycle` loaded."""
    copies: dict[int, Objective] = {}
    if not objectives:
        return copies
    rows = (
        Objective.objects.for_org(organization, include_archived=True)
        .filter(carried_over_from__in=[o.pk for o in objectives])
        .select_related("cycle")
        .order_by(F("archived_at").asc(nulls_first=True), "cycle__starts_on", "pk")
    )
    for copy in rows:
        copies.setdefault(copy.carried_over_from_id, copy)
    return copies


def cycle_review(
    *, organization: Organization, cycle_id: int, now: datetime.datetime | None = None
) -> CycleReview:
    """The cycle's objectives with their final scores. Raises Cycle.DoesNotExist for another
    organization's id."""
    cycle = Cycle.objects.for_org(organization).get(pk=cycle_id)
    as_of, ended = review_moment(cycle, now or timezone.now())
    objectives = list(
        Objective.objects.for_org(organization)
        .filter(cycle=cycle)
        .select_related("pathway", "owner", "carried_over_from")
        .order_by("pathway__position", "pathway__name", "title", "pk")
    )
    later = later_cycles(organization=organization, cycle=cycle)
    next_cycle = later[0] if later else None
    scores = _scores(
        organization=organization,
        objectives=objectives,
        as_of=as_of,
        start=history.cycle_start(cycle),
    )
    return CycleReview(
        cycle=cycle,
        scores=scores,
        as_of=as_of,
        ended=ended,
        next_cycle=next_cycle,
        later_cycles=later,
    )


def objective_review(
    *, organization: Organization, objective_id: int, now: datetime.datetime | None = None
) -> ObjectiveReviewPage:
    """One objective's review. Raises Objective.DoesNotExist for another organization's id."""
    objective = (
        Objective.objects.for_org(organization)
        .select_related("pathway", "owner", "cycle", "carried_over_from__cycle")
        .get(pk=objective_id)
    )
    cycle = objective.cycle
    as_of, ended = review_moment(cycle, now or timezone.now())
    later = later_cycles(organization=organization, cycle=cycle) if cycle else []
    next_cycle = later[0] if later else None
    (score,) = _scores(
        organization=organization,
        objectives=[objective],
        as_of=as_of,
        start=history.cycle_start(cycle),
    )
    review = ObjectiveReview.objects.for_org(organization).filter(objective=objective).first()
    return ObjectiveReviewPage(
        score=score,
        cycle=cycle,
        as_of=as_of,
        ended=ended,
        review=review,
        next_cycle=next_cycle,
    )
