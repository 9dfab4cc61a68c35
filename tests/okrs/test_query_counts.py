"""Page query counts do not grow with the data: each page is measured in a small and a large
organization (10 and 500 projects) side by side, and pinned below a fixed ceiling."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs.models import CheckIn, KeyResult, Objective, Pathway, Project, Task, TaskStatus
from orgs.models import Membership, Person, Role
from tests.factories import CycleFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 500


def build(organization, projects: int) -> dict:
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


@pytest.fixture
def viewer_client(client):
    user = UserFactory(username="counter")
    small = OrganizationFactory(slug="small")
    large = OrganizationFactory(slug="large")
    Membership.objects.create(user=user, organization=small, role=Role.OWNER)
    Membership.objects.create(user=user, organization=large, role=Role.OWNER)
    client.force_login(user)
    objects = {"small": build(small, SMALL), "large": build(large, LARGE)}
    # Visit both once so that the "last organization used" write is not counted.
    for slug in objects:
        client.get(reverse("org_home", args=[slug]))
    return client, objects


# page -> (URL name, URL kwargs from the built objects, query string, queries allowed)
PAGES = {
    "dashboard": ("org_home", lambda o: {}, {}, 11),
    "project list": ("project_list", lambda o: {}, {}, 7),
    "project search": ("project_list", lambda o: {}, {"q": "projct 1"}, 8),
    "objective": ("objective_detail", lambda o: {"objective_id": o["objective"].pk}, {}, 10),
    "pathway": ("pathway_detail", lambda o: {"pathway_id": o["pathway"].pk}, {}, 8),
    "project": ("project_detail", lambda o: {"project_id": o["project"].pk}, {}, 7),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_data(viewer_client, page, django_assert_max_num_queries):
    client, objects = viewer_client
    name, kwargs_for, query, ceiling = PAGES[page]
    counts = {}
    for slug in ("small", "large"):
        url = reverse(name, kwargs={"org_slug": slug, **kwargs_for(objects[slug])})
        client.get(url, query)  # warm: later requests load the session the same way
        with django_assert_max_num_queries(ceiling) as captured:
            response = client.get(url, query)
        assert response.status_code == 200
        counts[slug] = len(captured)
    assert counts["small"] == counts["large"], f"{page}: {counts} at {SMALL} and {LARGE} projects"
    if page == "project list":
        assert len(response.context["projects"]) == LARGE
