"""The sync at the edges: dates outside the ones MissionOS keeps (missionos.dates), numbers past
what a column keeps, and records left without a required link, through the real client and
the fake Airtable; then every page and endpoint that shows or changes such records."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from health import services as health_services
from missionos import dates
from okrs.models import VALUE_MAX, KeyResult, Objective, Project, Task, TaskStatus
from orgs.models import Person, Role
from sync.mapping.catalogue import Attr
from sync.models import SyncIssue
from sync.values import Converted, convert
from tests.sync.airtable_base import BASE_ID, T_KRS, T_OBJECTIVES, T_PROJECTS, T_TASKS
from tests.sync.test_sync import sync

pytestmark = pytest.mark.django_db

DATE, DATETIME, NUMBER = Attr("date"), Attr("datetime"), Attr("number")
KEPT = "a date outside the ones MissionOS keeps (1 Jan 1900 to 31 Dec 2199)"


# --- The conversion -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01",
        "1899-12-31",
        "2200-01-01",
        "9999-12-31",
        "1/1/1899",
        "31 December 9999",
        "0001-01-01T00:00:00+05:00",  # in UTC, year 0: the conversion used to overflow
        "9999-12-31T23:59:59-05:00",  # in UTC, year 10000
        "2199-12-31T23:30:00-05:00",  # in range where typed, 1 Jan 2200 in UTC (as kept)
    ],
)
@pytest.mark.parametrize("attr", [DATE, DATETIME])
def test_a_date_outside_the_range_is_a_problem_that_quotes_the_cell(attr, raw):
    assert convert(attr, raw) == Converted(None, f"{KEPT}: {raw!r}")


@pytest.mark.parametrize("raw", ["1900-01-01", "2199-12-31", "1900-01-01T00:00:00Z"])
def test_the_ends_of_the_range_are_kept(raw):
    assert convert(DATE, raw).problem is None
    assert convert(DATETIME, raw).problem is None


@given(
    moment=st.datetimes(timezones=st.timezones()).map(lambda m: m.isoformat()) | st.dates().map(str)
)
def test_any_date_converts_to_one_kept_or_to_a_problem(moment):
    for attr in (DATE, DATETIME):
        result = convert(attr, moment)
        if result.value is not None:
            assert dates.out_of_range(result.value) is None
        else:
            assert result.problem.startswith(KEPT), result.problem


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (1e308, "too large: 1e+308"),
        (-1e308, "too large: -1e+308"),
        ({"specialValue": "NaN"}, "formula error NaN"),
        ({"specialValue": "Infinity"}, "formula error Infinity"),
        ("NaN", "not a number: 'NaN'"),
        ("Infinity", "not a number: 'Infinity'"),
        ("1e308", "not a number: '1e308'"),
        (10**30, "too large: 1000000000000000000000000000000"),
    ],
)
def test_numbers_no_column_holds_are_problems(raw, problem):
    assert convert(NUMBER, raw) == Converted(None, problem)


# --- A whole run ----------------------------------------------------------------------------


@pytest.fixture
def edgy(fake, connection):
    """The test base with dates and numbers past the edges, and records without a link."""
    base = fake.bases[BASE_ID]
    tasks, projects, krs = base.table(T_TASKS), base.table(T_PROJECTS), base.table(T_KRS)
    ids = fake.ids
    tasks.update(ids["tasks"][0], {"fldTDUE000000001": "0001-01-01"})
    tasks.update(ids["tasks"][1], {"fldTDUE000000001": "9999-12-31"})
    projects.update(
        ids["projects"][0], {"fldJSTART0000001": "1899-12-31", "fldJEND000000001": "2200-01-01"}
    )
    krs.update(
        ids["krs"][0],
        {
            "fldKSTART0000001": -0.0,
            "fldKCURRENT00001": 123456789012,  # 12 digits: more than a value keeps
            "fldKTARGET000001": 1e308,
        },
    )
    krs.update(ids["krs"][1], {"fldKSTART0000001": 7, "fldKCURRENT00001": 7, "fldKTARGET000001": 7})
    krs.update(
        ids["krs"][2],
        {"fldKSTART0000001": -float(VALUE_MAX), "fldKTARGET000001": float(VALUE_MAX)},
    )
    # Left without a required link, as a base does when a linked record is deleted: the task
    # of a departed person (Jo Former: (p + t) % 3 == 2) and overdue, a key result, an objective.
    orphan_task = ids["tasks"][2]
    tasks.update(orphan_task, {"fldTPROJECT00001": [], "fldTDUE000000001": "2020-01-01"})
    krs.update(ids["krs"][3], {"fldKOBJECTIVE001": []})
    base.table(T_OBJECTIVES).update(ids["objectives"][3], {"fldOPATHWAY00001": []})
    run = sync(connection)
    return {"run": run, "ids": ids, "orphan_task": orphan_task}


def reasons(run, record_id) -> list[str]:
    return sorted(
        SyncIssue.objects.unscoped()
        .filter(run=run, record_id=record_id)
        .values_list("reason", flat=True)
    )


def test_out_of_range_dates_become_issues_and_the_rest_of_the_record_is_kept(edgy, org):
    run, ids = edgy["run"], edgy["ids"]
    for index, raw in ((0, "0001-01-01"), (1, "9999-12-31")):
        task = Task.objects.for_org(org).get(source_record_id=ids["tasks"][index])
        assert task.due_on is None
        assert task.project is not None and task.assignee is not None and task.title
        assert reasons(run, ids["tasks"][index]) == [f"{KEPT}: {raw!r}"]
    project = Project.objects.for_org(org).get(source_record_id=ids["projects"][0])
    assert (project.starts_on, project.ends_on) == (None, None)
    assert project.name == "Project 0" and project.pathway is not None
    assert reasons(run, ids["projects"][0]) == [f"{KEPT}: '1899-12-31'", f"{KEPT}: '2200-01-01'"]


def test_numbers_past_the_edges_become_issues_and_nothing_stored_breaks_a_page(
    edgy, org, owner_client
):
    run, ids = edgy["run"], edgy["ids"]
    kr = KeyResult.objects.for_org(org).get(source_record_id=ids["krs"][0])
    assert (kr.start_value, kr.current_value, kr.target_value) == (0, 0, 0)  # the defaults
    assert kr.title == "KR 0" and kr.objective is not None
    assert reasons(run, ids["krs"][0]) == [
        "123456789012 does not fit: ensure this value is less than or equal to "
        "99999999999.9999; left empty",
        "too large: 1e+308",
    ]
    widest = KeyResult.objects.for_org(org).get(source_record_id=ids["krs"][2])
    assert (widest.start_value, widest.target_value) == (-VALUE_MAX, VALUE_MAX)
    for key_result in (
        kr,
        widest,
        KeyResult.objects.for_org(org).get(source_record_id=ids["krs"][1]),
    ):
        address = reverse(
            "objective_detail",
            kwargs={"org_slug": org.slug, "objective_id": key_result.objective_id},
        )
        assert owner_client.get(address).status_code == 200


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_every_page_shows_the_records_left_without_a_link(edgy, org, client, member_of):
    user = member_of(org, Role.OWNER)
    jo = Person.objects.for_org(org).get(name="Jo Former")
    Person.objects.for_org(org).filter(pk=jo.pk).update(user=user)
    health_services.findings_compute(organization=org)
    task = Task.objects.for_org(org).get(source_record_id=edgy["orphan_task"])
    assert task.project is None and task.assignee == jo
    objective = Objective.objects.for_org(org).get(source_record_id=edgy["ids"]["objectives"][3])
    assert objective.pathway is None
    client.force_login(user)
    edit = url("task_edit", org, task_id=task.pk)
    for address in (url("org_home", org), url("overdue_task_list", org), reverse("my_work")):
        response = client.get(address)
        assert response.status_code == 200 and edit in response.content.decode(), address
    for address in (
        url("project_list", org),
        url("objective_detail", org, objective_id=objective.pk),
        url("objective_edit", org, objective_id=objective.pk),
        url("health_page", org),
        edit,
    ):
        assert client.get(address).status_code == 200, address
    assert edit in client.get(url("health_page", org)).content.decode()


def test_a_synced_task_without_a_project_can_be_moved_edited_and_reassigned(
    edgy, org, owner_client
):
    task = Task.objects.for_org(org).get(source_record_id=edgy["orphan_task"])
    status = url("task_status", org, task_id=task.pk)
    assert owner_client.post(status, {"status": "blocked"}).status_code == 302
    response = owner_client.post(status, {"status": "done"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].endswith("/edit/")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.project is None
    sam = Person.objects.for_org(org).get(name="Sam Lee")
    response = owner_client.post(
        url("task_edit", org, task_id=task.pk),
        {"title": task.title, "status": "todo", "assignee": sam.pk, "due_on": "2199-12-31"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.assignee, task.status, task.due_on, task.project) == (
        sam,
        TaskStatus.TODO,
        dates.LATEST,
        None,
    )


def test_the_health_fix_reassigns_a_departed_persons_tasks_without_a_project_too(
    edgy, org, owner_client
):
    """The data-health fix saves each task through the task service, which used to refuse a
    task without a project (a 500 for the whole fix)."""
    jo = Person.objects.for_org(org).get(name="Jo Former")
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    task = Task.objects.for_org(org).get(source_record_id=edgy["orphan_task"])
    response = owner_client.post(
        url("health_fix", org),
        {"action": "reassign_tasks", "person": jo.pk, "to": maya.pk, "confirm": "1"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == maya and task.project is None


def test_a_synced_key_result_without_an_objective_can_be_edited_and_checked_in_on(
    edgy, org, owner_client
):
    kr = KeyResult.objects.for_org(org).get(source_record_id=edgy["ids"]["krs"][3])
    assert kr.objective is None
    response = owner_client.post(
        url("key_result_edit", org, key_result_id=kr.pk),
        {
            "title": "KR 3",
            "metric_type": "number",
            "start_value": "0",
            "target_value": "40",
            "weight": "1",
        },
    )
    assert response.status_code == 302
    check_in = url("check_in_create", org, key_result_id=kr.pk)
    assert owner_client.post(check_in, {"value": "12.5", "confidence": "6"}).status_code == 302
    kr.refresh_from_db()
    assert (kr.current_value, kr.confidence, kr.objective) == (Decimal("12.5"), 6, None)


def test_a_synced_objective_without_a_pathway_is_asked_for_one(edgy, org, owner_client):
    objective = Objective.objects.for_org(org).get(source_record_id=edgy["ids"]["objectives"][3])
    address = url("objective_edit", org, objective_id=objective.pk)
    response = owner_client.post(address, {"title": "Objective 3"})
    assert response.status_code == 400
    assert response.context["form"].errors["pathway"] == ["This field is required."]
