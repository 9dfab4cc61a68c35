"""The OKR lists that download as CSV and XLSX (missionos.exports): each table's columns and
its rows, read with the page's own filters and selector.

- projects: the project list's filters (status, pathway, owner, search);
- tasks: a project's tasks (`?project=`), the overdue tasks (`?overdue=1&as_of=`), by assignee
  or status;
- objectives: from the dashboard (`?cycle=`) and a pathway's page (`?pathway=`), also by owner
  and health;
- key results and check-ins: from an objective's page (`?objective=`), the dashboard
  (`?cycle=`) or a pathway's page (`?pathway=`); check-ins also `?as_of=`.
"""

from __future__ import annotations

from django.http import HttpRequest

from missionos.exports import Column, Table, register_table
from okrs import progress, selectors
from okrs.models import ProjectStatus, TaskStatus
from okrs.selectors import exports as export_selectors
from okrs.views.params import int_or_none, past_date


def _name(related: object) -> str:
    return getattr(related, "name", "") or ""


def _plan_filters(request: HttpRequest) -> export_selectors.PlanFilters:
    params = request.GET
    health = params.get("health", "")
    return export_selectors.PlanFilters(
        cycle_id=int_or_none(params.get("cycle")),
        pathway_id=int_or_none(params.get("pathway")),
        objective_id=int_or_none(params.get("objective")),
        owner_id=int_or_none(params.get("owner")),
        health=health if health in {h.value for h in progress.Health} else "",
    )


def _project_rows(request: HttpRequest):
    params = request.GET
    status = params.get("status", "")
    filters = selectors.ProjectFilters(
        status=status if status in ProjectStatus.values else "",
        pathway_id=int_or_none(params.get("pathway")),
        owner_id=int_or_none(params.get("owner")),
        query=" ".join(params.get("q", "").split())[:200],
    )
    return selectors.project_export(organization=request.org, filters=filters)


def _task_rows(request: HttpRequest):
    params = request.GET
    status = params.get("status", "")
    as_of, _ = past_date(params.get("as_of"))
    filters = export_selectors.TaskFilters(
        project_id=int_or_none(params.get("project")),
        assignee_id=int_or_none(params.get("assignee")),
        status=status if status in TaskStatus.values else "",
        overdue=params.get("overdue") == "1",
        as_of=as_of,
    )
    return export_selectors.task_export(organization=request.org, filters=filters)


def _objective_rows(request: HttpRequest):
    return export_selectors.objective_export(
        organization=request.org, filters=_plan_filters(request)
    )


def _key_result_rows(request: HttpRequest):
    return export_selectors.key_result_export(
        organization=request.org, filters=_plan_filters(request)
    )


def _check_in_rows(request: HttpRequest):
    as_of, _ = past_date(request.GET.get("as_of"))
    return export_selectors.check_in_export(
        organization=request.org, filters=_plan_filters(request), as_of=as_of
    )


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
