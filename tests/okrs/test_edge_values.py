"""Dates and numbers at the edges of what the forms, the query parameters and the pages take.

The rule for dates (missionos.dates): 1900-01-01 to 2199-12-31 is kept everywhere, anything
else is refused where it comes in. For numbers: a key result's or a check-in's value keeps 4
places and at most 11 digits before the point (okrs.models.VALUE_MAX), what both databases
read back unchanged. Each test names what it proves; the sync's side is in
tests/sync/test_edge_values.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from missionos import dates
from okrs import progress, services
from okrs.charts import geometry
from okrs.models import VALUE_MAX, CheckIn, Cycle, KeyResult, Pathway, Project, Task
from orgs.models import Person
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
)
from tests.rows import every_row

pytestmark = pytest.mark.django_db

# Hypothesis runs many examples inside one test (one database transaction): the fixtures are
# the same for all of them on purpose.
DB_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"]


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def page_ok(client, address, params=None) -> str:
    response = client.get(address, params or {})
    assert response.status_code == 200, (address, params, response.status_code)
    return response.content.decode()


# --- Dates: one rule, one home --------------------------------------------------------------


def test_the_rule_keeps_its_bounds_and_refuses_a_day_past_either():
    assert dates.out_of_range(dates.EARLIEST) is None
    assert dates.out_of_range(dates.LATEST) is None
    assert dates.out_of_range(datetime.datetime(2199, 12, 31, 23, 59, tzinfo=datetime.UTC)) is None
    for day in (datetime.date.min, datetime.date(1899, 12, 31), datetime.date(2200, 1, 1)):
        assert "outside the dates MissionOS keeps" in dates.out_of_range(day)
    assert "0001-01-01" in dates.out_of_range(datetime.datetime.min)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("form", "field", "data"),
    [
        ("cycle_create", "starts_on", {"name": "Q", "ends_on": "2026-12-31"}),
        ("cycle_create", "ends_on", {"name": "Q", "starts_on": "1900-01-01"}),
        ("project_create", "starts_on", {"name": "P", "status": "active"}),
        ("project_create", "ends_on", {"name": "P", "status": "active"}),
        ("person_create", "departed_on", {"name": "Pat", "email": "pat@example.org"}),
    ],
)
def test_forms_refuse_a_date_outside_the_range_beside_its_field(
    owner_client, org, form, field, data, value
):
    response = owner_client.post(url(form, org), {**data, field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors[field]
    assert any("outside the dates MissionOS keeps (1 Jan 1900 to 31 Dec 2199)" in e for e in errors)
    assert not every_row(Cycle).exists() and not every_row(Project).exists()
    assert not every_row(Person).filter(name="Pat").exists()


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_a_task_due_outside_the_range_is_refused_on_create_and_edit(owner_client, org, value):
    project = ProjectFactory(organization=org)
    response = owner_client.post(
        url("task_create", org, project_id=project.pk),
        {"title": "T", "status": "todo", "due_on": value},
    )
    assert response.status_code == 400 and "due_on" in response.context["form"].errors
    task = TaskFactory(organization=org, project=project)
    response = owner_client.post(
        url("task_edit", org, task_id=task.pk), {"title": "T", "status": "todo", "due_on": value}
    )
    assert response.status_code == 400 and "due_on" in response.context["form"].errors
    task.refresh_from_db()
    assert task.due_on is None


def test_the_services_refuse_it_too(org):
    """The validator is on the model fields, so whoever writes through a service (a command,
    the admin) meets the same rule as a form."""
    from django.core.exceptions import ValidationError

    task = TaskFactory.build(organization=org, project=ProjectFactory(organization=org))
    task.due_on = datetime.date(9999, 12, 31)
    with pytest.raises(ValidationError, match="outside the dates"):
        services.task_save(task=task)
    kr = KeyResultFactory(organization=org)
    with pytest.raises(ValidationError, match="outside the dates"):
        services.check_in_create(
            key_result=kr,
            value=Decimal(1),
            confidence=None,
            author=None,
            checked_in_at=datetime.datetime(1, 1, 1, tzinfo=datetime.UTC),
        )


def test_every_page_renders_a_plan_dated_at_both_ends_of_the_range(client, org, member_of):
    """The widest plan the forms accept: a cycle and a project from 1 Jan 1900 to 31 Dec 2199,
    check-ins on both end days, tasks due on both. Charts add a day past the end and the
    dashboard goes back a week from an as-of day: all of that stays inside Python's dates."""
    user = member_of(org, "owner")
    me = PersonFactory(organization=org, user=user, departed_on=dates.EARLIEST)
    cycle = CycleFactory(organization=org, starts_on=dates.EARLIEST, ends_on=dates.LATEST)
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(organization=org, objective=objective, owner=me)
    for moment in (
        datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC),
        datetime.datetime(2199, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
    ):
        services.check_in_create(
            key_result=kr, value=Decimal(5), confidence=5, author=None, checked_in_at=moment
        )
    project = ProjectFactory(
        organization=org, pathway=objective.pathway, starts_on=dates.EARLIEST, ends_on=dates.LATEST
    )
    for due in (dates.EARLIEST, dates.LATEST):
        TaskFactory(organization=org, project=project, assignee=me, due_on=due)
    client.force_login(user)
    for address, params in [
        (url("org_home", org), {}),
        (url("org_home", org), {"as_of": "1900-01-01"}),
        (url("org_home", org), {"cycle": cycle.pk}),
        (url("pathway_detail", org, pathway_id=objective.pathway_id), {}),
        (url("objective_detail", org, objective_id=objective.pk), {}),
        (url("project_detail", org, project_id=project.pk), {}),
        (url("project_list", org), {}),
        (url("overdue_task_list", org), {}),
        (url("overdue_task_list", org), {"as_of": "1900-01-01"}),
        (reverse("my_work"), {}),
        (url("health_page", org), {}),
    ]:
        page_ok(client, address, params)


