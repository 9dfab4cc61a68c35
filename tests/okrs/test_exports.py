"""Every list downloads as CSV and XLSX with the page's filters (missionos.exports, okrs.exports,
orgs.exports): typed cells, a bold frozen header, formulas never run, another organization's
rows never in it, and a fixed number of queries whatever the size."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from missionos import exports
from okrs.models import ProjectStatus, TaskStatus
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

TABLES = ("projects", "tasks", "objectives", "key_results", "check_ins", "people")


def url(name: str, fmt: str, organization, **query) -> str:
    base = reverse(exports.url_name(name, fmt), kwargs={"org_slug": organization.slug})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode())))


def sheet_rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(body(response))).active
    return list(sheet.iter_rows(values_only=True))


@pytest.fixture
def plan(org, other_org):
    cycle = CycleFactory(organization=org, name="Q4")
    later = CycleFactory(
        organization=org,
        name="Q1 next",
        starts_on=cycle.ends_on + datetime.timedelta(days=1),
        ends_on=cycle.ends_on + datetime.timedelta(days=90),
    )
    growth = PathwayFactory(organization=org, name="Growth")
    care = PathwayFactory(organization=org, name="Care")
    dana = PersonFactory(organization=org, name="Dana")
    grow = ObjectiveFactory(
        organization=org, pathway=growth, cycle=cycle, title="Grow reach", owner=dana
    )
    ObjectiveFactory(organization=org, pathway=care, cycle=cycle, title="Better care")
    ObjectiveFactory(organization=org, pathway=growth, cycle=later, title="Next year")
    clinics = KeyResultFactory(
        organization=org, objective=grow, title="Clinics open", target_value=Decimal(10)
    )
    CheckInFactory(organization=org, key_result=clinics, value=Decimal(4), note="=HYPERLINK(1)")
    clinic_project = ProjectFactory(
        organization=org,
        name="=cmd|' /C calc'!A0",
        pathway=growth,
        owner=dana,
        starts_on=datetime.date(2026, 10, 1),
    )
    ProjectFactory(organization=org, name="Night shifts", pathway=care, status="planned")
    TaskFactory(organization=org, project=clinic_project, title="Hire", assignee=dana)
    TaskFactory(
        organization=org,
        project=clinic_project,
        title="Late one",
        due_on=timezone.localdate() - datetime.timedelta(days=3),
    )
    # The other organization has one of everything, with names that must never appear.
    theirs = ObjectiveFactory(organization=other_org, title="Theirs objective")
    CheckInFactory(
        organization=other_org,
        key_result=KeyResultFactory(organization=other_org, objective=theirs, title="Theirs kr"),
    )
    TaskFactory(organization=other_org, title="Theirs task")
    PersonFactory(organization=other_org, name="Theirs person")
    return {"cycle": cycle, "growth": growth, "grow": grow, "project": clinic_project, "dana": dana}


@pytest.fixture
def viewer_client(org, member_of):
    client = Client()
    client.force_login(member_of(org, Role.VIEWER))
    return client


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_list_downloads_in_both_formats_with_only_this_organizations_rows(
    viewer_client, org, other_org, plan, name, fmt, clock
):
    response = viewer_client.get(url(name, fmt, org))
    assert response.status_code == 200
    day = timezone.localdate().isoformat()
    table = name.replace("_", "-")
    assert response["Content-Disposition"] == f'attachment; filename="acme-{table}-{day}.{fmt}"'
    rows = csv_rows(response) if fmt == "csv" else sheet_rows(response)
    assert len(rows) > 1
    assert not any("Theirs" in str(cell) for row in rows for cell in row)
    # Another organization's download is not found, like its pages.
    assert viewer_client.get(url(name, fmt, other_org)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, org):
    response = client.get(url("projects", "csv", org))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_projects_download_with_the_lists_filters(viewer_client, org, plan):
    def names(**query):
        return [row[0] for row in csv_rows(viewer_client.get(url("projects", "csv", org, **query)))]

    assert names() == ["Name", "'=cmd|' /C calc'!A0", "Night shifts"]
    assert names(status=ProjectStatus.PLANNED) == ["Name", "Night shifts"]
    assert names(pathway=plan["growth"].pk) == ["Name", "'=cmd|' /C calc'!A0"]
    assert names(owner=plan["dana"].pk) == ["Name", "'=cmd|' /C calc'!A0"]
    assert names(q="nigth shifts") == ["Name", "Night shifts"]  # the list's typo-tolerant search
    assert names(status="garbage", pathway="x", page="9") == names()  # bad filters: no filter


def test_the_project_list_links_its_downloads_with_its_filters(viewer_client, org, plan):
    page = viewer_client.get(reverse("project_list", args=[org.slug]), {"status": "planned"})
    html = page.content.decode()
    assert f'href="{url("projects", "csv", org)}?status=planned"' in html
    assert f'href="{url("projects", "xlsx", org)}?status=planned"' in html


def test_xlsx_cells_are_typed_the_header_bold_and_frozen_and_formulas_are_text(
    viewer_client, org, plan
):
    response = viewer_client.get(url("projects", "xlsx", org))
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet.title == "Projects"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    header = [cell.value for cell in sheet[1]]
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert row["Name"].value == "'=cmd|' /C calc'!A0" and row["Name"].data_type == "s"
    assert row["Starts"].value == datetime.datetime(2026, 10, 1)  # a date cell
    assert row["Starts"].is_date
    assert row["Tasks"].value == 2 and row["Tasks"].data_type == "n"
    assert row["Done %"].value == 0 and row["Done %"].data_type == "n"
    assert isinstance(row["Last activity"].value, datetime.datetime)


def test_check_in_notes_that_look_like_formulas_are_guarded_in_both_formats(
    viewer_client, org, plan
):
    [header, row] = csv_rows(viewer_client.get(url("check_ins", "csv", org)))
    assert row[header.index("Note")] == "'=HYPERLINK(1)"
    assert row[header.index("Value")] == "4"  # a number, written plainly
    [header, row] = sheet_rows(viewer_client.get(url("check_ins", "xlsx", org)))
    assert row[header.index("Note")] == "'=HYPERLINK(1)"
    assert row[header.index("Value")] == 4


def test_csv_numbers_are_not_guarded_but_text_is():
    assert exports.csv_text(Decimal("-5.50")) == "-5.5"
    assert exports.csv_text(-3) == "-3"
    assert exports.csv_text("-3") == "'-3"
    assert exports.csv_text("@SUM(A1)") == "'@SUM(A1)"
    assert exports.csv_text(None) == ""
    assert exports.csv_text(datetime.date(2026, 12, 4)) == "2026-12-04"


def test_objectives_key_results_and_check_ins_by_cycle_pathway_and_objective(
    viewer_client, org, plan
):
    def first_column(name, **query):
        return [row[0] for row in csv_rows(viewer_client.get(url(name, "csv", org, **query)))][1:]

    # Like the objective list, the current cycle unless another or all are asked for.
    assert sorted(first_column("objectives")) == ["Better care", "Grow reach"]
    assert sorted(first_column("objectives", cycle="all")) == [
        "Better care",
        "Grow reach",
        "Next year",
    ]
    assert sorted(first_column("objectives", cycle=plan["cycle"].pk)) == [
        "Better care",
        "Grow reach",
    ]
    assert first_column("objectives", cycle=plan["cycle"].pk, pathway=plan["growth"].pk) == [
        "Grow reach"
    ]
    assert first_column("objectives", owner=plan["dana"].pk) == ["Grow reach"]
    assert first_column("key_results", objective=plan["grow"].pk) == ["Clinics open"]
    assert first_column("key_results", pathway=plan["growth"].pk + 999) == []
    [check_in] = csv_rows(
        viewer_client.get(url("check_ins", "csv", org, objective=plan["grow"].pk))
    )[1:]
    assert check_in[1] == "Clinics open"
    long_ago = timezone.localdate() - datetime.timedelta(days=30)
    assert first_column("check_ins", as_of=long_ago.isoformat()) == []


def test_tasks_of_a_project_and_the_overdue_ones(viewer_client, org, plan):
    def titles(**query):
        return [row[0] for row in csv_rows(viewer_client.get(url("tasks", "csv", org, **query)))][
            1:
        ]

    assert sorted(titles(project=plan["project"].pk)) == ["Hire", "Late one"]
    assert titles(overdue=1) == ["Late one"]
    assert titles(assignee=plan["dana"].pk) == ["Hire"]
    assert titles(status=TaskStatus.DONE) == []
    page = viewer_client.get(reverse("overdue_task_list", args=[org.slug])).content.decode()
    assert f'href="{url("tasks", "csv", org)}?overdue=1"' in page
    page = viewer_client.get(
        reverse("project_detail", args=[org.slug, plan["project"].pk])
    ).content.decode()
    assert f'href="{url("tasks", "xlsx", org)}?project={plan["project"].pk}"' in page


def test_the_dashboard_and_plan_pages_link_their_downloads(viewer_client, org, plan):
    home = viewer_client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert f'href="{url("objectives", "csv", org)}?cycle={plan["cycle"].pk}"' in home
    pathway = viewer_client.get(
        reverse("pathway_detail", args=[org.slug, plan["growth"].pk])
    ).content.decode()
    in_cycle = f"pathway={plan['growth'].pk}&amp;cycle={plan['cycle'].pk}"
    assert f'href="{url("key_results", "csv", org)}?{in_cycle}"' in pathway
    objective = viewer_client.get(
        reverse("objective_detail", args=[org.slug, plan["grow"].pk])
    ).content.decode()
    assert f'href="{url("check_ins", "xlsx", org)}?objective={plan["grow"].pk}"' in objective
    people = viewer_client.get(reverse("people_list", args=[org.slug])).content.decode()
    assert f'href="{url("people", "csv", org)}"' in people
