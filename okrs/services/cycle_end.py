"""The end of a cycle: closing notes on objectives, and carrying unfinished work over."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from missionos import events
from okrs import progress
from okrs.models import (
    Cycle,
    KeyResult,
    Objective,
    ObjectiveReview,
    Project,
)
from okrs.services.plan import project_save
from orgs import audit
from orgs.services import activity_record, record_save


@transaction.atomic
def objective_review_save(
    *, objective: Objective, note: str, actor: AbstractBaseUser | None = None
) -> ObjectiveReview:
    """Write (or rewrite) the objective's closing note for its cycle's review."""
    review = (
        ObjectiveReview.objects.for_org(objective.organization_id)
        .select_for_update()
        .filter(objective=objective)
        .first()
    )
    before = copy.copy(review) if review is not None else None
    if review is None:
        review = ObjectiveReview(organization_id=objective.organization_id, objective=objective)
    review.note = note.strip()
    review.written_by = actor
    review.updated_at = timezone.now()
    review.full_clean()
    review.save()
    audit.record_change(row=review, before=before, actor=actor, fields=("note",))
    activity_record(
        record=review,
        actor=actor,
        verb="wrote the closing note of",
        subject=str(objective),
    )
    events.publish(objective.organization_id, events.PLAN)
    return review


@dataclass
class CarryOver:
    """What `cycle_carry_over` did: the copies it made, and the objectives already there."""

    created: list[Objective] = field(default_factory=list)
    key_results: int = 0
    already: list[Objective] = field(default_factory=list)
    # objective id -> its copy made before (`.cycle` loaded), for the objectives in `already`.
    copies: dict[int, Objective] = field(default_factory=dict)


def _finished(key_result: KeyResult) -> bool:
    """Reached its target by its value now (what the copy would start from)."""
    now = progress.key_result_progress(
        key_result.start_value, key_result.current_value, key_result.target_value
    )
    return now is not None and now >= 1


@transaction.atomic
def cycle_carry_over(
    *,
    cycle: Cycle,
    next_cycle: Cycle,
    objectives: list[Objective],
    actor: AbstractBaseUser | None = None,
) -> CarryOver:
    """Copy `objectives` of `cycle` into `next_cycle` with their unfinished key results.

    Each copy keeps the objective's links (pathway, owner, the objective it supports, the
    projects linked to it) and records what it was carried over from; each key result starts
    where the original stands now (its current value becomes the copy's start and current
    value). An objective already carried over (into any cycle, its copy archived or not) is
    left alone: carrying over twice does not duplicate (the cycle row is locked first, so two
    requests at once take turns, and the second finds the first one's copies)."""
    organization_id = cycle.organization_id
    if next_cycle.organization_id != organization_id:
        raise ValidationError({"next_cycle": "Choose a cycle of this organization."})
    if next_cycle.starts_on <= cycle.starts_on:
        raise ValidationError({"next_cycle": "Choose a cycle that starts after this one."})
    if any(o.organization_id != organization_id or o.cycle_id != cycle.pk for o in objectives):
        raise ValidationError({"objectives": "Choose objectives of this cycle."})
    Cycle.objects.for_org(organization_id).select_for_update().filter(pk=cycle.pk).first()
    existing: dict[int, Objective] = {}
    for earlier in (
        Objective.objects.for_org(organization_id, include_archived=True)
        .filter(carried_over_from__in=[o.pk for o in objectives])
        .select_related("cycle")
        .order_by(F("archived_at").asc(nulls_first=True), "pk")
    ):
        existing.setdefault(earlier.carried_over_from_id, earlier)
    result = CarryOver()
    for objective in sorted(objectives, key=lambda o: o.pk):
        if objective.pk in existing:
            result.already.append(objective)
            result.copies[objective.pk] = existing[objective.pk]
            continue
        duplicate = Objective(
            organization_id=organization_id,
            pathway_id=objective.pathway_id,
            cycle=next_cycle,
            title=objective.title,
            description=objective.description,
            owner_id=objective.owner_id,
            parent_id=objective.parent_id,
            carried_over_from=objective,
        )
        record_save(record=duplicate, actor=actor)
        for key_result in KeyResult.objects.for_org(organization_id).filter(objective=objective):
            if _finished(key_result):
                continue
            record_save(
                record=KeyResult(
                    organization_id=organization_id,
                    objective=duplicate,
                    title=key_result.title,
                    metric_type=key_result.metric_type,
                    start_value=key_result.current_value,
                    current_value=key_result.current_value,
                    target_value=key_result.target_value,
                    unit=key_result.unit,
                    weight=key_result.weight,
                    confidence=key_result.confidence,
                    owner_id=key_result.owner_id,
                    carried_over_from=key_result,
                ),
                actor=actor,
            )
            result.key_results += 1
        for project in Project.objects.for_org(organization_id).filter(objectives=objective):
            project_save(
                project=project, objectives=[*project.objectives.all(), duplicate], actor=actor
            )
        result.created.append(duplicate)
    return result
