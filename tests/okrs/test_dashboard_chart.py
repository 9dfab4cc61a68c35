"""The dashboard's chart: each pathway's progress over the selected cycle, a line each, rebuilt
from check-in history, up to now or to the end of the day it is shown as of."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs.charts.pages import dashboard_progress_chart
from orgs.models import Role
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(org, other_org):
    """Two pathways: Access's key result went 0 -> 20 (ten days ago) -> 60 (two days ago) of
    100; Care's went to 50 five days ago. A past cycle has a check-in of its own."""
    today = timezone.localdate()
    now = timezone.now()
    cycle = CycleFactory(
        organization=org,
        name="This quarter",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
    )
    past = CycleFactory(
        organization=org,
        name="Last quarter",
        starts_on=today - datetime.timedelta(days=120),
        ends_on=today - datetime.timedelta(days=31),
    )
    access = PathwayFactory(organization=org, name="Patient access", position=1)
    care = PathwayFactory(organization=org, name="Quality of care", position=2)
    access_kr = KeyResultFactory(
        organization=org,
        objective=ObjectiveFactory(organization=org, pathway=access, cycle=cycle),
        current_value=Decimal(60),
    )
    care_kr = KeyResultFactory(
        organization=org,
        objective=ObjectiveFactory(organization=org, pathway=care, cycle=cycle),
        current_value=Decimal(50),
    )
    old_kr = KeyResultFactory(
        organization=org,
        objective=ObjectiveFactory(organization=org, pathway=access, cycle=past),
        current_value=Decimal(90),
    )
    for kr, value, days_ago in (
        (access_kr, 20, 10),
        (access_kr, 60, 2),
        (care_kr, 50, 5),
        (old_kr, 90, 60),
    ):
        CheckInFactory(
            organization=org,
            key_result=kr,
            value=Decimal(value),
            checked_in_at=now - datetime.timedelta(days=days_ago),
        )
    # Another organization's check-ins never move these lines.
    theirs = KeyResultFactory(
        organization=other_org,
        objective=ObjectiveFactory(
            organization=other_org, pathway=PathwayFactory(organization=other_org)
        ),
    )
    CheckInFactory(organization=other_org, key_result=theirs, value=Decimal(100))
    return {"cycle": cycle, "past": past, "access": access, "care": care}


def dashboard(client, org, **query):
    response = client.get(reverse("org_home", args=[org.slug]), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def viewer(client, org, member_of):
    client.force_login(member_of(org, Role.VIEWER))
    return client


def test_a_line_per_pathway_over_the_current_cycle(viewer, org, plan):
    page = dashboard(viewer, org)
    assert 'id="dashboard-progress-chart"' in page
    assert page.count('class="chart-line chart-pathway-') == 4  # two lines, two legend swatches
    assert "Patient access <strong>60%</strong>" in page
    assert "Quality of care <strong>50%</strong>" in page
    assert "Patient access rose from 0%" in page  # the summary, from the cycle's start
    assert ">Today</text>" in page


def test_as_of_a_past_day_the_lines_stop_there(viewer, org, plan):
    day = timezone.localdate() - datetime.timedelta(days=4)
    page = dashboard(viewer, org, as_of=day.isoformat())
    assert "Patient access <strong>20%</strong>" in page  # the check-in two days ago is later
    assert "Quality of care <strong>50%</strong>" in page
    assert f">As of {day.day} {day:%b}</text>" in page


def test_another_cycle_shows_its_own_objectives(viewer, org, plan):
    page = dashboard(viewer, org, cycle=plan["past"].pk)
    assert "Patient access <strong>" not in page  # one line: no legend
    assert "Patient access rose from 0%" in page and "to 90%" in page
    assert (
        "Quality of care"
        not in page.split('id="dashboard-progress-chart"')[1].split("</figure>")[0]
    )


def test_no_check_ins_no_chart_but_a_sentence(viewer, org):
    PathwayFactory(organization=org, name="Empty")
    page = dashboard(viewer, org)
    assert 'id="dashboard-progress-chart"' not in page
    assert "No check-ins in this cycle yet" in page


def test_the_chart_costs_one_query_whatever_the_pathways(org, plan, django_assert_num_queries):
    pathways = [plan["access"], plan["care"]]
    with django_assert_num_queries(1):  # the series are computed in the database
        chart = dashboard_progress_chart(organization=org, pathways=pathways, cycle=plan["cycle"])
    assert [series.label for series in chart.series] == ["Patient access", "Quality of care"]
