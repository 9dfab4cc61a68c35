"""The plans Postgres chooses for the pages' key queries on an organization of some size (with
planner statistics): each reads an index, not the whole table, and takes its order from the
index instead of sorting every row (okrs/migrations/0009_scale_indexes.py). Postgres only."""

from __future__ import annotations

import itertools
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from health import selectors as health_selectors
from health.kinds import Kind
from health.models import Finding
from okrs.history import pathways_progress_series
from okrs.models import Cycle
from okrs.selectors.lists import ProjectFilters, project_rows
from okrs.selectors.plan import open_tasks, overdue_tasks
from okrs.selectors.plan_lists import PlanFilters, TaskFilters, objective_rows, task_rows
from tests.builders import build_organization
from tests.factories import OrganizationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres plans"),
]

PROJECTS = 2_000  # 10,000 tasks, 5,000 findings: past what a sequential scan wins at
FINDINGS = 5_000


@pytest.fixture(scope="module")
def organization(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        other = OrganizationFactory(slug="other")
        build_organization(other, 50)
        organization = OrganizationFactory(slug="big")
        build_organization(organization, PROJECTS)
        kinds = itertools.cycle(Kind.values)
        Finding.objects.bulk_create(
            Finding(
                organization=organization,
                kind=next(kinds),
                severity="medium",
                key=f"finding {i}",
                detail="A planted finding.",
                score=(i % 100) / 100 if i % 3 else None,
                fingerprint="f",
            )
            for i in range(FINDINGS)
        )
        with connection.cursor() as cursor:  # statistics, as autovacuum would gather them
            cursor.execute("ANALYZE")
        yield organization
        transaction.set_rollback(True)


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_dashboards_overdue_tasks_read_the_open_task_index_in_its_order(organization):
    overdue = overdue_tasks(organization=organization, today=timezone.localdate())
    shown = plan(overdue[:8])
    assert "task_open_by_due" in shown, shown
    assert "Seq Scan on okrs_task" not in shown and "Sort" not in shown, shown


def test_open_tasks_by_due_date_read_the_index_in_its_order(organization):
    first_page = plan(open_tasks(organization=organization).order_by("due_on", "id")[:50])
    assert "task_open_by_due" in first_page, first_page
    assert "Seq Scan on okrs_task" not in first_page and "Sort" not in first_page, first_page


def test_the_project_lists_page_reads_50_projects_by_name_and_only_their_tasks(organization):
    first_page = plan(project_rows(organization=organization, filters=ProjectFilters())[:50])
    assert "project_live_by_name" in first_page, first_page
    for table in ("okrs_project", "okrs_task"):
        assert f"Seq Scan on {table}" not in first_page, first_page
    assert "Sort" not in first_page and "HashAggregate" not in first_page, first_page


def test_a_kinds_data_health_page_reads_its_kind_through_an_index(organization):
    listed = health_selectors.unresolved_findings(organization).filter(
        ~health_selectors.DISMISSED_Q, kind=Kind.PAST_DUE
    )
    read = plan(listed.order_by("kind", "-score", "pk"))
    # (organization, resolved_at, kind): the kind's open findings, then sorted (a kind's share)
    assert "health_find_organiz_672075_idx" in read, read
    assert "Seq Scan on health_finding" not in read, read


def test_the_data_health_page_reads_only_the_first_findings_of_each_kind(organization):
    """Unfiltered, the page reads 8 findings of each kind, each kind's straight from the index
    of open findings by kind and score, in its order: no sort of every open finding."""
    listed = health_selectors.unresolved_findings(organization).filter(
        ~health_selectors.DISMISSED_Q
    )
    rows = list(health_selectors.first_of_each_kind(listed))
    assert len(rows) == health_selectors.SHOWN_PER_KIND * len(Kind.values)
    read = plan(health_selectors.first_of_each_kind(listed))
    assert read.count("Index Scan using finding_open_by_kind_score") == len(Kind.values), read
    assert "Seq Scan on health_finding" not in read, read


def test_the_task_lists_page_reads_projects_by_name_and_only_their_tasks(organization):
    """Tasks of live projects in the order of the project name index, each project's tasks
    from the task index: no sort of every task (the list's order is the project's name)."""
    rows = task_rows(organization=organization, filters=TaskFilters())
    first_page = plan(rows.in_projects[:50])
    assert "project_live_by_name" in first_page, first_page
    assert "Seq Scan on okrs_task" not in first_page, first_page
    assert "Incremental Sort" in first_page and "Presorted Key: okrs_project.name" in first_page


def test_the_objective_lists_page_computes_progress_for_its_rows_only(organization):
    """The page's 50 objectives are chosen (a sort of narrow rows) before their progress is
    computed: the subplans run above the sort, not for every objective."""
    rows = objective_rows(organization=organization, filters=PlanFilters())
    lines = plan(rows.rows[:50]).splitlines()
    sort = next(i for i, line in enumerate(lines) if "Sort" in line and "->" in line)
    first_subplan = next(i for i, line in enumerate(lines) if "SubPlan" in line)
    assert "Result" in lines[sort - 1] and sort < first_subplan, "\n".join(lines)


def test_the_dashboards_chart_probes_each_key_results_check_ins_by_index(organization):
    """Whether a key result has any check-in is one index probe each (LIMIT 1): as EXISTS,
    Postgres hashed every check-in of the organization first (okrs.history)."""
    cycle = Cycle.objects.for_org(organization).get()
    with CaptureQueriesContext(connection) as captured:
        pathways_progress_series(
            organization=organization, cycle=cycle, start=None, now=timezone.now()
        )
    (chart,) = [q["sql"] for q in captured.captured_queries if "has_check_ins" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + chart.replace("%", "%%"))
        found = "\n".join(row[0] for row in cursor.fetchall())
    probe = (
        r"Index (Only )?Scan using \S+ on okrs_checkin \S+[^\n]*\n\s+Index Cond: \(key_result_id = "
    )
    assert re.search(probe + r"okrs_keyresult\.id\)", found), found
