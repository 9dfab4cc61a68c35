"""Progress and task history rebuilt from check-ins and task timestamps (okrs.history), and
the page charts drawn from it (okrs.charts.pages)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from okrs import history
from okrs.charts import pages as chart_pages
from okrs.history import KeyResultHistory
from okrs.models import CheckIn, KeyResult, Objective, Task
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
)

UTC = datetime.UTC
CYCLE_START = datetime.datetime(2025, 10, 1, tzinfo=UTC)  # midnight in settings.TIME_ZONE (UTC)
NOW = datetime.datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 9) -> datetime.datetime:
    """A moment `day` days into the cycle."""
    return CYCLE_START + datetime.timedelta(days=day, hours=hour)


# The value-at-a-moment rule, without a database.


def test_value_at_a_moment_is_the_latest_check_in_by_then():
    kr = KeyResultHistory(
        start_value=Decimal(10),
        current_value=Decimal(70),
        target_value=Decimal(110),
        weight=Decimal(1),
        check_ins=((at(1), Decimal(30)), (at(5), Decimal(50)), (at(5), Decimal(60))),
    )
    assert kr.value_at(at(1)) == 30  # at the check-in itself
    assert kr.value_at(at(4)) == 30
    assert kr.value_at(at(5)) == 60  # two at the same moment: the later one (higher id)
    assert kr.value_at(NOW) == 60  # not the current value: the check-ins say 60
    # Check-ins, but none by then: it had not moved from its start.
    assert kr.value_at(at(0)) == 10
    assert kr.progress_at(at(0)) == 0.0
    assert kr.progress_at(at(4)) == pytest.approx(0.2)


def test_value_without_any_check_in_is_the_current_value():
    kr = KeyResultHistory(Decimal(0), Decimal(25), Decimal(100), Decimal(1))
    assert kr.value_at(at(0)) == kr.value_at(NOW) == 25
    assert kr.progress_at(at(-30)) == 0.25


def test_rollups_reuse_the_progress_rules():
    done = KeyResultHistory(Decimal(0), Decimal(1), Decimal(1), Decimal(1))
    half = KeyResultHistory(Decimal(40), Decimal(30), Decimal(20), Decimal(3))  # decreasing
    unmeasurable = KeyResultHistory(Decimal(5), Decimal(5), Decimal(5), Decimal(9))
    weightless = KeyResultHistory(Decimal(0), Decimal(0), Decimal(1), Decimal(0))
    objective = [done, half, unmeasurable, weightless]
    # (1 * 1 + 0.5 * 3) / 4; the target-equals-start and zero-weight ones are left out.
    assert history.objective_progress_at(objective, NOW) == pytest.approx(0.625)
    assert history.objective_progress_at([], NOW) is None
    # The pathway: the plain mean of the objectives that have progress.
    assert history.pathway_progress_at([objective, [half], [], [unmeasurable]], NOW) == (
        pytest.approx((0.625 + 0.5) / 2)
    )


# From the database.


@pytest.fixture
def cycle(org):
    return CycleFactory(
        organization=org,
        starts_on=CYCLE_START.date(),
        ends_on=datetime.date(2025, 12, 31),
        name="Q4",
    )


@pytest.fixture
def objective(org, cycle):
    """Two weighted key results with history, one without, one of weight 0."""
    objective = ObjectiveFactory(organization=org, cycle=cycle, title="Cut waiting times")
    clinics = KeyResultFactory(
        organization=org, objective=objective, target_value=100, current_value=80
    )
    wait = KeyResultFactory(
        organization=org,
        objective=objective,
        start_value=40,
        current_value=30,
        target_value=20,
        weight=3,
    )
    KeyResultFactory(  # no check-ins: counts at its current value, 50%, all along
        organization=org, objective=objective, target_value=10, current_value=5, weight=2
    )
    KeyResultFactory(  # weight 0: left out whatever it says
        organization=org, objective=objective, target_value=10, current_value=10, weight=0
    )
    CheckInFactory(organization=org, key_result=clinics, value=50, checked_in_at=at(3))
    CheckInFactory(organization=org, key_result=wait, value=30, checked_in_at=at(10))
    CheckInFactory(organization=org, key_result=clinics, value=80, checked_in_at=at(20))
    return objective


def test_objective_series_has_a_point_at_the_start_each_check_in_and_now(org, objective):
    series = history.objective_progress_series(organization=org, objective=objective, now=NOW)
    # Weights 1, 3 and 2: clinics 0 -> 50% -> 80%; wait 0 -> 50%; the third 50% throughout.
    assert series == [
        (CYCLE_START, pytest.approx((0 + 0 + 0.5 * 2) / 6)),
        (at(3), pytest.approx((0.5 + 0 + 1) / 6)),
        (at(10), pytest.approx((0.5 + 1.5 + 1) / 6)),
        (at(20), pytest.approx((0.8 + 1.5 + 1) / 6)),
        (NOW, pytest.approx((0.8 + 1.5 + 1) / 6)),
    ]


def test_archived_check_ins_and_key_results_are_not_history(org, objective):
    clinics = objective.key_results.order_by("pk").first()
    CheckInFactory(
        organization=org, key_result=clinics, value=100, checked_in_at=at(25), archived_at=NOW
    )
    archived_kr = KeyResultFactory(
        organization=org, objective=objective, target_value=10, archived_at=NOW
    )
    CheckInFactory(organization=org, key_result=archived_kr, value=10, checked_in_at=at(30))
    series = history.objective_progress_series(organization=org, objective=objective, now=NOW)
    assert [moment for moment, _ in series] == [CYCLE_START, at(3), at(10), at(20), NOW]
    assert series[-1][1] == pytest.approx((0.8 + 1.5 + 1) / 6)


def test_another_organizations_rows_never_count(org, other_org, objective):
    clinics = objective.key_results.order_by("pk").first()
    # Rows of another organization pointing at this one's (as broken data could): ignored.
    CheckInFactory(organization=other_org, key_result=clinics, value=100, checked_in_at=at(25))
    foreign_kr = KeyResultFactory(
        organization=other_org, objective=objective, target_value=10, current_value=0
    )
    CheckInFactory(organization=other_org, key_result=foreign_kr, value=0, checked_in_at=at(26))
    TaskFactory(organization=other_org, project=ProjectFactory(organization=org))
    series = history.objective_progress_series(organization=org, objective=objective, now=NOW)
    assert [moment for moment, _ in series] == [CYCLE_START, at(3), at(10), at(20), NOW]
    assert series[-1][1] == pytest.approx((0.8 + 1.5 + 1) / 6)
    # Seen from the other organization, this objective has none of its key results.
    assert history.objective_progress_series(
        organization=other_org, objective=objective, now=NOW
    ) == [(CYCLE_START, 0.0), (at(26), 0.0), (NOW, 0.0)]


def test_check_ins_before_the_cycle_count_from_its_start(org, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(organization=org, objective=objective, target_value=10)
    CheckInFactory(organization=org, key_result=kr, value=4, checked_in_at=at(-20))
    CheckInFactory(
        organization=org, key_result=kr, value=9, checked_in_at=NOW + datetime.timedelta(hours=1)
    )
    series = history.objective_progress_series(organization=org, objective=objective, now=NOW)
    # The check-in from before the cycle shows at its start; the one after `now` is not history.
    assert series == [(CYCLE_START, pytest.approx(0.4)), (NOW, pytest.approx(0.4))]


def test_objective_without_key_results_has_no_series(org, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    assert history.objective_progress_series(organization=org, objective=objective, now=NOW) == []
    assert (
        chart_pages.objective_progress_chart(organization=org, objective=objective, now=NOW) is None
    )


def test_objective_chart_needs_a_check_in(org, cycle):
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(organization=org, objective=objective, current_value=40)
    # Without check-ins the series is flat at today's value, but that is not history.
    assert history.objective_progress_series(organization=org, objective=objective, now=NOW) == [
        (CYCLE_START, 0.4),
        (NOW, 0.4),
    ]
    assert (
        chart_pages.objective_progress_chart(organization=org, objective=objective, now=NOW) is None
    )
    CheckInFactory(organization=org, key_result=kr, value=40, checked_in_at=at(7))
    chart = chart_pages.objective_progress_chart(organization=org, objective=objective, now=NOW)
    assert chart.summary == "Progress rose from 0% on 1 Oct to 40% on 20 Nov."
    assert chart.x_ticks[0].label == "6 Oct" and chart.x_ticks[-1].label == "29 Dec"
    # 1 Oct to the end of 31 Dec is 92 days; now is 50.5 days in.
    assert chart.today.x == "54.9%"


def test_pathway_series_is_the_mean_of_its_objectives_in_the_cycle(org, cycle):
    pathway = PathwayFactory(organization=org)
    first = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle)
    second = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle)
    ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle)  # no key results: left out
    older = ObjectiveFactory(organization=org, pathway=pathway)  # another cycle
    archived = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, archived_at=NOW)
    elsewhere = ObjectiveFactory(organization=org, cycle=cycle)  # another pathway
    kr1 = KeyResultFactory(organization=org, objective=first, target_value=10)
    kr2 = KeyResultFactory(organization=org, objective=second, target_value=4, current_value=3)
    for objective in (older, archived, elsewhere):
        kr = KeyResultFactory(organization=org, objective=objective, target_value=10)
        CheckInFactory(organization=org, key_result=kr, value=10, checked_in_at=at(2))
    CheckInFactory(organization=org, key_result=kr1, value=2, checked_in_at=at(5))
    CheckInFactory(organization=org, key_result=kr1, value=6, checked_in_at=at(15))
    CheckInFactory(organization=org, key_result=kr2, value=2, checked_in_at=at(10))

    series = history.pathway_progress_series(
        organization=org, pathway=pathway, cycle=cycle, now=NOW
    )
    # An objective not started by then (no check-in yet) is left out of the mean: none had
    # started at the cycle's start, and `second` joins at its first check-in.
    assert series == [
        (at(5), pytest.approx(0.2)),
        (at(10), pytest.approx((0.2 + 0.5) / 2)),
        (at(15), pytest.approx((0.6 + 0.5) / 2)),
        (NOW, pytest.approx((0.6 + 0.5) / 2)),
    ]
    # Without a cycle, every live objective of the pathway counts: `older` (100%) too.
    assert history.pathway_progress_series(organization=org, pathway=pathway, cycle=None, now=NOW)[
        -1
    ] == (NOW, pytest.approx((0.6 + 0.5 + 1.0) / 3))
    chart = chart_pages.pathway_progress_chart(
        organization=org, pathway=pathway, cycle=cycle, now=NOW
    )
    assert chart.title == "Pathway progress in Q4"
    assert chart.summary == "Progress rose from 20% on 6 Oct to 55% on 20 Nov."
    empty = PathwayFactory(organization=org)
    assert (
        chart_pages.pathway_progress_chart(organization=org, pathway=empty, cycle=cycle, now=NOW)
        is None
    )


def test_burnup_counts_tasks_in_scope_and_done(org, other_org):
    project = ProjectFactory(organization=org, starts_on=datetime.date(2025, 9, 29))
    TaskFactory(organization=org, project=project, created_at=at(1))
    TaskFactory(organization=org, project=project, created_at=at(1), completed_at=at(4))
    TaskFactory(organization=org, project=project, created_at=at(3), completed_at=at(8))
    # Synced after it was done in Airtable: in scope from its completion.
    TaskFactory(organization=org, project=project, created_at=at(30), completed_at=at(6))
    TaskFactory(organization=org, project=project, created_at=at(2), archived_at=NOW)  # deleted
    TaskFactory(organization=other_org, project=project, created_at=at(2))  # not this org's
    TaskFactory(organization=org, created_at=at(2))  # another project

    burnup = history.project_burnup(organization=org, project=project, now=NOW)
    starts = datetime.datetime(2025, 9, 29, tzinfo=UTC)
    moments = [starts, at(1), at(3), at(4), at(6), at(8), NOW]
    assert burnup.scope == list(zip(moments, [0, 2, 3, 3, 4, 4, 4], strict=True))
    assert burnup.done == list(zip(moments, [0, 0, 0, 1, 2, 3, 3], strict=True))

    chart = chart_pages.project_burnup_chart(organization=org, project=project, now=NOW)
    assert [series.label for series in chart.series] == ["Tasks in scope", "Tasks done"]
    assert [tick.label for tick in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    assert chart.summary == (
        "Tasks in scope rose from 0 on 29 Sep to 4 on 20 Nov. "
        "Tasks done rose from 0 on 29 Sep to 3 on 20 Nov."
    )


def test_burnup_of_a_project_without_tasks_is_empty(org):
    project = ProjectFactory(organization=org)
    TaskFactory(organization=org, project=project, archived_at=NOW)
    assert history.project_burnup(organization=org, project=project, now=NOW).is_empty
    assert chart_pages.project_burnup_chart(organization=org, project=project, now=NOW) is None


# Query counts: fixed, whatever the number of key results, check-ins and tasks.


def _grow(org, cycle, pathway, size: int) -> tuple[Objective, object]:
    objectives = Objective.objects.bulk_create(
        Objective(organization=org, pathway=pathway, cycle=cycle, title=f"O{i}")
        for i in range(max(1, size // 5))
    )
    key_results = KeyResult.objects.bulk_create(
        KeyResult(organization=org, objective=objectives[i % len(objectives)], target_value=100)
        for i in range(size)
    )
    CheckIn.objects.bulk_create(
        CheckIn(organization=org, key_result=kr, value=week * 10, checked_in_at=at(week * 7))
        for kr in key_results
        for week in range(1 + size // 10)
    )
    project = ProjectFactory(organization=org, pathway=pathway)
    Task.objects.bulk_create(
        Task(
            organization=org,
            project=project,
            title=f"T{i}",
            created_at=at(i % 30),
            completed_at=at(i % 30 + 3) if i % 2 else None,
        )
        for i in range(size * 4)
    )
    return objectives[0], project


@pytest.mark.parametrize("size", [2, 60])
def test_query_counts_do_not_grow_with_the_data(org, cycle, size, django_assert_num_queries):
    pathway = PathwayFactory(organization=org)
    objective, project = _grow(org, cycle, pathway, size)
    objective = (
        Objective.objects.unscoped(include_archived=True)
        .select_related("cycle")
        .get(pk=objective.pk)
    )
    with django_assert_num_queries(2):
        points = history.objective_progress_series(organization=org, objective=objective)
    assert len(points) == 3 + size // 10  # the start, one per week of check-ins, now
    with django_assert_num_queries(2):
        chart = chart_pages.pathway_progress_chart(organization=org, pathway=pathway, cycle=cycle)
    assert not chart.is_empty
    with django_assert_num_queries(1):
        burnup = chart_pages.project_burnup_chart(organization=org, project=project)
    assert burnup.series[0].end_label == str(size * 4)


# The dashboard's series, computed in the database, against the replay in Python.


def _replayed(org, cycle, start, now) -> dict[int, list]:
    by_pathway = history.pathways_histories(organization=org, cycle=cycle)
    series = {
        pathway_id: history.progress_series(objectives, start=start, now=now)
        for pathway_id, objectives in by_pathway.items()
    }
    return {pathway_id: points for pathway_id, points in series.items() if points}


def _assert_same_series(computed: dict, replayed: dict) -> None:
    assert computed.keys() == replayed.keys()
    for pathway_id, points in replayed.items():
        assert [m for m, _ in computed[pathway_id]] == [m for m, _ in points], pathway_id
        assert [v for _, v in computed[pathway_id]] == pytest.approx([v for _, v in points])


@pytest.fixture
def tangled_plan(org, other_org, cycle):
    """Every case of the rules in a few pathways: weights of 0, targets equal to starts, key
    results without check-ins (moved or not), check-ins before the cycle, after now, two at
    the same moment, archived ones, a pathway of one objective, one of several."""
    mixed, single, idle = (PathwayFactory(organization=org) for _ in range(3))
    first = ObjectiveFactory(organization=org, pathway=mixed, cycle=cycle)
    second = ObjectiveFactory(organization=org, pathway=mixed, cycle=cycle)
    third = ObjectiveFactory(organization=org, pathway=mixed, cycle=cycle)
    only = ObjectiveFactory(organization=org, pathway=single, cycle=cycle)
    unmeasured = ObjectiveFactory(organization=org, pathway=idle, cycle=cycle)
    older = ObjectiveFactory(organization=org, pathway=mixed)  # another cycle
    kr = {
        "a": KeyResultFactory(organization=org, objective=first, target_value=10, weight=2),
        "b": KeyResultFactory(
            organization=org, objective=first, start_value=40, target_value=20, weight=1
        ),
        "zero": KeyResultFactory(organization=org, objective=first, target_value=10, weight=0),
        "moved": KeyResultFactory(  # no check-ins, current differs: started all along
            organization=org, objective=second, target_value=8, current_value=6
        ),
        "c": KeyResultFactory(organization=org, objective=second, target_value=5),
        "late": KeyResultFactory(organization=org, objective=third, target_value=10),
        "o1": KeyResultFactory(organization=org, objective=only, target_value=100),
        "o2": KeyResultFactory(organization=org, objective=only, target_value=50, weight=3),
        "flat": KeyResultFactory(  # its target is its start: never counts
            organization=org, objective=unmeasured, start_value=5, target_value=5
        ),
        "old": KeyResultFactory(organization=org, objective=older, target_value=10),
    }
    for name, value, moment in (
        ("a", 3, at(-5)),
        ("a", 5, at(-2)),
        ("a", 12, at(4)),  # past the target: 100%
        ("a", 4, at(4)),  # the same moment, written later: this one counts
        ("b", 30, at(6)),
        ("b", 50, at(9)),  # the wrong way: 0%
        ("zero", 10, at(7)),
        ("c", 2, at(9)),
        ("c", 4, at(12)),
        ("late", 9, NOW + datetime.timedelta(days=2)),  # after now: not history
        ("o1", 30, at(3)),
        ("o2", 10, at(8)),
        ("o2", 40, at(11)),
        ("flat", 6, at(10)),
        ("old", 10, at(5)),
    ):
        CheckInFactory(organization=org, key_result=kr[name], value=value, checked_in_at=moment)
    CheckInFactory(
        organization=org, key_result=kr["c"], value=5, checked_in_at=at(13), archived_at=NOW
    )
    CheckInFactory(organization=other_org, key_result=kr["c"], value=5, checked_in_at=at(14))
    return {"mixed": mixed, "single": single, "idle": idle}


@pytest.mark.parametrize(
    "start, now",
    [
        (CYCLE_START, NOW),
        (CYCLE_START, at(9)),  # now on a check-in's moment
        (None, NOW),  # no cycle
        (at(60), NOW),  # a cycle that has not begun
    ],
)
def test_the_dashboards_series_from_the_database_are_the_replayed_ones(
    org, cycle, tangled_plan, start, now
):
    chart_cycle = None if start is None else cycle
    computed, any_check_ins = history.pathways_progress_series(
        organization=org, cycle=chart_cycle, start=start, now=now
    )
    replayed = _replayed(org, chart_cycle, start, now)
    assert any_check_ins
    assert tangled_plan["single"].pk in replayed and tangled_plan["mixed"].pk in replayed
    _assert_same_series(computed, replayed)


def test_the_dashboards_series_without_check_ins(org, cycle):
    objective = ObjectiveFactory(organization=org, pathway=PathwayFactory(organization=org))
    objective.cycle = cycle
    objective.save()
    KeyResultFactory(organization=org, objective=objective, target_value=10, current_value=4)
    computed, any_check_ins = history.pathways_progress_series(
        organization=org, cycle=cycle, start=CYCLE_START, now=NOW
    )
    assert not any_check_ins
    _assert_same_series(computed, _replayed(org, cycle, CYCLE_START, NOW))
    assert history.pathways_progress_series(
        organization=org, cycle=CycleFactory(organization=org), start=CYCLE_START, now=NOW
    ) == ({}, False)