@given(
    start=st.dates(dates.EARLIEST, dates.LATEST),
    end=st.dates(dates.EARLIEST, dates.LATEST),
    points=st.lists(st.tuples(st.dates(dates.EARLIEST, dates.LATEST), st.floats(0, 1)), max_size=5),
    today=st.dates(dates.EARLIEST, dates.LATEST),
)
def test_chart_geometry_and_cycle_progress_hold_for_any_days_in_the_range(
    start, end, points, today
):
    """The charts' arithmetic (a day past the end, axis ticks, the today marker) and a cycle's
    elapsed share, for any days the rule lets in."""
    chart = geometry.line_chart(
        [geometry.Series("Progress", points)],
        start=start,
        end=end + datetime.timedelta(days=1),
        today=today,
    )
    assert chart.x_ticks and chart.summary
    assert 0.0 <= progress.elapsed_fraction(start, end, today) <= 1.0


# --- as_of and the other query parameters ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "note"),
    [
        ("0001-01-01", "1 Jan 1 is outside the dates MissionOS keeps"),
        ("1899-12-31", "outside the dates MissionOS keeps"),
        ("9999-12-31", "31 Dec 9999 is outside the dates MissionOS keeps"),
        ("2199-12-31", "has not happened yet"),
        ("10000-01-01", "is not a date"),
        ("2024-02-30", "is not a date"),
        ("-1", "is not a date"),
        ("9" * 5000, "is not a date"),
        ("\x00", "is not a date"),
        ("", None),
    ],
)
def test_as_of_at_the_edges_shows_today_with_a_note(owner_client, org, value, note):
    CycleFactory(organization=org)
    for name in ("org_home", "overdue_task_list"):
        page = page_ok(owner_client, url(name, org), {"as_of": value})
        if note:
            assert note in page, (name, value)


def test_as_of_the_earliest_day_kept_is_the_plan_then(owner_client, org):
    CycleFactory(organization=org)
    page = page_ok(owner_client, url("org_home", org), {"as_of": "1900-01-01"})
    assert "Showing the plan as it stood at the end of" in page and "1900" in page


