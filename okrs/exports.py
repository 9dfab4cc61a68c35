"""The OKR lists that download as CSV and XLSX (missionos.exports): each table's columns and
its rows, read with the list page's own filters (okrs.views.list_filters) and selector, so a
download of `?…` holds every row of the list page at `?…`, all its pages.

- projects: the project list's (status, pathway, owner, search);
- tasks: the task list's (project, assignee, status, overdue with `as_of`, search);
- objectives: cycle (default the current one, `all` for any), pathway, owner, health, search;
- key results: cycle, pathway, objective, owner, search;
- check-ins: cycle, pathway, objective, the key result's owner, `since` and `as_of`.
"""

from __future__ import annotations

from django.http import HttpRequest

from missionos.exports import Column, Table, register_table
from okrs import selectors
from okrs.views import list_filters


def _name(related: object) -> str:
    return getattr(related, "name", "") or ""


# Each reads the filters as its list page does (okrs.views.list_filters) through the page's
# own selector.
def _project_rows(request: HttpRequest):
    filters = list_filters.project_filters(request.GET)
    return selectors.project_rows(organization=request.org, filters=filters)


def _task_rows(request: HttpRequest):
    filters = list_filters.task_filters(request.GET)
    return selectors.task_rows(organization=request.org, filters=filters)


def _objective_rows(request: HttpRequest):
    filters = list_filters.plan_filters(request.GET, organization=request.org)
    return selectors.objective_rows(organization=request.org, filters=filters)


def _key_result_rows(request: HttpRequest):
    filters = list_filters.plan_filters(request.GET, organization=request.org)
    return selectors.key_result_rows(organization=request.org, filters=filters)


def _check_in_rows(request: HttpRequest):
    filters = list_filters.plan_filters(request.GET, organization=request.org)
    return selectors.check_in_rows(organization=request.org, filters=filters)


def _percent(value: float | None) -> float | None:
    """Progress as a percentage with one decimal: 42.6 (a number in XLSX)."""
    return None if value is None else round(value * 100, 1)


PROJECTS = register_table(
    Table(
        name="projects",
        title="Projects",
        columns=(
            Column("Name", lambda p: p.name, width=40),
            Column("Status", lambda p: p.get_status_display()),
            Column("Pathway", lambda p: _name(p.pathway), width=24),
            Column("Owner", lambda p: _name(p.owner), width=24),
            Column("Starts", lambda p: p.starts_on, width=12),
            Column("Ends", lambda p: p.ends_on, width=12),
            Column("Tasks", lambda p: p.task_total, width=8),
            Column("Tasks done", lambda p: p.task_done, width=10),
            Column("Done %", lambda p: _percent(p.completion), width=8),
            Column("Last activity", lambda p: p.last_activity_at, width=18),
        ),
        rows=_project_rows,
    )
)

TASKS = register_table(
    Table(
        name="tasks",
        title="Tasks",
        columns=(
            Column("Title", lambda t: t.title, width=40),
            Column("Project", lambda t: _name(t.project), width=30),
            Column("Assignee", lambda t: _name(t.assignee), width=24),
            Column("Assignee left on", lambda t: t.assignee and t.assignee.departed_on),
            Column("Status", lambda t: t.get_status_display(), width=12),
            Column("Due", lambda t: t.due_on, width=12),
            Column("Completed", lambda t: t.completed_at, width=18),
        ),
        rows=_task_rows,
    )
)

OBJECTIVES = register_table(
    Table(
        name="objectives",
        title="Objectives",
        columns=(
            Column("Title", lambda o: o.title, width=40),
            Column("Pathway", lambda o: _name(o.pathway), width=24),
            Column("Cycle", lambda o: _name(o.cycle), width=14),
            Column("Owner", lambda o: _name(o.owner), width=24),
            Column("Key results", lambda o: o.key_result_count, width=10),
            Column("Progress %", lambda o: _percent(o.progress), width=10),
            Column("Lowest confidence", lambda o: o.min_confidence),
            Column("Health", lambda o: o.health.label, width=12),
        ),
        rows=_objective_rows,
    )
)

KEY_RESULTS = register_table(
    Table(
        name="key-results",
        title="Key results",
        columns=(
            Column("Title", lambda k: k.title, width=40),
            Column("Objective", lambda k: k.objective.title if k.objective else "", width=40),
            Column(
                "Pathway",
                lambda k: _name(k.objective.pathway) if k.objective else "",
                width=24,
            ),
            Column("Owner", lambda k: _name(k.owner), width=24),
            Column("Start", lambda k: k.start_value, width=10),
            Column("Current", lambda k: k.current_value, width=10),
            Column("Target", lambda k: k.target_value, width=10),
            Column("Unit", lambda k: k.unit, width=8),
            Column("Weight", lambda k: k.weight, width=8),
            Column("Confidence", lambda k: k.confidence, width=10),
            Column("Progress %", lambda k: _percent(k.progress), width=10),
            Column("Last check-in", lambda k: k.last_checked_in_at, width=18),
        ),
        rows=_key_result_rows,
    )
)

CHECK_INS = register_table(
    Table(
        name="check-ins",
        title="Check-ins",
        columns=(
            Column("When", lambda c: c.checked_in_at, width=18),
            Column("Key result", lambda c: c.key_result.title if c.key_result else "", width=40),
            Column(
                "Objective",
                lambda c: (
                    c.key_result.objective.title if c.key_result and c.key_result.objective else ""
                ),
                width=40,
            ),
            Column("Value", lambda c: c.value, width=10),
            Column("Confidence", lambda c: c.confidence, width=10),
            Column("Note", lambda c: c.note, width=50),
            Column(
                "By",
                lambda c: (
                    c.author.get_username()
                    if c.author
                    else ("Airtable" if c.source_record_id else "")
                ),
            ),
        ),
        rows=_check_in_rows,
    )
)

TABLES = (PROJECTS, TASKS, OBJECTIVES, KEY_RESULTS, CHECK_INS)
