"""“My work”: a user's tasks and key results across every organization they belong to."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max
from django.utils import timezone

from okrs import rollups
from okrs.models import (
    KeyResult,
    Task,
    TaskStatus,
)
from okrs.selectors.reminders import DueCheckIn, due_of
from orgs.models import Organization, Person
from orgs.tenancy import live_q


@dataclass
class OrganizationWork:
    organization: Organization
    open_tasks: list[Task] = field(default_factory=list)
    key_results: list[KeyResult] = field(default_factory=list)

    @property
    def check_ins_due(self) -> list[DueCheckIn]:
        return [kr.due for kr in self.key_results if kr.due is not None]

    @property
    def cadence(self) -> str | None:
        """How often the user checks in here ("weekly", "every two weeks", "monthly"): their
        directory entry's cadence, read off the key results they own (None: they own none)."""
        owner = next((kr.owner for kr in self.key_results if kr.owner is not None), None)
        return owner.get_check_in_cadence_display().lower() if owner else None


def my_work(
    *, user: AbstractBaseUser, now: datetime.datetime | None = None
) -> list[OrganizationWork]:
    """A user's open tasks and owned key results in every organization they belong to; each
    key result says whether a check-in is due from its owner (okrs.selectors.reminders)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    people = Person.objects.for_member(user).filter(user=user)
    tasks = (
        Task.objects.for_member(user)
        .filter(live_q("project"), assignee__in=people)
        .exclude(status=TaskStatus.DONE)
        .select_related("project", "organization")
        .order_by("organization__name", "due_on", "id")
    )
    key_results = (
        KeyResult.objects.for_member(user)
        .filter(live_q("objective"), owner__in=people)
        .select_related("objective__cycle", "organization", "owner")
        .annotate(
            progress=rollups.key_result_progress(),
            last_check_in=Max("check_ins__checked_in_at", filter=live_q("check_ins")),
        )
        .order_by("organization__name", "objective__title", "id")
    )
    groups: dict[int, OrganizationWork] = {}
    for task in tasks:
        groups.setdefault(
            task.organization_id, OrganizationWork(task.organization)
        ).open_tasks.append(task)
    for key_result in key_results:
        key_result.due = due_of(key_result, today)
        key_result.check_in_due = key_result.due is not None
        groups.setdefault(
            key_result.organization_id, OrganizationWork(key_result.organization)
        ).key_results.append(key_result)
    return sorted(groups.values(), key=lambda group: group.organization.name)