QUERY_TEXT = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.dates().map(str),
    st.sampled_from(["", "0", "-1", "1e308", "NaN", str(2**63), str(2**64), "9" * 400, "1_0"]),
)


@DB_SETTINGS
@given(value=QUERY_TEXT)
@example(value=str(2**64))
def test_no_query_parameter_value_gives_a_500(owner_client, org, value):
    """Every date or number query parameter the pages read, with anything in it: the page, a
    note, or a 404 for an id that names nothing; never a server error."""
    cycle = Cycle.objects.for_org(org).first() or CycleFactory(organization=org)
    for name, params in [
        ("org_home", {"as_of": value}),
        ("org_home", {"cycle": value}),
        ("org_home", {"cycle": cycle.pk, "as_of": value, "fragment": "live"}),
        ("overdue_task_list", {"as_of": value, "page": value}),
        ("project_list", {"pathway": value, "owner": value, "page": value, "status": value}),
        ("project_list", {"q": value}),
        ("objective_create", {"pathway": value}),
        ("health_page", {"status": value, "kind": value, "severity": value}),
        ("health_fix", {"action": "reassign_tasks", "person": value, "to": value}),
        ("health_fix", {"action": "close_project", "project": value, "status": value}),
        ("health_fix", {"action": "merge", "model": "project", "ids": value, "survivor": value}),
    ]:
        response = owner_client.get(url(name, org), params)
        assert response.status_code in (200, 302, 404), (name, params, response.status_code)
        # A 404 only for an id that names nothing (a cycle, a person, a project).
        names_an_id = name == "health_fix" or (name == "org_home" and not params.get("as_of"))
        if not names_an_id:
            assert response.status_code in (200, 302), (name, params)


