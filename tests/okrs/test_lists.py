"""The lists of objectives, key results, check-ins and tasks (okrs.views.lists): their rows,
every filter, the download of a filtered list holding exactly its rows (all its pages),
archived records left out, garbage filters answered with the nearest sensible list, another
organization's ids matching nothing, and a fixed number of queries at two sizes."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from missionos import exports
from okrs import selectors, services
from okrs.models import TaskStatus
from orgs.models import Role
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

# page name -> (download table, the column of the download the page's first column shows)
LISTS = {
    "objective_list": ("objectives", 0),
    "key_result_list": ("key_results", 0),
    "check_in_list": ("check_ins", 1),  # the page's first column is the time: compare the KR
    "task_list": ("tasks", 0),
}
PER_PAGE = {
    "objective_list": "OBJECTIVES_PER_PAGE",
    "key_result_list": "KEY_RESULTS_PER_PAGE",
    "check_in_list": "CHECK_INS_PER_PAGE",
    "task_list": "TASKS_PER_PAGE",
}
ROW = re.compile(r"<tr>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", re.S)


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def shown(response, column: int = 0) -> list[str]:
    """The text of a column of the page's table (0: the first, 1: the second)."""
    assert response.status_code == 200
    return [text(row[column]) for row in ROW.findall(response.content.decode())]


