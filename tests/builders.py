"""Bulk builders for organizations of a given size (query-count tests and benchmarks)."""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

from okrs.models import CheckIn, KeyResult, Objective, Pathway, Project, Task, TaskStatus
from orgs.models import Organization, Person
from tests.factories import CycleFactory


def build_organization(organization: Organization, projects: int) -> dict:
    """An organization with `projects` projects and everything around them, in bulk."""
    org = {"organization": organization}
    today = timezone.localdate()
    cycle = CycleFactory(organization=organization)
    people = Person.objects.bulk_create(
        Person(**org, name=f"Person {i}", departed_on=today if i % 7 == 0 else None)
        for i in range(max(5, projects // 10))
    )
    pathways = Pathway.objects.bulk_create(Pathway(**org, name=f"Pathway {i}") for i in range(4))
    objectives = Objective.objects.bulk_create(
        Objective(
            **org,
            pathway=pathways[i % 4],
            cycle=cycle,
            title=f"Objective {i}",
            owner=people[i % len(people)],
        )
        for i in range(max(4, projects // 5))
    )
    # The first objective grows with the data too: its page must not.
    key_results_of_first = max(2, projects // 25)
    key_results = KeyResult.objects.bulk_create(
        KeyResult(
            **org,
            objective=objective,
            title=f"KR {objective.pk}.{i}",
            target_value=100,
            current_value=i * 10,
            confidence=i % 11,
            owner=people[i % len(people)],
        )
        for objective in objectives
        for i in range(key_results_of_first if objective == objectives[0] else 3)
    )
    now = timezone.now()
    CheckIn.objects.bulk_create(
        CheckIn(
            **org,
            key_result=kr,
            value=week * 5,
            confidence=5,
            checked_in_at=now - datetime.timedelta(weeks=week),
        )
        for kr in key_results
        for week in range(4)
    )
    project_rows = Project.objects.bulk_create(
        Project(
            **org,
            name=f"Project {i}",
            pathway=pathways[i % 4],
            owner=people[i % len(people)],
            status="active",
        )
        for i in range(projects)
    )
    Project.objectives.through.objects.bulk_create(
        Project.objectives.through(project=project, objective=objectives[i % len(objectives)])
        for i, project in enumerate(project_rows)
    )
    statuses = itertools.cycle(TaskStatus.values)
    Task.objects.bulk_create(
        Task(
            **org,
            project=project,
            title=f"Task {project.pk}.{i}",
            status=next(statuses),
            assignee=people[i % len(people)],
            due_on=today - datetime.timedelta(days=i - 2),
        )
        for project in project_rows
        for i in range(5)
    )
    return {"objective": objectives[0], "pathway": pathways[0], "project": project_rows[0]}