def _id_routes():
    """Every route with an integer in its path, as (name, the names of its integers)."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.converters import IntConverter

    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern) and entry.name:
                ints = [
                    k for k, c in entry.pattern.converters.items() if isinstance(c, IntConverter)
                ]
                if ints:
                    yield entry.name, ints

    return sorted(set((name, tuple(ints)) for name, ints in walk(get_resolver().url_patterns)))


@pytest.mark.parametrize("number", [2**63, 2**64, 10**30])
def test_an_id_past_64_bits_in_a_path_is_a_404_on_every_route(owner_client, org, number):
    """A URL's `<int:...>` takes any digits, and SQLite cannot be asked about an integer past
    64 bits; Django's lookups by id answer "none" for one (since 5.0), and this pins that every
    route still does: missing, like any id that names nothing. (A lookup through a foreign key,
    `pathway_id=`, has no such guard: the query parameters above are bounded for it.)"""
    routes = _id_routes()
    assert len(routes) > 20
    for name, ints in routes:
        kwargs = dict.fromkeys(ints, number)
        try:
            address = reverse(name, kwargs={"org_slug": org.slug, **kwargs})
        except Exception:  # a route outside an organization
            address = reverse(name, kwargs=kwargs)
        for method in (owner_client.get, owner_client.post):
            status = method(address).status_code
            assert status in (404, 405), (name, method.__name__, status)


# --- Numbers ---------------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "1e308",
    "-1e308",
    "1E+20",
    "100000000000",  # 12 digits before the point
    "-100000000000",
    "99999999999999.9999",  # fits the column, but SQLite reads it back as 10^14: a 500
    "0.00001",  # more places than kept
    "1" * 40,
    "0x10",
    "1,5",
]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
@pytest.mark.parametrize("field", ["start_value", "target_value"])
def test_the_key_result_form_refuses_numbers_past_the_edges_beside_the_field(
    owner_client, org, field, value
):
    objective = ObjectiveFactory(organization=org)
    data = {"title": "K", "metric_type": "number", "start_value": "0", "target_value": "10"}
    data["weight"] = "1"
    response = owner_client.post(
        url("key_result_create", org, objective_id=objective.pk), {**data, field: value}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not every_row(KeyResult).exists()


@pytest.mark.parametrize("value", ["-1", "-0.01", "10000", "1e308", "NaN", "Infinity", "0.001"])
def test_the_key_result_form_refuses_weights_past_the_edges(owner_client, org, value):
    objective = ObjectiveFactory(organization=org)
    data = {"title": "K", "metric_type": "number", "start_value": "0", "target_value": "10"}
    response = owner_client.post(
        url("key_result_create", org, objective_id=objective.pk), {**data, "weight": value}
    )
    assert response.status_code == 400 and response.context["form"].errors["weight"]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_the_check_in_form_refuses_numbers_past_the_edges_beside_the_field(
    owner_client, org, value
):
    kr = KeyResultFactory(organization=org)
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = owner_client.post(
            url("check_in_create", org, key_result_id=kr.pk), {"value": value}, **htmx
        )
        assert response.status_code == (200 if htmx else 400)
        assert (
            'class="field-error"' in response.content.decode()
            or response.context["key_result"].check_in_form.errors["value"]
        )
    assert not every_row(CheckIn).exists()


@pytest.mark.parametrize("value", ["11", "-1", "99999999999999999999", "NaN", "1e3"])
def test_a_confidence_off_the_scale_is_refused(owner_client, org, value):
    kr = KeyResultFactory(organization=org)
    response = owner_client.post(
        url("check_in_create", org, key_result_id=kr.pk), {"value": "1", "confidence": value}
    )
    assert response.status_code == 400 and not every_row(CheckIn).exists()


def test_a_pathway_position_past_a_smallint_is_refused_on_every_database(owner_client, org):
    """Postgres' smallint holds 32767; SQLite would store 40000 and the same plan would not
    load into Postgres: refused on both, beside the field."""
    response = owner_client.post(url("pathway_create", org), {"name": "P", "position": "40000"})
    assert response.status_code == 400 and response.context["form"].errors["position"]
    assert not every_row(Pathway).exists()


@pytest.mark.parametrize(
    ("start", "target", "current"),
    [
        (-VALUE_MAX, VALUE_MAX, VALUE_MAX),  # the widest range
        (VALUE_MAX, -VALUE_MAX, Decimal(0)),  # the widest decreasing one
        (Decimal(0), Decimal("0.0001"), -VALUE_MAX),  # the narrowest, overshot backwards
        (Decimal("-0"), Decimal("1"), Decimal("-0")),  # negative zero
    ],
)
def test_values_at_the_edges_read_back_unchanged_and_every_page_renders(
    client, org, member_of, start, target, current
):
    user = member_of(org, "owner")
    me = PersonFactory(organization=org, user=user)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    kr = KeyResultFactory(
        organization=org,
        objective=objective,
        owner=me,
        start_value=start,
        current_value=start,
        target_value=target,
        weight=Decimal("9999.99"),
    )
    KeyResultFactory(organization=org, objective=objective, weight=Decimal("0.01"))
    services.check_in_create(key_result=kr, value=current, confidence=0, author=None)
    stored = KeyResult.objects.for_org(org).get(pk=kr.pk)
    assert (stored.start_value, stored.target_value, stored.current_value) == (
        start,
        target,
        current,
    )
    client.force_login(user)
    for address in (
        url("org_home", org),
        url("pathway_detail", org, pathway_id=objective.pathway_id),
        url("objective_detail", org, objective_id=objective.pk),
        url("key_result_edit", org, key_result_id=kr.pk),
        reverse("my_work"),
        url("health_page", org),
    ):
        page = page_ok(client, address)
        assert "-0%" not in page and 'kr-current">-0<' not in page


NUMBER_TEXT = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers().map(str),
    st.decimals(min_value=-VALUE_MAX, max_value=VALUE_MAX, places=4).map(str),
    st.text(max_size=12),
)


@DB_SETTINGS
@given(start=NUMBER_TEXT, target=NUMBER_TEXT, value=NUMBER_TEXT)
@example(start="-0", target="1e-4", value="-99999999999.9999")
@example(start="0", target="99999999999999.9999", value="1")  # SQLite read it back as 10^14
@example(start="0", target="1", value="99999999999999.9999")
def test_whatever_the_forms_take_reads_back_and_renders(owner_client, org, start, target, value):
    """Any text in the key result form and the check-in form: refused beside the field (400),
    or stored as it reads back on this database, and the objective page still renders."""
    objective = objective_for(org)
    response = owner_client.post(
        url("key_result_create", org, objective_id=objective.pk),
        {"title": "K", "metric_type": "number", "start_value": start, "target_value": target}
        | {"weight": "1"},
    )
    assert response.status_code in (302, 400)
    kr = KeyResult.objects.for_org(org).filter(objective=objective).order_by("-pk").first()
    if kr is not None:
        response = owner_client.post(
            url("check_in_create", org, key_result_id=kr.pk), {"value": value}
        )
        assert response.status_code in (302, 400)
        kr.refresh_from_db()
        for number in (kr.start_value, kr.target_value, kr.current_value):
            assert abs(number) <= VALUE_MAX
    page_ok(owner_client, url("objective_detail", org, objective_id=objective.pk))
    page_ok(owner_client, url("org_home", org))


def objective_for(org):
    from okrs.models import Objective

    return Objective.objects.for_org(org).first() or ObjectiveFactory(
        organization=org, cycle=CycleFactory(organization=org)
    )


def test_progress_of_a_key_result_whose_target_is_its_start_is_unknown_not_a_crash(
    owner_client, org
):
    """Only the sync can leave one (the form refuses it): its progress is unknown, and the
    objective, pathway and dashboard pages render."""
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org))
    kr = KeyResultFactory(organization=org, objective=objective, start_value=5, target_value=5)
    CheckIn.objects.create(organization=org, key_result=kr, value=5, checked_in_at=timezone.now())
    assert progress.key_result_progress(5, 7, 5) is None
    for address in (
        url("org_home", org),
        url("objective_detail", org, objective_id=objective.pk),
        url("pathway_detail", org, pathway_id=objective.pathway_id),
    ):
        page_ok(owner_client, address)


# --- Records the sync leaves without a required link ----------------------------------------
# (built here with the link emptied the way the sync leaves it; tests/sync/test_edge_values.py
# builds them through a real sync run)


@pytest.fixture
def orphan_task(org):
    task = TaskFactory(organization=org, title="Lost task", due_on=datetime.date(2020, 1, 1))
    Task.objects.unscoped(include_archived=True).filter(pk=task.pk).update(project=None)
    task.refresh_from_db()
    return task


def test_a_task_without_a_project_can_be_edited_and_keeps_no_project(
    owner_client, org, orphan_task
):
    assignee = PersonFactory(organization=org)
    response = owner_client.post(
        url("task_edit", org, task_id=orphan_task.pk),
        {"title": "Found task", "status": "in_progress", "assignee": assignee.pk, "project": ""},
    )
    assert response.status_code == 302
    orphan_task.refresh_from_db()
    assert (orphan_task.title, orphan_task.status, orphan_task.assignee, orphan_task.project) == (
        "Found task",
        "in_progress",
        assignee,
        None,
    )


def test_a_task_without_a_project_can_be_put_in_one_from_its_edit_form(
    owner_client, org, other_org, orphan_task
):
    project = ProjectFactory(organization=org)
    form = page_ok(owner_client, url("task_edit", org, task_id=orphan_task.pk))
    assert "Its project is missing in Airtable" in form
    foreign = ProjectFactory(organization=other_org)
    data = {"title": "Lost task", "status": "todo"}
    response = owner_client.post(
        url("task_edit", org, task_id=orphan_task.pk), {**data, "project": foreign.pk}
    )
    assert response.status_code == 400 and response.context["form"].errors["project"]
    response = owner_client.post(
        url("task_edit", org, task_id=orphan_task.pk), {**data, "project": project.pk}
    )
    assert response.status_code == 302
    orphan_task.refresh_from_db()
    assert orphan_task.project == project
    # A task in a project is not offered another one.
    assert "Its project is missing" not in page_ok(
        owner_client, url("task_edit", org, task_id=orphan_task.pk)
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_a_task_without_a_project_can_be_moved(owner_client, org, orphan_task, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = owner_client.post(
        url("task_status", org, task_id=orphan_task.pk), {"status": "done"}, **headers
    )
    edit = url("task_edit", org, task_id=orphan_task.pk)
    if htmx:
        assert response.status_code == 200 and response["HX-Redirect"] == edit
    else:
        assert response.status_code == 302 and response["Location"] == edit
    orphan_task.refresh_from_db()
    assert orphan_task.status == "done" and orphan_task.completed_at is not None
    response = owner_client.post(
        url("task_status", org, task_id=orphan_task.pk), {"status": "nonsense"}, **headers
    )
    assert response.status_code in (200, 302)
    assert "Choose one of the listed statuses." in page_ok(owner_client, edit)


def test_pages_listing_a_task_without_a_project_link_to_its_edit_form(
    client, org, member_of, orphan_task
):
    user = member_of(org, "member")
    Task.objects.for_org(org).filter(pk=orphan_task.pk).update(
        assignee=PersonFactory(organization=org, user=user)
    )
    client.force_login(user)
    edit = url("task_edit", org, task_id=orphan_task.pk)
    for address in (url("org_home", org), url("overdue_task_list", org), reverse("my_work")):
        assert f'href="{edit}"' in page_ok(client, address), address
    viewer = member_of(org, "viewer")
    client.force_login(viewer)
    assert f'href="{edit}"' not in page_ok(client, url("overdue_task_list", org))


@pytest.fixture
def orphan_kr(org):
    kr = KeyResultFactory(organization=org, title="Lost KR")
    KeyResult.objects.unscoped(include_archived=True).filter(pk=kr.pk).update(objective=None)
    kr.refresh_from_db()
    return kr


def test_a_key_result_without_an_objective_can_be_edited(owner_client, org, orphan_kr):
    response = owner_client.post(
        url("key_result_edit", org, key_result_id=orphan_kr.pk),
        {
            "title": "Found KR",
            "metric_type": "number",
            "start_value": "0",
            "target_value": "50",
            "weight": "2",
        },
    )
    assert response.status_code == 302
    orphan_kr.refresh_from_db()
    assert (orphan_kr.title, orphan_kr.target_value, orphan_kr.objective) == (
        "Found KR",
        50,
        None,
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_a_key_result_without_an_objective_can_be_checked_in_on(owner_client, org, orphan_kr, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    address = url("check_in_create", org, key_result_id=orphan_kr.pk)
    response = owner_client.post(address, {"value": "42"}, **headers)
    assert response.status_code == (200 if htmx else 302)
    orphan_kr.refresh_from_db()
    assert orphan_kr.current_value == 42
    response = owner_client.post(address, {"value": "NaN"}, **headers)
    assert response.status_code == (200 if htmx else 302)
    assert "New value: Enter a number." in page_ok(owner_client, reverse("my_work"))
    assert CheckIn.objects.for_org(org).filter(key_result=orphan_kr).count() == 1


def test_an_objective_without_a_pathway_is_asked_for_one_beside_the_field(owner_client, org):
    objective = ObjectiveFactory(organization=org, title="Lost objective")
    from okrs.models import Objective

    Objective.objects.unscoped(include_archived=True).filter(pk=objective.pk).update(pathway=None)
    address = url("objective_edit", org, objective_id=objective.pk)
    assert page_ok(owner_client, address)
    response = owner_client.post(address, {"title": "Found objective"})
    assert response.status_code == 400
    assert response.context["form"].errors["pathway"] == ["This field is required."]
    pathway = PathwayFactory(organization=org)
    response = owner_client.post(address, {"title": "Found objective", "pathway": pathway.pk})
    assert response.status_code == 302
    objective.refresh_from_db()
    assert objective.pathway == pathway
