"""`manage.py seed_demo`: the demo organizations, their mess, idempotence and tenancy."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from okrs.demo import DEMO_PASSWORD, MESS, URL
from okrs.models import (
    CheckIn,
    Cycle,
    KeyResult,
    MetricType,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Membership, Organization, Person, Role

MODELS = (
    Organization,
    Membership,
    Person,
    Cycle,
    Pathway,
    Objective,
    KeyResult,
    CheckIn,
    Project,
    Task,
)


def snapshot() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["User"] = get_user_model().objects.count()
    counts["ProjectObjective"] = Project.objectives.through.objects.count()
    return counts


def run_seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db, settings):
    # A fast hasher: the test is about the data, not about PBKDF2's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    first = run_seed()
    after_first = snapshot()
    second = run_seed()
    return {"first": first, "second": second, "after_first": after_first}


@pytest.fixture
def main(seeded):
    return Organization.objects.get(slug="northwind")


@pytest.fixture
def labs(seeded):
    return Organization.objects.get(slug="northwind-labs")


def test_main_organization_matches_the_reference_shape(main):
    assert main.name == "Northwind Health"
    assert Pathway.objects.for_org(main).count() == 4
    assert Project.objects.for_org(main).count() == 44
    assert Task.objects.for_org(main).count() >= 200
    assert Person.objects.for_org(main).count() >= 25
    statuses = set(Project.objects.for_org(main).values_list("status", flat=True))
    assert statuses == set(ProjectStatus.values)
    task_statuses = set(Task.objects.for_org(main).values_list("status", flat=True))
    assert task_statuses == set(TaskStatus.values)
    metric_types = set(KeyResult.objects.for_org(main).values_list("metric_type", flat=True))
    assert metric_types == set(MetricType.values)


def test_cycles_are_the_previous_and_current_quarter(main):
    today = timezone.localdate()
    cycles = list(Cycle.objects.for_org(main).order_by("starts_on"))
    assert len(cycles) == 2
    previous, current = cycles
    assert current.starts_on <= today <= current.ends_on
    assert current.name == f"{today.year} Q{(today.month - 1) // 3 + 1}"
    assert previous.ends_on == current.starts_on - datetime.timedelta(days=1)
    for pathway in Pathway.objects.for_org(main):
        in_current = Objective.objects.for_org(main).filter(pathway=pathway, cycle=current)
        assert 3 <= in_current.count() <= 4
        assert Objective.objects.for_org(main).filter(pathway=pathway, cycle=previous).exists()


def test_second_run_changes_nothing(seeded):
    assert seeded["after_first"] == snapshot()
    assert "created" in seeded["first"]
    assert "already there" in seeded["second"]


def test_prints_the_address_and_the_logins(seeded):
    for output in (seeded["first"], seeded["second"]):
        assert URL in output
        assert "username demo" in output
        assert DEMO_PASSWORD in output
        assert "username olivia" in output
        assert "username victor" in output


def test_demo_user_signs_in_and_belongs_to_both_organizations(main, labs):
    user = authenticate(username="demo", password=DEMO_PASSWORD)
    assert user is not None
    assert user.email == "demo@example.org"
    roles = dict(Membership.objects.filter(user=user).values_list("organization__slug", "role"))
    assert roles == {"northwind": Role.ADMIN, "northwind-labs": Role.MEMBER}
    assert authenticate(username="olivia", password=DEMO_PASSWORD) is not None
    assert Membership.objects.get(user__username="olivia", organization=main).role == Role.OWNER
    assert Membership.objects.get(user__username="victor", organization=main).role == Role.VIEWER


def test_demo_user_has_work_in_both_organizations(main, labs):
    user = get_user_model().objects.get(username="demo")
    for organization in (main, labs):
        person = Person.objects.for_org(organization).get(user=user)
        open_tasks = Task.objects.for_org(organization).filter(assignee=person)
        assert open_tasks.exclude(status=TaskStatus.DONE).exists()
        assert KeyResult.objects.for_org(organization).filter(owner=person).exists()


def test_a_rerun_restores_missing_demo_users_without_touching_the_data(seeded, main):
    before = Task.objects.for_org(main).count()
    get_user_model().objects.filter(username="demo").delete()
    output = run_seed()
    user = authenticate(username="demo", password=DEMO_PASSWORD)
    assert user is not None
    assert Membership.objects.filter(user=user).count() == 2
    assert Person.objects.filter(user=user).count() == 2  # the old directory entries, relinked
    assert Task.objects.for_org(main).count() == before
    assert "username demo" in output


def test_main_organization_carries_the_mess(main):
    today = timezone.localdate()
    now = timezone.now()

    stale = Project.objects.for_org(main).filter(
        status=ProjectStatus.ACTIVE, last_activity_at__lt=now - datetime.timedelta(days=90)
    )
    assert stale.count() == MESS.stale_active_projects
    assert not stale.filter(last_activity_at__lt=now - datetime.timedelta(days=8 * 31)).exists()

    departed = Person.objects.for_org(main).filter(departed_on__isnull=False)
    assert sorted(departed.values_list("name", flat=True)) == sorted(MESS.departed_people)
    assert not departed.filter(departed_on__gte=today).exists()
    for person in departed:
        assert (
            Task.objects.for_org(main)
            .filter(assignee=person)
            .exclude(status=TaskStatus.DONE)
            .exists()
        )

    one, other = (
        Objective.objects.for_org(main).get(title=title) for title in MESS.near_duplicate_objectives
    )
    assert one.owner_id and other.owner_id and one.owner_id != other.owner_id
    assert one.pathway_id != other.pathway_id

    empty = Objective.objects.for_org(main).get(title=MESS.objective_without_key_results)
    assert not empty.key_results.exists()

    for title in MESS.key_results_without_check_ins:
        key_result = KeyResult.objects.for_org(main).get(title=title)
        assert not key_result.check_ins.exists()
        assert key_result.current_value == key_result.start_value


def test_key_results_have_weeks_of_history_ending_at_their_current_value(main, labs):
    latest = CheckIn.objects.filter(key_result=OuterRef("pk")).order_by("-checked_in_at", "-pk")
    key_results = KeyResult.objects.filter(check_ins__isnull=False).distinct()
    key_results = key_results.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_confidence=Subquery(latest.values("confidence")[:1]),
    )
    assert key_results.count() >= 50
    for key_result in key_results:
        assert key_result.current_value == key_result.latest_value, key_result.title
        assert key_result.confidence == key_result.latest_confidence, key_result.title
        assert key_result.check_ins.count() >= 8, key_result.title
        assert not key_result.check_ins.filter(checked_in_at__gt=timezone.now()).exists()
    decreasing = KeyResult.objects.for_org(main).filter(target_value__lt=F("start_value"))
    assert decreasing.exists()
    yes_no = KeyResult.objects.filter(metric_type=MetricType.YES_NO)
    assert not yes_no.exclude(start_value=0, target_value=1).exists()
    assert not CheckIn.objects.filter(confidence__gt=10).exists()


def test_task_dates_are_consistent(main):
    tasks = Task.objects.for_org(main)
    assert not tasks.filter(status=TaskStatus.DONE, completed_at__isnull=True).exists()
    assert not tasks.exclude(status=TaskStatus.DONE).filter(completed_at__isnull=False).exists()
    overdue = tasks.exclude(status=TaskStatus.DONE).filter(due_on__lt=timezone.localdate())
    assert overdue.count() >= 10


def test_second_organization(labs):
    assert labs.name == "Northwind Labs"
    assert Pathway.objects.for_org(labs).count() == 2
    assert Cycle.objects.for_org(labs).count() == 1
    assert Project.objects.for_org(labs).count() == 8
    assert Task.objects.for_org(labs).count() == 30
    assert 8 <= Person.objects.for_org(labs).count() <= 12
    assert CheckIn.objects.for_org(labs).exists()


def test_every_row_belongs_to_the_organization_of_what_it_points_to(seeded):
    """Tenancy integrity: no row links across organizations, whichever link it is."""
    links = {
        Objective: ("pathway", "cycle", "owner", "parent"),
        KeyResult: ("objective", "owner"),
        CheckIn: ("key_result",),
        Project: ("pathway", "owner"),
        Task: ("project", "assignee"),
    }
    for model, fields in links.items():
        for name in fields:
            crossing = (
                model.objects.filter(**{f"{name}__isnull": False})
                .exclude(organization=F(f"{name}__organization"))
                .count()
            )
            assert crossing == 0, f"{model.__name__}.{name} crosses organizations"

    through = Project.objectives.through.objects
    assert not through.exclude(project__organization=F("objective__organization")).exists()
    # A check-in's author, a directory entry's user: members of that organization.
    for person in Person.objects.filter(user__isnull=False):
        assert Membership.objects.filter(
            user=person.user, organization=person.organization
        ).exists()
    for check_in in CheckIn.objects.filter(author__isnull=False).select_related("key_result"):
        assert Membership.objects.filter(
            user_id=check_in.author_id, organization_id=check_in.organization_id
        ).exists()


ADMIN_PAGES = (
    ("orgs", "organization", Organization),
    ("orgs", "membership", Membership),
    ("orgs", "person", Person),
    ("okrs", "cycle", Cycle),
    ("okrs", "pathway", Pathway),
    ("okrs", "objective", Objective),
    ("okrs", "keyresult", KeyResult),
    ("okrs", "checkin", CheckIn),
    ("okrs", "project", Project),
    ("okrs", "task", Task),
)


def test_admin_lists_and_forms_render_on_the_demo_data(main, admin_client):
    for app, name, model in ADMIN_PAGES:
        base = f"/admin/{app}/{name}/"
        urls = [base, f"{base}add/", f"{base}{model.objects.first().pk}/change/"]
        if model is not Organization:
            urls.append(f"{base}?organization__id__exact={main.pk}")
        for url in urls:
            assert admin_client.get(url).status_code == 200, url
    stale = admin_client.get("/admin/okrs/project/?stale=yes")
    assert stale.context["cl"].result_count == MESS.stale_active_projects
    empty = admin_client.get(
        f"/admin/okrs/objective/?organization__id__exact={main.pk}&has_key_results=no"
    )
    assert [o.title for o in empty.context["cl"].result_list] == [
        MESS.objective_without_key_results
    ]


def test_admin_refuses_a_project_linked_to_another_organizations_objective(
    main, labs, admin_client
):
    project = Project.objects.for_org(main).first()
    foreign = Objective.objects.for_org(labs).first()
    response = admin_client.post(
        f"/admin/okrs/project/{project.pk}/change/",
        {
            "organization": main.pk,
            "name": project.name,
            "status": project.status,
            "objectives": [foreign.pk],
            "last_activity_at_0": "2026-01-01",
            "last_activity_at_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    assert "objectives" in response.context["adminform"].form.errors
    assert not project.objectives.filter(pk=foreign.pk).exists()
