"""The dashboard's cycle, "as of" day, trends, health counts and activity feed."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from okrs import progress, rollups, selectors, services
from okrs.history import KeyResultHistory
from okrs.models import KeyResult, TaskStatus
from orgs import services as org_services
from orgs.models import Activity, Membership, Role
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - days * DAY


@pytest.fixture
def plan(org):
    """One pathway, one objective in a cycle that is half gone, one key result 0 -> 100 with
    check-ins 20 days ago (20) and 3 days ago (60)."""
    today = timezone.localdate()
    cycle = CycleFactory(
        organization=org, starts_on=today - 45 * DAY, ends_on=today + 45 * DAY, name="Q now"
    )
    pathway = PathwayFactory(organization=org, name="Access")
    objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title="Wait less")
    kr = KeyResultFactory(
        organization=org, objective=objective, start_value=0, target_value=100, current_value=60
    )
    CheckInFactory(organization=org, key_result=kr, value=20, checked_in_at=days_ago(20))
    CheckInFactory(organization=org, key_result=kr, value=60, checked_in_at=days_ago(3))
    return {"cycle": cycle, "pathway": pathway, "objective": objective, "kr": kr}


def value_as_of(kr: KeyResult, moment: datetime.datetime) -> float:
    return (
        KeyResult.objects.unscoped(include_archived=True)
        .filter(pk=kr.pk)
        .annotate(value_then=rollups.key_result_value(moment))
        .get()
        .value_then
    )


def test_a_key_result_as_of_a_day_is_its_latest_check_in_by_then(org, plan):
    kr = plan["kr"]
    assert value_as_of(kr, days_ago(1)) == 60
    assert value_as_of(kr, days_ago(10)) == 20
    assert value_as_of(kr, days_ago(30)) == 0  # before its first check-in: its start
    # Archived (deleted in Airtable) check-ins are not history.
    kr.check_ins.filter(value=60).update(archived_at=timezone.now())
    assert value_as_of(kr, days_ago(1)) == 20
    # No check-ins at all: its current value, there being no history to go on.
    lone = KeyResultFactory(organization=org, objective=plan["objective"], current_value=7)
    assert value_as_of(lone, days_ago(30)) == 7


def test_pathway_card_shows_the_trend_since_last_week(org, plan):
    dashboard = selectors.dashboard(organization=org)
    [pathway] = dashboard.pathways
    assert pathway.progress == pytest.approx(0.6)
    assert pathway.progress_week_before == pytest.approx(0.2)
    assert pathway.trend == pytest.approx(0.4)


def test_pathway_card_counts_objectives_by_health(org, plan):
    cycle, pathway = plan["cycle"], plan["pathway"]  # half the cycle gone
    for title, current, confidence in [
        ("behind", 30, 7),  # 20 points behind: at risk
        ("far behind", 5, 7),  # off track
        ("unsure", 60, 2),  # on pace but confidence 2: off track
        ("no key results", None, None),
        ("new", 0, None),  # a key result with no check-in and no value yet: not started
    ]:
        objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title=title)
        if current is not None:
            KeyResultFactory(
                organization=org, objective=objective, current_value=current, confidence=confidence
            )
    # Another (earlier) cycle's objective is not counted.
    today = timezone.localdate()
    earlier = CycleFactory(organization=org, starts_on=today - 200 * DAY, ends_on=today - 110 * DAY)
    ObjectiveFactory(organization=org, pathway=pathway, cycle=earlier)

    dashboard = selectors.dashboard(organization=org)
    [card] = dashboard.pathways
    assert card.health_counts == {
        progress.Health.ON_TRACK: 1,  # "Wait less" at 60%
        progress.Health.AT_RISK: 1,
        progress.Health.OFF_TRACK: 2,
        progress.Health.UNKNOWN: 1,
        progress.Health.NOT_STARTED: 1,
    }
    # The furthest behind first, each with its health (read once with the pathways' figures).
    assert [(o.title, o.health) for o in dashboard.at_risk] == [
        ("far behind", progress.Health.OFF_TRACK),
        ("behind", progress.Health.AT_RISK),
        ("unsure", progress.Health.OFF_TRACK),
    ]
    assert dashboard.at_risk_count == 3


def test_as_of_a_past_day_rebuilds_progress_and_tasks(org, plan):
    project = ProjectFactory(organization=org, pathway=plan["pathway"])
    due = timezone.localdate() - 15 * DAY
    TaskFactory(
        organization=org,
        project=project,
        title="Done last week",
        status=TaskStatus.DONE,
        completed_at=days_ago(7),
        due_on=due,
    )
    TaskFactory(organization=org, project=project, title="Still open", due_on=due)

    now = selectors.dashboard(organization=org)
    assert now.overdue_count == 1 and now.totals["open_task_count"] == 1

    then = selectors.dashboard(organization=org, as_of=timezone.localdate() - 10 * DAY)
    assert then.pathways[0].progress == pytest.approx(0.2)
    assert then.pathways[0].trend == 0  # the week before that saw no check-in
    assert then.overdue_count == 2  # both were overdue and open ten days ago
    assert then.totals["open_task_count"] == 2
    assert then.elapsed < now.elapsed


def test_dashboard_page_for_a_past_day_and_a_chosen_cycle(owner_client, org, plan):
    client, url = owner_client, reverse("org_home", args=[org.slug])
    today = timezone.localdate()
    earlier = CycleFactory(
        organization=org, name="Q before", starts_on=today - 200 * DAY, ends_on=today - 110 * DAY
    )
    past = (timezone.localdate() - 10 * DAY).isoformat()

    page = client.get(url, {"as_of": past}).content.decode()
    assert "as it stood at the end of" in page and "Live updates are off" in page
    assert "every 20s" not in page and "sse-connect" not in page  # a past day does not change
    assert "20%" in page

    page = client.get(url, {"cycle": earlier.pk}).content.decode()
    assert f'<option value="{earlier.pk}" selected>Q before</option>' in page
    assert "No pathways yet." not in page and "Wait less" not in page  # not in that cycle


def test_dashboard_refuses_bad_view_parameters_clearly(owner_client, org, other_org, plan):
    client, url = owner_client, reverse("org_home", args=[org.slug])
    page = client.get(url, {"as_of": "last tuesday"}).content.decode()
    assert "“last tuesday” is not a date (use YYYY-MM-DD); showing today instead." in page
    future = (timezone.localdate() + 3 * DAY).isoformat()
    assert "has not happened yet" in client.get(url, {"as_of": future}).content.decode()
    # Another organization's cycle is not found here, nor is garbage.
    assert client.get(url, {"cycle": CycleFactory(organization=other_org).pk}).status_code == 404
    assert client.get(url, {"cycle": "x"}).status_code == 404


def test_activity_feed_says_who_changed_what_and_links_to_it(client, org, plan):
    admin, member = UserFactory(username="ada"), UserFactory(username="max")
    Membership.objects.create(user=admin, organization=org, role=Role.ADMIN)
    Membership.objects.create(user=member, organization=org, role=Role.MEMBER)
    kr, objective = plan["kr"], plan["objective"]
    task = TaskFactory(organization=org, project=ProjectFactory(organization=org), title="Hire")

    services.check_in_create(key_result=kr, value=75, confidence=6, author=member)
    services.task_set_status(task=task, status=TaskStatus.DONE, actor=member)
    objective.title = "Wait much less"
    org_services.record_save(record=objective, actor=admin)
    person = org_services.person_save(
        person=org_services.Person(organization=org, name="Lee"), actor=admin
    )

    entries = list(Activity.objects.for_org(org))
    assert [(e.actor.username, e.verb, e.subject, e.detail) for e in entries] == [
        ("ada", "added", "Lee", ""),
        ("ada", "edited", "Wait much less", ""),
        ("max", "moved", "Hire", "to Done"),
        ("max", "checked in on", kr.title, "75"),
    ]
    client.force_login(member)
    page = client.get(reverse("org_home", args=[org.slug])).content.decode()
    objective_url = reverse("objective_detail", args=[org.slug, objective.pk])
    assert f'<a href="{objective_url}#kr-{kr.pk}">{kr.title}</a>' in page
    project_url = reverse("project_detail", args=[org.slug, task.project_id])
    assert f'<a href="{project_url}#task-{task.pk}">Hire</a>' in page
    # The person page is for admins: members see the entry without a link.
    assert reverse("person_edit", args=[org.slug, person.pk]) not in page
    client.force_login(admin)
    page = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert reverse("person_edit", args=[org.slug, person.pk]) in page


def test_activity_of_another_organization_never_shows(owner_client, org, other_org):
    stranger_objective = ObjectiveFactory(organization=other_org, title="Their secret plan")
    org_services.record_save(record=stranger_objective, actor=None)
    page = owner_client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Their secret plan" not in page and "No activity yet." in page


def test_a_rolled_back_change_leaves_no_activity(org, plan):
    """The feed line is written in the change's transaction: when the caller's transaction
    fails after the change, both go."""
    task = TaskFactory(organization=org, project=ProjectFactory(organization=org))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.task_set_status(task=task, status=TaskStatus.DONE, actor=None)
        assert Activity.objects.for_org(org).count() == 1
        raise RuntimeError("the caller fails after the change")
    assert not Activity.objects.for_org(org).exists()
    task.refresh_from_db()
    assert task.status == TaskStatus.TODO


def test_the_overdue_count_leads_to_those_tasks(owner_client, org, other_org, plan):
    due = timezone.localdate() - 5 * DAY
    project = ProjectFactory(organization=org, name="Clinics")
    late = [
        TaskFactory(organization=org, project=project, title=f"Late {i}", due_on=due)
        for i in range(3)
    ]
    TaskFactory(organization=org, project=project, title="In time", due_on=due + 30 * DAY)
    TaskFactory(
        organization=org, project=project, title="Done late", due_on=due, status=TaskStatus.DONE
    )
    TaskFactory(organization=other_org, title="Their late task", due_on=due)

    dashboard_url = reverse("org_home", args=[org.slug])
    overdue_url = reverse("overdue_task_list", args=[org.slug])
    assert f'href="{overdue_url}">3</a>' in owner_client.get(dashboard_url).content.decode()

    page = owner_client.get(overdue_url, {"page": "garbage"}).content.decode()
    assert "3 tasks overdue" in page
    for task in late:
        assert f"#task-{task.pk}" in page
    assert "In time" not in page and "Done late" not in page and "Their late task" not in page

    # As of a day before they fell due, none was late.
    before = (due - 2 * DAY).isoformat()
    assert "0 tasks overdue" in owner_client.get(overdue_url, {"as_of": before}).content.decode()


def test_sql_and_python_history_agree_on_every_key_results_value(org, plan):
    """`rollups.key_result_value(as_of)` (the dashboard) and `history.KeyResultHistory` (the
    charts) state one rule twice; they must give the same value at every moment."""
    kr = plan["kr"]
    CheckInFactory(organization=org, key_result=kr, value=45, checked_in_at=days_ago(10))
    CheckInFactory(
        organization=org,
        key_result=kr,
        value=99,
        checked_in_at=days_ago(5),
        archived_at=days_ago(1),
    )
    lone = KeyResultFactory(organization=org, objective=plan["objective"], current_value=7)
    for key_result in (kr, lone):
        live = key_result.check_ins.filter(archived_at__isnull=True).order_by("checked_in_at")
        python = KeyResultHistory(
            start_value=key_result.start_value,
            current_value=key_result.current_value,
            target_value=key_result.target_value,
            weight=key_result.weight,
            check_ins=[(c.checked_in_at, c.value) for c in live],
        )
        for days in (30, 20, 15, 10, 7, 5, 3, 1, 0):
            moment = days_ago(days)
            assert value_as_of(key_result, moment) == python.value_at(moment), (key_result, days)


def test_the_dashboard_is_computed_once_per_plan_change(
    owner_client,
    org,
    plan,
    clock,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
    session_queries,
):
    """One check-in refreshes every open dashboard; they share one computation, and any change
    to the plan (through a service, or any other save) retires it."""
    url = reverse("org_home", args=[org.slug])
    owner_client.get(url)
    with django_assert_num_queries(1 + session_queries):  # the user with their memberships
        assert "60%" in owner_client.get(url).content.decode()
    # The refresh each open dashboard fetches on a change comes from the same rendering.
    fragment_url = f"{url}?fragment=live"
    with django_assert_num_queries(1 + session_queries):
        assert "60%" in owner_client.get(fragment_url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.check_in_create(key_result=plan["kr"], value=90, confidence=8, author=None)
    assert "90%" in owner_client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        PathwayFactory(organization=org, name="Brand new pathway")  # not through a service
    assert "Brand new pathway" in owner_client.get(url).content.decode()


def test_an_open_objective_page_refetches_its_progress_and_chart(owner_client, org, plan):
    url = reverse("objective_detail", args=[org.slug, plan["objective"].pk])
    page = owner_client.get(url).content.decode()
    assert 'hx-get="' + url + '?fragment=live"' in page
    assert 'hx-trigger="every 20s"' in page  # the test client is WSGI: no stream, so it polls

    services.check_in_create(key_result=plan["kr"], value=80, confidence=8, author=None)
    fragment = owner_client.get(url, {"fragment": "live"}).content.decode()
    assert "<html" not in fragment
    assert 'id="objective-progress" class="card summary" hx-swap-oob="true"' in fragment
    assert 'id="objective-chart"' in fragment and "80%" in fragment


def test_every_dashboard_number_leads_to_its_records(owner_client, org, plan):
    page = owner_client.get(reverse("org_home", args=[org.slug])).content.decode()
    pathway = reverse("pathway_detail", args=[org.slug, plan["pathway"].pk])
    # A pathway's progress and its objective count lead to its objectives and key results.
    assert page.count(f'href="{pathway}#objectives-h"') == 2
    assert f'href="{reverse("project_list", args=[org.slug])}"' in page
    assert f'href="{reverse("overdue_task_list", args=[org.slug])}"' in page


def test_a_new_objective_is_not_started_and_leaves_its_pathway_mean_alone(org, plan):
    """Issue 14: an objective whose key results have no value yet is "not started", not off
    track, and its pathway's progress is the mean of the others until one has a value."""
    cycle, pathway = plan["cycle"], plan["pathway"]
    before = selectors.dashboard(organization=org).pathways[0].progress
    new = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title="Brand new")
    kr = KeyResultFactory(organization=org, objective=new, target_value=10)

    dashboard = selectors.dashboard(organization=org)
    [card] = dashboard.pathways
    assert card.progress == pytest.approx(before)
    assert card.health_counts[progress.Health.NOT_STARTED] == 1
    assert card.health_counts[progress.Health.OFF_TRACK] == 0
    assert "Brand new" not in {o.title for o in dashboard.at_risk}
    page = selectors.objective_page(organization=org, objective_id=new.pk)
    assert page.progress is None and page.health == progress.Health.NOT_STARTED
    assert page.pathway_progress == pytest.approx(before)
    assert page.live_key_results[0].started is False

    # Its first check-in (at its start value: a real 0%) starts it; now it counts.
    services.check_in_create(key_result=kr, value=0, confidence=None, author=None)
    dashboard = selectors.dashboard(organization=org)
    [card] = dashboard.pathways
    assert card.progress == pytest.approx(before / 2)
    assert card.health_counts[progress.Health.NOT_STARTED] == 0
    assert "Brand new" in {o.title for o in dashboard.at_risk}
    page = selectors.objective_page(organization=org, objective_id=new.pk)
    assert page.progress == 0 and page.live_key_results[0].started is True


def test_a_synced_value_without_check_ins_starts_a_key_result(org, plan):
    new = ObjectiveFactory(organization=org, pathway=plan["pathway"], cycle=plan["cycle"])
    KeyResultFactory(organization=org, objective=new, target_value=10, current_value=5)
    page = selectors.objective_page(organization=org, objective_id=new.pk)
    assert page.progress == pytest.approx(0.5)
    assert page.health != progress.Health.NOT_STARTED