def page_url(name: str, org, **query) -> str:
    base = reverse(name, kwargs={"org_slug": org.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def downloaded(client, table: str, org, column: int, query: str = "") -> list[str]:
    url = reverse(exports.url_name(table, "csv"), kwargs={"org_slug": org.slug})
    response = client.get(f"{url}?{query}" if query else url)
    body = b"".join(response.streaming_content).decode()
    return [row[column] for row in csv.reader(io.StringIO(body))][1:]


@pytest.fixture
def viewer(org, member_of):
    client = Client()
    client.force_login(member_of(org, Role.VIEWER))
    return client


@pytest.fixture
def plan(org, other_org):
    today = timezone.localdate()
    now_cycle = CycleFactory(organization=org, name="This quarter")
    old_cycle = CycleFactory(
        organization=org,
        name="Last year",
        starts_on=today - datetime.timedelta(days=400),
        ends_on=today - datetime.timedelta(days=300),
    )
    growth = PathwayFactory(organization=org, name="Growth", position=1)
    care = PathwayFactory(organization=org, name="Care", position=2)
    dana, eli = (
        PersonFactory(organization=org, name="Dana"),
        PersonFactory(organization=org, name="Eli"),
    )
    reach = ObjectiveFactory(
        organization=org, cycle=now_cycle, pathway=growth, owner=dana, title="Grow reach"
    )
    wait = ObjectiveFactory(
        organization=org, cycle=now_cycle, pathway=care, owner=eli, title="Cut waiting times"
    )
    old = ObjectiveFactory(organization=org, cycle=old_cycle, pathway=growth, title="Old aim")
    clinics = KeyResultFactory(
        organization=org,
        objective=reach,
        owner=dana,
        title="Clinics open",
        target_value=10,
        current_value=Decimal(4),
    )
    visits = KeyResultFactory(organization=org, objective=wait, owner=eli, title="Visits booked")
    KeyResultFactory(organization=org, objective=old, title="Old result")
    long_ago = timezone.now() - datetime.timedelta(days=20)
    CheckInFactory(organization=org, key_result=clinics, value=Decimal(4), note="Four open")
    CheckInFactory(organization=org, key_result=visits, value=Decimal(30), checked_in_at=long_ago)
    nights = ProjectFactory(organization=org, name="Night clinics", pathway=growth)
    rooms = ProjectFactory(organization=org, name="Rooms", pathway=care)
    TaskFactory(organization=org, project=nights, title="Hire nurses", assignee=dana)
    TaskFactory(
        organization=org,
        project=nights,
        title="Book rooms late",
        due_on=today - datetime.timedelta(days=3),
    )
    TaskFactory(organization=org, project=rooms, title="Paint walls", status=TaskStatus.DONE)
    # Another organization with one of everything, named so as to show if it leaks.
    theirs = ObjectiveFactory(organization=other_org, title="Theirs objective")
    CheckInFactory(
        organization=other_org,
        key_result=KeyResultFactory(organization=other_org, objective=theirs, title="Theirs kr"),
    )
    their_task = TaskFactory(organization=other_org, title="Theirs task")
    return {
        "now": now_cycle,
        "old": old_cycle,
        "growth": growth,
        "dana": dana,
        "reach": reach,
        "clinics": clinics,
        "nights": nights,
        "theirs": theirs,
        "their_task": their_task,
        "long_ago": long_ago,
    }


def test_each_list_shows_its_rows(viewer, org, plan):
    assert shown(viewer.get(page_url("objective_list", org))) == ["Grow reach", "Cut waiting times"]
    assert shown(viewer.get(page_url("key_result_list", org))) == ["Clinics open", "Visits booked"]
    assert shown(viewer.get(page_url("check_in_list", org)), 1) == ["Clinics open", "Visits booked"]
    # By project, then due date (where a task with none goes differs between databases).
    assert sorted(shown(viewer.get(page_url("task_list", org)))) == [
        "Book rooms late",
        "Hire nurses",
        "Paint walls",
    ]


def test_the_objective_list_filters_narrow(viewer, org, plan):
    def titles(**query):
        return shown(viewer.get(page_url("objective_list", org, **query)))

    assert titles(cycle="all") == ["Grow reach", "Old aim", "Cut waiting times"]
    assert titles(cycle=plan["old"].pk) == ["Old aim"]
    assert titles(pathway=plan["growth"].pk) == ["Grow reach"]
    assert titles(owner=plan["dana"].pk) == ["Grow reach"]
    assert titles(q="waitng") == ["Cut waiting times"]  # a typo is fine
    assert titles(q="dana") == ["Grow reach"]  # the owner's name
    assert titles(health="unknown", cycle="all") == []  # every one has key results
    assert titles(health="not_started", cycle="all") == ["Old aim"]  # no check-in yet
    # Each title leads to the objective's page in its cycle; the key result count to them.
    page = viewer.get(page_url("objective_list", org)).content.decode()
    detail = reverse("objective_detail", args=[org.slug, plan["reach"].pk])
    assert f'href="{detail}?cycle={plan["now"].pk}"' in page
    assert f"{reverse('key_result_list', args=[org.slug])}?objective={plan['reach'].pk}" in page


def test_the_key_result_list_filters_narrow_and_offers_check_ins_to_members(
    viewer, client, org, plan, member_of
):
    def titles(**query):
        return shown(viewer.get(page_url("key_result_list", org, **query)))

    assert titles(cycle="all") == ["Clinics open", "Old result", "Visits booked"]
    assert titles(objective=plan["reach"].pk) == ["Clinics open"]
    assert titles(owner=plan["dana"].pk) == ["Clinics open"]
    assert titles(pathway=plan["growth"].pk) == ["Clinics open"]
    assert titles(q="visit boked") == ["Visits booked"]
    page = viewer.get(page_url("key_result_list", org)).content.decode()
    assert "4 / 10" in page  # current / target, as kr_value writes them
    assert ">Check in<" not in page  # a viewer does not check in
    client.force_login(member_of(org, Role.MEMBER))
    page = client.get(page_url("key_result_list", org)).content.decode()
    assert f'#kr-{plan["clinics"].pk}">Check in<' in page


def test_the_check_in_list_filters_narrow(viewer, org, plan):
    def key_results(**query):
        return shown(viewer.get(page_url("check_in_list", org, **query)), 1)

    assert key_results(objective=plan["reach"].pk) == ["Clinics open"]
    assert key_results(owner=plan["dana"].pk) == ["Clinics open"]
    assert key_results(pathway=plan["growth"].pk) == ["Clinics open"]
    recent = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    assert key_results(since=recent) == ["Clinics open"]
    older = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    assert key_results(as_of=older) == ["Visits booked"]
    assert key_results(cycle=plan["old"].pk) == []
    page = viewer.get(page_url("check_in_list", org)).content.decode()
    assert "Four open" in page and "note-cell" in page


def test_the_task_list_filters_narrow(viewer, org, plan):
    def titles(**query):
        return sorted(shown(viewer.get(page_url("task_list", org, **query))))

    assert titles(project=plan["nights"].pk) == ["Book rooms late", "Hire nurses"]
    assert titles(assignee=plan["dana"].pk) == ["Hire nurses"]
    assert titles(status=TaskStatus.DONE) == ["Paint walls"]
    assert titles(overdue=1) == ["Book rooms late"]
    assert titles(q="nurse") == ["Hire nurses"]
    assert (
        'class="overdue-date"' in viewer.get(page_url("task_list", org, overdue=1)).content.decode()
    )


# The filters of each list, to compare its download with its rows.
FILTERED = {
    "objective_list": lambda p: f"cycle=all&pathway={p['growth'].pk}&q=aim",
    "key_result_list": lambda p: "cycle=all&q=open",
    "check_in_list": lambda p: f"pathway={p['growth'].pk}&since=2000-01-01",
    "task_list": lambda p: f"project={p['nights'].pk}&q=nurses",
}


@pytest.mark.parametrize("name", list(LISTS))
def test_a_filtered_download_holds_exactly_the_rows_of_every_page(
    viewer, org, plan, name, monkeypatch
):
    for i in range(3):  # more rows, over several pages of one
        KeyResultFactory(organization=org, objective=plan["reach"], title=f"Result {i} open")
        objective = ObjectiveFactory(
            organization=org, cycle=plan["old"], pathway=plan["growth"], title=f"Aim {i}"
        )
        CheckInFactory(organization=org, key_result=plan["clinics"])
        TaskFactory(organization=org, project=plan["nights"], title=f"Nurses {i}")
        del objective
    monkeypatch.setattr(selectors, PER_PAGE[name], 1)
    table, column = LISTS[name]
    query = FILTERED[name](plan)
    rows, page = [], 1
    while True:
        response = viewer.get(f"{page_url(name, org)}?{query}&page={page}")
        rows += shown(response, 1 if name == "check_in_list" else 0)
        if 'rel="next"' not in response.content.decode():
            break
        page += 1
    assert page > 2
    assert downloaded(viewer, table, org, column, query) == rows
    # The page's download links carry its filters (the page left out).
    link = reverse(exports.url_name(table, "csv"), kwargs={"org_slug": org.slug})
    assert (
        f'href="{link}?{html.escape(query)}"'
        in viewer.get(f"{page_url(name, org)}?{query}&page=2").content.decode()
    )


def test_archived_records_stay_out(viewer, org, plan):
    services.record_archive(record=plan["reach"])  # takes its key results with it
    services.record_archive(record=plan["nights"])  # and its tasks
    assert shown(viewer.get(page_url("objective_list", org))) == ["Cut waiting times"]
    assert shown(viewer.get(page_url("key_result_list", org))) == ["Visits booked"]
    assert shown(viewer.get(page_url("check_in_list", org)), 1) == ["Visits booked"]
    assert shown(viewer.get(page_url("task_list", org))) == ["Paint walls"]


GARBAGE = {
    "cycle": ["x", "-1", "9" * 30],
    "pathway": ["x", "1.5"],
    "objective": ["x", "0"],
    "owner": ["abc"],
    "health": ["great"],
    "status": ["nope"],
    "project": ["%00"],
    "assignee": ["'"],
    "overdue": ["yes"],
    "since": ["2026-13-45", "99999-01-01"],
    "as_of": ["soon", "3000-01-01"],
    "page": ["0", "-3", "999", "x"],
    "q": ["  ", "%" * 500],
}


@pytest.mark.parametrize("name", list(LISTS))
def test_garbage_filters_answer_the_nearest_sensible_list(viewer, org, plan, name):
    for param, values in GARBAGE.items():
        for value in values:
            response = viewer.get(page_url(name, org), {param: value})
            assert response.status_code == 200, (name, param, value)
    # A garbage cycle is the current one; a page past the end is the last page.
    assert shown(viewer.get(page_url("objective_list", org), {"cycle": "x", "page": "999"})) == [
        "Grow reach",
        "Cut waiting times",
    ]


@pytest.mark.parametrize("name", list(LISTS))
def test_another_organizations_ids_match_nothing_and_its_lists_are_404(
    viewer, org, other_org, plan, name
):
    theirs = plan["theirs"]
    query = {
        "objective": theirs.pk,
        "cycle": theirs.cycle_id,
        "pathway": theirs.pathway_id,
        "project": plan["their_task"].project_id,
    }
    for param, value in query.items():
        response = viewer.get(
            page_url(name, org),
            {param: value, "cycle": "all"} if param != "cycle" else {param: value},
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Theirs" not in page
    if name != "task_list":
        assert shown(viewer.get(page_url(name, org), {"objective": theirs.pk})) == []
    else:
        assert shown(viewer.get(page_url(name, org), {"project": query["project"]})) == []
    assert viewer.get(page_url(name, other_org)).status_code == 404


@pytest.mark.parametrize("name", list(LISTS))
def test_the_filters_htmx_request_gets_only_the_results(viewer, org, plan, name):
    target = {
        "objective_list": "objective-results",
        "key_result_list": "key-result-results",
        "check_in_list": "check-in-results",
        "task_list": "task-results",
    }[name]
    response = viewer.get(page_url(name, org), HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith(f'<div id="{target}"')
    assert "<html" not in page and "sub-tabs" not in page


def test_the_navigation_marks_the_part_and_the_list(viewer, org, plan):
    for name, tab, sub in (
        ("objective_list", "Objectives", "Objectives"),
        ("key_result_list", "Objectives", "Key results"),
        ("check_in_list", "Objectives", "Check-ins"),
        ("task_list", "Projects", "Tasks"),
        ("project_list", "Projects", "Projects"),
    ):
        page = viewer.get(page_url(name, org)).content.decode()
        nav = page.split('class="org-nav"')[1].split("</nav>")[0]
        tabs = page.split('class="sub-tabs"')[1].split("</nav>")[0]
        assert re.search(rf'aria-current="page">{tab}</a>', nav), name
        assert re.search(rf'aria-current="page">{sub}</a>', tabs), name


# -- queries: the same at both sizes -----------------------------------------------------


def _grow(org, size: int) -> None:
    cycle = CycleFactory(organization=org, name="Now")
    pathway = PathwayFactory(organization=org)
    person = PersonFactory(organization=org)
    project = ProjectFactory(organization=org, pathway=pathway)
    for i in range(size):
        objective = ObjectiveFactory(
            organization=org, cycle=cycle, pathway=pathway, owner=person, title=f"Aim {i}"
        )
        key_result = KeyResultFactory(organization=org, objective=objective, owner=person)
        CheckInFactory(organization=org, key_result=key_result)
        TaskFactory(organization=org, project=project, assignee=person)


# The session, the user with their memberships, then each list's own reads: the current cycle,
# the rows' count and page (the objective list's too since it pages in the database: it read
# every row to compute their progress), and the filter choices.
QUERIES = {
    "objective_list": ({}, 9),
    "key_result_list": ({}, 9),
    "check_in_list": ({}, 9),
    "task_list": ({}, 6),
    # +1 on Postgres: the query's words against the vocabulary (okrs.selectors.search).
    "objective_list ": ({"q": "aim"}, 9 + (connection.vendor == "postgresql")),
    "key_result_list ": ({"q": "result"}, 9 + (connection.vendor == "postgresql")),
    "task_list ": ({"q": "task", "overdue": "1"}, 5),
}


@pytest.mark.parametrize("case", list(QUERIES))
@pytest.mark.parametrize("size", [3, 30])
def test_a_list_costs_the_same_at_both_sizes(
    client, org, member_of, case, size, django_assert_num_queries, session_queries
):
    _grow(org, size)
    client.force_login(member_of(org, Role.VIEWER))
    query, expected = QUERIES[case]
    url = page_url(case.strip(), org)
    client.get(url, query)
    with django_assert_num_queries(expected - 1 + session_queries):  # 1: the session
        response = client.get(url, query)
    assert response.status_code == 200


def test_an_objective_the_sync_archived_alone_takes_its_key_results_out_of_lists_and_downloads(
    viewer, org, plan
):
    """The sync archives an objective gone from Airtable without its key results: those were
    still in the key result download (and their check-ins in the check-in download)."""
    reach = plan["reach"]
    type(reach).objects.for_org(org).filter(pk=reach.pk).update(archived_at=timezone.now())
    assert shown(viewer.get(page_url("key_result_list", org))) == ["Visits booked"]
    assert downloaded(viewer, "key_results", org, 0, "cycle=all") == [
        "Old result",
        "Visits booked",
    ]
    assert downloaded(viewer, "check_ins", org, 1) == ["Visits booked"]
    # Its objective's health counts key results that are measurable: "not started", not
    # "unknown", as on the dashboard (the download said "Unknown").
    assert downloaded(viewer, "objectives", org, 7, "cycle=all&health=not_started") == [
        "Not started"
    ]


# -- filter menus that stay small --------------------------------------------------------


def options(response, select_id: str) -> list[str]:
    """The labels of a <select>'s options, its "any" option left out."""
    page = response.content.decode()
    select = page.split(f'id="{select_id}"')[1].split("</select>")[0]
    return [text(label) for label in re.findall(r"<option[^>]*>(.*?)</option>", select)][1:]


def test_the_task_lists_menus_offer_what_is_in_use_up_to_a_cap(viewer, org, plan, monkeypatch):
    """Projects with tasks and people with tasks, at most FILTER_CHOICES_SHOWN of each by
    name, the chosen one always among them; the menu then says there are more and how to find
    them, and the select points at that sentence."""
    ProjectFactory(organization=org, name="Idle project")  # no tasks: not offered
    zebra = ProjectFactory(organization=org, name="Zebra crossings")
    TaskFactory(organization=org, project=zebra, title="Paint stripes")
    PersonFactory(organization=org, name="Unassigned Uma")
    page = viewer.get(page_url("task_list", org))
    assert options(page, "filter-project") == ["Night clinics", "Rooms", "Zebra crossings"]
    assert options(page, "filter-assignee") == ["Dana"]
    assert 'id="filter-project-hint"' not in page.content.decode()

    monkeypatch.setattr(selectors.plan_lists, "FILTER_CHOICES_SHOWN", 2)
    page = viewer.get(page_url("task_list", org))
    assert options(page, "filter-project") == ["Night clinics", "Rooms"]
    body = page.content.decode()
    assert 'aria-describedby="filter-project-hint"' in body
    assert "The first 2 only: type a project" in body
    chosen = viewer.get(page_url("task_list", org, project=zebra.pk))
    assert options(chosen, "filter-project") == ["Night clinics", "Zebra crossings"]
    assert shown(chosen) == ["Paint stripes"]


def test_the_plan_lists_menus_offer_owners_and_the_pathways_objectives(
    viewer, org, plan, monkeypatch
):
    PersonFactory(organization=org, name="Owns nothing")
    for name in ("objective_list", "key_result_list", "check_in_list"):
        assert options(viewer.get(page_url(name, org)), "filter-owner") == ["Dana", "Eli"]
    narrowed = viewer.get(page_url("check_in_list", org, pathway=plan["growth"].pk))
    assert options(narrowed, "filter-objective") == ["Grow reach"]
    monkeypatch.setattr(selectors.plan_lists, "FILTER_CHOICES_SHOWN", 1)
    capped = viewer.get(page_url("key_result_list", org))
    assert options(capped, "filter-objective") == ["Cut waiting times"]
    assert options(capped, "filter-owner") == ["Dana"]
    assert "The first 1 only: choose a pathway" in capped.content.decode()


def test_the_task_list_pages_run_on_into_the_tasks_in_no_project(viewer, org, plan, monkeypatch):
    """Tasks of projects by project name first, then those in none, whichever the database
    (NULLs sort first in SQLite, last in Postgres), across a page break."""
    TaskFactory(organization=org, project=None, title="Loose end")
    monkeypatch.setattr(selectors, "TASKS_PER_PAGE", 2)
    pages = [shown(viewer.get(page_url("task_list", org, page=n))) for n in (1, 2)]
    assert [len(rows) for rows in pages] == [2, 2]
    assert pages[1][-1] == "Loose end"
    assert sorted(pages[0] + pages[1][:1]) == ["Book rooms late", "Hire nurses", "Paint walls"]
