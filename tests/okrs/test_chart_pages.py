"""The progress and burn-up charts on the objective, pathway and project pages."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs.charts.geometry import date_label
from okrs.models import TaskStatus
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def on(day: datetime.date) -> str:
    """A date as the chart's summary says it: the year is added when the chart spans two."""
    return rf"{re.escape(date_label(day))}(?: \d{{4}})?"


def labels(page: str, kind: str) -> list[str]:
    return re.findall(rf'<text class="chart-{kind}-label[^"]*"[^>]*>([^<]+)</text>', page)


def opening_tag(page: str, element_id: str) -> str:
    """The opening tag of the element with that id (to check its attributes)."""
    match = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', page)
    assert match, f"no element with id {element_id}"
    return match.group(0)


@pytest.fixture
def plan(org):
    """A pathway's objective whose key result went 0 -> 20 -> 50 (of 100) this cycle."""
    today = timezone.localdate()
    cycle = CycleFactory(
        organization=org,
        name="This quarter",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
    )
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle)
    kr = KeyResultFactory(organization=org, objective=objective, current_value=50)
    now = timezone.now()
    CheckInFactory(organization=org, key_result=kr, value=20, checked_in_at=now - _days(20))
    CheckInFactory(organization=org, key_result=kr, value=50, checked_in_at=now - _days(10))
    return {"cycle": cycle, "pathway": pathway, "objective": objective, "kr": kr}


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def test_objective_page_draws_its_progress_over_time(owner_client, org, plan):
    response = owner_client.get(url("objective_detail", org, objective_id=plan["objective"].pk))
    page = response.content.decode()
    assert '<svg class="chart-svg"' in page and 'role="img"' in page
    assert 'aria-labelledby="objective-progress-chart-title"' in page
    assert '<title id="objective-progress-chart-title">Objective progress over time</title>' in page
    assert labels(page, "y") == ["0%", "25%", "50%", "75%", "100%"]
    # Every other Monday from the cycle's start to its end: 90 days, so 7 labels.
    x_labels = labels(page, "x")
    assert len(x_labels) == 7
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2}( \d{4})?", x) for x in x_labels), x_labels
    assert "Today" in page
    start, today = plan["cycle"].starts_on, timezone.localdate()
    summary = rf"Progress rose from 0% on {on(start)} to 50% on {on(today)}\."
    assert re.search(rf'<desc id="objective-progress-chart-desc">{summary}</desc>', page)
    assert page.count('class="chart-line chart-progress"') == 1
    assert "chart-legend" not in page  # one line needs no legend


def test_objective_page_without_check_ins_shows_an_empty_state(owner_client, org):
    objective = ObjectiveFactory(organization=org)
    KeyResultFactory(organization=org, objective=objective, current_value=30)
    page = owner_client.get(url("objective_detail", org, objective_id=objective.pk)).content
    page = page.decode()
    assert "chart-svg" not in page
    assert "No check-ins yet, so there is no history to chart." in page


def test_a_check_in_swaps_the_chart_in_too(owner_client, org, plan):
    response = owner_client.post(
        url("check_in_create", org, key_result_id=plan["kr"].pk),
        {"value": "80", "confidence": "7", "note": ""},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert 'hx-swap-oob="true"' in opening_tag(page, "objective-chart")
    assert re.search(rf"to 80% on {on(timezone.localdate())}\.", page)


def test_pathway_page_draws_the_mean_of_its_objectives(owner_client, org, plan):
    other = ObjectiveFactory(organization=org, pathway=plan["pathway"], cycle=plan["cycle"])
    kr = KeyResultFactory(organization=org, objective=other, current_value=100)
    CheckInFactory(organization=org, key_result=kr, value=100, checked_in_at=timezone.now())
    page = owner_client.get(url("pathway_detail", org, pathway_id=plan["pathway"].pk)).content
    page = page.decode()
    assert (
        '<title id="pathway-progress-chart-title">Pathway progress in This quarter</title>' in page
    )
    assert labels(page, "y") == ["0%", "25%", "50%", "75%", "100%"]
    # (50% + 100%) / 2 today. Neither objective had started when the cycle did, so the line
    # starts at the first check-in (20%), the other objective joining the mean at its own.
    first, today = timezone.localdate() - _days(20), timezone.localdate()
    assert re.search(rf"Progress rose from 20% on {on(first)} to 75% on {on(today)}\.", page)


def test_pathway_page_without_check_ins_shows_an_empty_state(owner_client, org):
    pathway = PathwayFactory(organization=org)
    page = owner_client.get(url("pathway_detail", org, pathway_id=pathway.pk)).content.decode()
    assert "chart-svg" not in page
    assert "No check-ins on this pathway's key results yet" in page


def test_project_page_draws_a_burn_up_and_a_task_move_updates_it(owner_client, org, other_org):
    project = ProjectFactory(organization=org)
    now = timezone.now()
    tasks = [
        TaskFactory(organization=org, project=project, created_at=now - _days(9 - i))
        for i in range(3)
    ]
    TaskFactory(organization=other_org, project=ProjectFactory(organization=other_org))
    page = owner_client.get(url("project_detail", org, project_id=project.pk)).content.decode()
    assert '<title id="project-burnup-chart-title">Burn-up: tasks in scope and done</title>' in page
    assert labels(page, "y") == ["0", "1", "2", "3"]
    assert 'class="chart-legend"' in page and "Tasks in scope" in page and "Tasks done" in page
    assert "Tasks done stood at 0" not in page  # two points at least: its start and now
    assert "Tasks done held at 0" in page

    response = owner_client.post(
        url("task_status", org, task_id=tasks[0].pk),
        {"status": TaskStatus.DONE},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert 'hx-swap-oob="true"' in opening_tag(page, "project-burnup")
    nine_days_ago, today = timezone.localdate() - _days(9), timezone.localdate()
    assert re.search(rf"Tasks done rose from 0 on {on(nine_days_ago)} to 1 on {on(today)}\.", page)


def test_project_page_without_tasks_shows_an_empty_state(owner_client, org):
    project = ProjectFactory(organization=org)
    page = owner_client.get(url("project_detail", org, project_id=project.pk)).content.decode()
    assert "chart-svg" not in page
    assert "No tasks yet, so there is nothing to chart." in page
