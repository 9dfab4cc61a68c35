"""Check-ins due: the key results a user owns, in every organization they belong to, that have
gone without a check-in for longer than their owner's cadence (okrs.cadence). What "My work"
lists and the weekly reminder email sends."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from okrs import cadence, rollups
from okrs.models import KeyResult
from orgs.models import Organization, Person
from orgs.tenancy import live_q


@dataclass
class DueCheckIn:
    key_result: KeyResult
    organization: Organization
    last_check_in: datetime.date | None
    due_on: datetime.date | None  # None: never checked in

    @property
    def path(self) -> str:
        """The check-in form: the key result's row on its objective's page (or, for a synced
        key result whose objective is gone, "My work", where its form is linked)."""
        kr = self.key_result
        if kr.objective_id is None:
            return reverse("my_work")
        url = reverse(
            "objective_detail",
            kwargs={"org_slug": self.organization.slug, "objective_id": kr.objective_id},
        )
        return f"{url}#kr-{kr.pk}"


def key_results_owned(*, user: AbstractBaseUser, today: datetime.date):
    """The live, unfinished key results the user owns (through their directory entries, not
    departed) in every organization they belong to, of objectives whose cycle is running
    today (or that have no cycle), with each one's latest check-in and owner's cadence."""
    people = Person.objects.for_member(user).filter(user=user, departed_on__isnull=True)
    running = Q(objective__cycle__isnull=True) | Q(
        objective__cycle__starts_on__lte=today, objective__cycle__ends_on__gte=today
    )
    return (
        KeyResult.objects.for_member(user)
        .filter(live_q("objective"), running, owner__in=people)
        .select_related("objective__cycle", "organization", "owner")
        .annotate(
            progress=rollups.key_result_progress(),
            last_check_in=Max("check_ins__checked_in_at", filter=live_q("check_ins")),
        )
        .order_by("organization__name", "objective__title", "id")
    )


def due_of(key_result: KeyResult, today: datetime.date) -> DueCheckIn | None:
    """Whether the key result (annotated as by `key_results_owned`) is due a check-in today."""
    if key_result.progress is not None and key_result.progress >= 1:
        return None  # reached its target: nothing left to report
    cycle = key_result.objective.cycle if key_result.objective_id else None
    if cycle is not None and not cycle.starts_on <= today <= cycle.ends_on:
        return None  # its cycle has not begun, or is over (its review says how it ended)
    last = key_result.last_check_in
    last_day = timezone.localtime(last).date() if last is not None else None
    owner_cadence = key_result.owner.check_in_cadence if key_result.owner else cadence.WEEKLY
    if not cadence.is_due(last_day, owner_cadence, today):
        return None
    return DueCheckIn(
        key_result=key_result,
        organization=key_result.organization,
        last_check_in=last_day,
        due_on=cadence.next_due(last_day, owner_cadence) if last_day else None,
    )


def check_ins_due(
    *, user: AbstractBaseUser, today: datetime.date | None = None
) -> list[DueCheckIn]:
    """The check-ins due from the user today, across their organizations. One query."""
    today = today or timezone.localdate()
    due = (due_of(kr, today) for kr in key_results_owned(user=user, today=today))
    return [item for item in due if item is not None]
