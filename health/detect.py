"""What is wrong with an organization's plan data: one function per kind of finding.

Each detector reads the organization's rows in a fixed number of queries (never one per row)
and yields `Draft`s: the kind, the records it is about, and why, in one sentence. The service
(health.services.findings_compute) turns drafts into stored findings. Pure rules with the
database as their input: no writes here.

The rules, with what is deliberately *not* a finding (precision matters: a page of false
alarms gets ignored):
- abandoned_project: planned, active or on hold, and neither it nor any of its tasks changed for
  the organization's N days (default 60); or it has tasks, all done, and is still open. Recent
  activity on the project or any task counts; done and abandoned projects never are.
- task_departed_assignee: an open task whose assignee has left (departed on or before today).
  Done tasks of people who left are history; a reassigned task is not theirs any more.
- task_unassigned: an open task with nobody on it. task_no_project: a task in no project.
- project_no_pathway / project_no_objective: open projects only (closed ones are history).
- key_result_stale: a key result of a current objective (its cycle has not ended, or it has no
  cycle) older than N weeks (default 6) with no check-in in the last N weeks.
- value_contradicts_checkins: the current value differs from the latest check-in's by more than
  10% of the key result's range (start to target).
- past_due: open tasks whose due date, and open projects whose end date, has passed.
- broken_link: a link to a record that is not in the base any more, as the latest run of each
  connection found it.
- duplicate_*: see health.matching (typos, order, case, punctuation and abbreviations are the same
  thing; a different place, number, quarter or product name is not). Objectives are compared
  within a cycle, projects among open ones, people among everyone.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Max, Q
from django.urls import reverse

from health import matching
from health.kinds import Kind
from okrs.models import CheckIn, KeyResult, Objective, Project, ProjectStatus, Task, TaskStatus
from orgs.models import Organization, OrgOwned, Person
from orgs.tenancy import live_q
from sync.models import Connection, RunKind, RunStatus, SyncIssue, SyncRun
from sync.reconcile.adapters import ENTITY_MODELS, model_entity
from sync.values import problem_code, problem_value

OPEN_PROJECT = (ProjectStatus.PLANNED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)
CONTRADICTION_SHARE = Decimal("0.10")  # of the key result's range


@dataclass(frozen=True)
class Ref:
    """A record a finding is about, as the page and the JSON show it."""

    model: str  # the entity: "task", "project", ...
    id: int
    label: str
    context: str = ""  # where it sits: project, pathway, owner
    airtable: dict | None = None  # {"base", "table", "record"} for synced rows
    version: str = ""  # changes when the row does: a dismissal lasts until then
    url: str = ""  # its page in MissionOS

    def as_json(self) -> dict:
        return {
            "model": self.model,
            "id": self.id,
            "label": self.label,
            "context": self.context,
            "airtable": self.airtable,
            "url": self.url,
        }


@dataclass
class Draft:
    kind: Kind
    key: str
    records: list[Ref]
    detail: str
    fields: list[dict] = field(default_factory=list)
    score: float | None = None
    fix: dict = field(default_factory=dict)  # the page's action for it (health.actions)


@dataclass(frozen=True)
class Context:
    organization: Organization
    now: datetime.datetime
    abandoned_after_days: int = 60
    stale_key_result_weeks: int = 6
    bases: dict[int, str] = field(default_factory=dict)  # connection id -> base id
    # A refresh's rows (entity -> ids): only their findings are computed, and the detectors
    # over the whole plan (duplicates, cells, blank rows, links) wait for the next full one.
    scope: dict[str, set[int]] | None = None

    @property
    def today(self) -> datetime.date:
        return self.now.date()

    # Read once per computation, whichever detectors ask.

    @cached_property
    def schema_names(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Table id -> (its name, field id -> name), from the connections' last schema reads."""
        names: dict[str, tuple[str, dict[str, str]]] = {}
        schemas = Connection.objects.for_org(self.organization).values_list("schema", flat=True)
        for schema in schemas:
            for table in (schema or {}).get("tables", []):
                fields = {f.get("id"): f.get("name") for f in table.get("fields", [])}
                names[table.get("id")] = (table.get("name") or table.get("id"), fields)
        return names

    @cached_property
    def latest_full_runs(self) -> list[tuple[int, dict]]:
        """(id, field census) of each connection's latest complete full run: only a run that
        saw the whole base can say a record is gone or a field is empty everywhere."""
        runs = []
        for connection_id in self.bases:
            run = (
                SyncRun.objects.for_org(self.organization)
                .filter(connection_id=connection_id, kind=RunKind.FULL, status=RunStatus.SUCCEEDED)
                .order_by("-finished_at", "-pk")
                .values_list("pk", "field_fill")
                .first()
            )
            if run is not None:
                runs.append(run)
        return runs

    @cached_property
    def latest_check_ins(self) -> dict[int, CheckIn]:
        """The latest check-in of each key result in scope (one query)."""
        latest: dict[int, CheckIn] = {}
        check_ins = (
            CheckIn.objects.for_org(self.organization)
            .filter(key_result__in=_key_results(self).values("pk"))
            .order_by("key_result_id", "checked_in_at", "pk")
            .only("key_result_id", "value", "checked_in_at")
        )
        for check_in in check_ins.iterator(chunk_size=2000):
            latest[check_in.key_result_id] = check_in
        return latest

    @property
    def unscoped(self) -> Context:
        return replace(self, scope=None)

    def url(self, name: str, anchor: str = "", **kwargs) -> str:
        path = reverse(name, kwargs={"org_slug": self.organization.slug, **kwargs})
        return f"{path}#{anchor}" if anchor else path

    def ref(self, row: OrgOwned, model: str, label: str, context: str = "") -> Ref:
        airtable = None
        if row.source_record_id and row.source_connection_id in self.bases:
            airtable = {
                "base": self.bases[row.source_connection_id],
                "table": row.source_table,
                "record": row.source_record_id,
            }
        return Ref(
            model=model,
            id=row.pk,
            label=label,
            context=context,
            airtable=airtable,
            version=row.updated_at.isoformat() if row.updated_at else "",
            url=self._page_of(row),
        )

    def _page_of(self, row: OrgOwned) -> str:
        if isinstance(row, Project):
            return self.url("project_detail", project_id=row.pk)
        if isinstance(row, Task):
            if row.project_id:
                return self.url("project_detail", f"task-{row.pk}", project_id=row.project_id)
            return self.url("task_edit", task_id=row.pk)
        if isinstance(row, KeyResult):
            return self.url("objective_detail", f"kr-{row.pk}", objective_id=row.objective_id)
        if isinstance(row, Objective):
            return self.url("objective_detail", objective_id=row.pk)
        if isinstance(row, Person):
            return self.url("person_edit", person_id=row.pk)
        return ""


def context_for(organization: Organization, *, now: datetime.datetime, **settings) -> Context:
    bases = dict(Connection.objects.for_org(organization).values_list("pk", "base_id"))
    return Context(organization=organization, now=now, bases=bases, **settings)


def _day(moment: datetime.date | datetime.datetime) -> str:
    return f"{moment:%-d %b %Y}"


def _project_context(project: Project) -> str:
    parts = [project.pathway.name if project.pathway else "no pathway"]
    if project.owner:
        parts.append(project.owner.name)
    return " · ".join(parts)


def _task_context(task: Task) -> str:
    parts = [task.project.name if task.project else "no project"]
    if task.assignee:
        parts.append(task.assignee.name)
    return " · ".join(parts)


# What a finding's record reference needs of any row (Context.ref): loaded without the rest
# (source_extra above all, a JSON document per row).
REF_FIELDS = (
    "id",
    "organization_id",
    "source_record_id",
    "source_table",
    "source_connection_id",
    "updated_at",
)
PROJECT_FIELDS = (*REF_FIELDS, "name", "status", "ends_on", "last_activity_at", "pathway_id",
                  "owner_id", "pathway__name", "owner__name")  # fmt: skip
TASK_FIELDS = (*REF_FIELDS, "title", "status", "due_on", "project_id", "assignee_id",
               "project__name", "assignee__name", "assignee__departed_on")  # fmt: skip


def _scoped(ctx: Context, queryset, entity: str):
    """The rows of a refresh's scope (all of them without one)."""
    if ctx.scope is None:
        return queryset
    return queryset.filter(pk__in=ctx.scope.get(entity, ()))


def _open_projects(ctx: Context, *, scoped: bool = True):
    projects = (
        Project.objects.for_org(ctx.organization)
        .filter(status__in=OPEN_PROJECT)
        .select_related("pathway", "owner")
        .only(*PROJECT_FIELDS)
    )
    return _scoped(ctx, projects, "project") if scoped else projects


def _open_tasks(ctx: Context):
    tasks = (
        Task.objects.for_org(ctx.organization)
        .exclude(status=TaskStatus.DONE)
        .select_related("project", "assignee")
        .only(*TASK_FIELDS)
    )
    return _scoped(ctx, tasks, "task")


# -- projects ---------------------------------------------------------------------------------


def abandoned_projects(ctx: Context) -> Iterator[Draft]:
    cutoff = ctx.now - datetime.timedelta(days=ctx.abandoned_after_days)
    live_tasks = live_q("tasks")
    projects = _open_projects(ctx).annotate(
        task_count=Count("tasks", filter=live_tasks),
        open_task_count=Count("tasks", filter=live_tasks & ~Q(tasks__status=TaskStatus.DONE)),
        last_task_change=Max("tasks__last_activity_at", filter=live_tasks),
    )
    for project in projects:
        moments = [project.last_activity_at, project.last_task_change]
        last = max(m for m in moments if m is not None)
        status = project.get_status_display().lower()
        if project.task_count and not project.open_task_count:
            detail = (
                f"All {project.task_count} of its tasks are done, but the project is still "
                f"{status}."
            )
        elif last < cutoff:
            days = (ctx.now - last).days
            tasks = f" or its {project.task_count} tasks" if project.task_count else ""
            detail = (
                f"{status.capitalize()}, but nothing on it{tasks} has changed since "
                f"{_day(last)} ({days} days)."
            )
        else:
            continue
        ref = ctx.ref(project, "project", project.name, _project_context(project))
        fix = {"action": "close_project", "project": project.pk}
        yield Draft(Kind.ABANDONED_PROJECT, f"project:{project.pk}", [ref], detail, fix=fix)


def projects_without_pathway(ctx: Context) -> Iterator[Draft]:
    for project in _open_projects(ctx).filter(pathway=None):
        ref = ctx.ref(project, "project", project.name, _project_context(project))
        detail = "An open project in no strategic pathway: it counts towards none."
        yield Draft(Kind.PROJECT_NO_PATHWAY, f"project:{project.pk}", [ref], detail)


def projects_without_objective(ctx: Context) -> Iterator[Draft]:
    projects = _open_projects(ctx).annotate(
        objective_count=Count("objectives", filter=live_q("objectives"))
    )
    for project in projects.filter(objective_count=0):
        ref = ctx.ref(project, "project", project.name, _project_context(project))
        detail = "An open project linked to no objective: nobody can tell what it serves."
        yield Draft(Kind.PROJECT_NO_OBJECTIVE, f"project:{project.pk}", [ref], detail)


# -- tasks ------------------------------------------------------------------------------------


def tasks_of_departed_people(ctx: Context) -> Iterator[Draft]:
    tasks = _open_tasks(ctx).filter(
        assignee__departed_on__isnull=False, assignee__departed_on__lte=ctx.today
    )
    for task in tasks:
        person = task.assignee
        detail = f"Still assigned to {person.name}, who left on {_day(person.departed_on)}."
        ref = ctx.ref(task, "task", task.title, _task_context(task))
        fix = {"action": "reassign_tasks", "person": person.pk, "person_name": person.name}
        yield Draft(Kind.TASK_DEPARTED_ASSIGNEE, f"task:{task.pk}", [ref], detail, fix=fix)


def unassigned_tasks(ctx: Context) -> Iterator[Draft]:
    for task in _open_tasks(ctx).filter(assignee=None):
        detail = f"{task.get_status_display()}, with nobody assigned."
        ref = ctx.ref(task, "task", task.title, _task_context(task))
        yield Draft(Kind.TASK_UNASSIGNED, f"task:{task.pk}", [ref], detail)


def tasks_without_project(ctx: Context) -> Iterator[Draft]:
    tasks = (
        Task.objects.for_org(ctx.organization)
        .filter(project=None)
        .select_related("project", "assignee")
        .only(*TASK_FIELDS)
    )
    tasks = _scoped(ctx, tasks, "task")
    for task in tasks:
        detail = "In no project: it shows on no project page and counts towards no pathway."
        ref = ctx.ref(task, "task", task.title, _task_context(task))
        yield Draft(Kind.TASK_NO_PROJECT, f"task:{task.pk}", [ref], detail)


def past_due(ctx: Context) -> Iterator[Draft]:
    for task in _open_tasks(ctx).filter(due_on__lt=ctx.today):
        days = (ctx.today - task.due_on).days
        detail = f"{task.get_status_display()}, due {_day(task.due_on)} ({days} days ago)."
        ref = ctx.ref(task, "task", task.title, _task_context(task))
        yield Draft(Kind.PAST_DUE, f"task:{task.pk}", [ref], detail)
    for project in _open_projects(ctx).filter(ends_on__lt=ctx.today):
        days = (ctx.today - project.ends_on).days
        detail = (
            f"{project.get_status_display()}, but it was due to end {_day(project.ends_on)} "
            f"({days} days ago)."
        )
        ref = ctx.ref(project, "project", project.name, _project_context(project))
        yield Draft(Kind.PAST_DUE, f"project:{project.pk}", [ref], detail)


# -- key results ------------------------------------------------------------------------------


KEY_RESULT_FIELDS = (*REF_FIELDS, "title", "objective_id", "objective__title", "created_at",
                     "start_value", "target_value", "current_value")  # fmt: skip


def _key_results(ctx: Context):
    key_results = (
        KeyResult.objects.for_org(ctx.organization)
        .select_related("objective")
        .only(*KEY_RESULT_FIELDS)
    )
    return _scoped(ctx, key_results, "key_result")


def current_key_results(ctx: Context):
    return (
        _key_results(ctx)
        .filter(live_q("objective"))
        .filter(Q(objective__cycle=None) | Q(objective__cycle__ends_on__gte=ctx.today))
    )


def stale_key_results(ctx: Context) -> Iterator[Draft]:
    since = ctx.now - datetime.timedelta(weeks=ctx.stale_key_result_weeks)
    key_results = list(current_key_results(ctx).filter(created_at__lt=since))
    latest = ctx.latest_check_ins
    for kr in key_results:
        check_in = latest.get(kr.pk)
        if check_in is not None and check_in.checked_in_at >= since:
            continue
        if check_in is None:
            detail = f"No check-in since it was set, {_day(kr.created_at)}."
        else:
            weeks = (ctx.now - check_in.checked_in_at).days // 7
            detail = f"No check-in since {_day(check_in.checked_in_at)} ({weeks} weeks)."
        ref = ctx.ref(kr, "key_result", kr.title, kr.objective.title)
        yield Draft(Kind.KEY_RESULT_STALE, f"key_result:{kr.pk}", [ref], detail)


def values_contradicting_check_ins(ctx: Context) -> Iterator[Draft]:
    key_results = list(_key_results(ctx))
    latest = ctx.latest_check_ins
    for kr in key_results:
        check_in = latest.get(kr.pk)
        if check_in is None:
            continue
        span = abs(kr.target_value - kr.start_value) or max(abs(kr.target_value), Decimal(1))
        gap = abs(kr.current_value - check_in.value)
        if gap <= span * CONTRADICTION_SHARE:
            continue
        detail = (
            f"Its current value is {_number(kr.current_value)}, but the latest check-in "
            f"({_day(check_in.checked_in_at)}) says {_number(check_in.value)}."
        )
        ref = ctx.ref(kr, "key_result", kr.title, kr.objective.title)
        yield Draft(Kind.VALUE_CONTRADICTS_CHECKINS, f"key_result:{kr.pk}", [ref], detail)


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


# -- links ------------------------------------------------------------------------------------


def broken_links(ctx: Context) -> Iterator[Draft]:
    """Links to missing records, as each connection's latest full run found them (a run that
    did not see the whole base cannot say a record is gone)."""
    latest_runs = [pk for pk, _ in ctx.latest_full_runs]
    # One row per problem while it lasts: the link problems standing now, of the connections
    # a full run has seen whole.
    connections = SyncRun.objects.for_org(ctx.organization).filter(pk__in=latest_runs)
    issues = SyncIssue.objects.for_org(ctx.organization).filter(
        connection_id__in=connections.values("connection_id"), kind=SyncIssue.Kind.LINK
    )
    by_record: dict[tuple[int, str], list[SyncIssue]] = defaultdict(list)
    for issue in issues:
        by_record[(issue.connection_id, issue.record_id)].append(issue)
    rows = _rows_by_record(ctx, {record for _, record in by_record})
    for (_connection_id, record_id), found in by_record.items():
        row = rows.get(record_id)
        if row is None:
            continue  # the record itself is gone or was never kept
        model, label = row
        fields = [
            {
                "table": issue.table_id,
                "field": issue.field_id,
                "table_name": issue.table_name,
                "field_name": issue.field_name,
            }
            for issue in found
        ]
        names = ", ".join(sorted({issue.field_name or issue.field_id for issue in found}))
        ref = ctx.ref(model, _entity(model), label)
        detail = f"{names}: {found[0].reason}."
        key = f"{_entity(model)}:{model.pk}:" + ",".join(sorted(f["field"] for f in fields))
        yield Draft(Kind.BROKEN_LINK, key, [ref], detail, fields=fields)


def _entity(row: OrgOwned) -> str:
    return model_entity(type(row)) or type(row).__name__.lower()


def _rows_by_record(ctx: Context, record_ids: set[str]) -> dict[str, tuple[OrgOwned, str]]:
    """Record id -> (row, label) across the synced models (one query per model)."""
    found: dict[str, tuple[OrgOwned, str]] = {}
    if not record_ids:
        return found
    for model in ENTITY_MODELS.values():
        for row in model.objects.for_org(ctx.organization).filter(source_record_id__in=record_ids):
            found[row.source_record_id] = (row, str(row))
    return found


# -- duplicates -------------------------------------------------------------------------------


def duplicate_objectives(ctx: Context) -> Iterator[Draft]:
    objectives = (
        Objective.objects.for_org(ctx.organization)
        .select_related("pathway", "owner")
        .defer("source_extra", "description", "pathway__source_extra", "owner__source_extra")
    )
    by_cycle: dict[int | None, list[Objective]] = defaultdict(list)
    for objective in objectives:
        by_cycle[objective.cycle_id].append(objective)

    def context(objective: Objective) -> str:
        parts = [objective.pathway.name if objective.pathway else "no pathway"]
        if objective.owner:
            parts.append(objective.owner.name)
        return " · ".join(parts)

    for group in by_cycle.values():
        yield from _title_duplicates(
            ctx, Kind.DUPLICATE_OBJECTIVES, "objective", group, lambda o: o.title, context
        )


def duplicate_projects(ctx: Context) -> Iterator[Draft]:
    yield from _title_duplicates(
        ctx,
        Kind.DUPLICATE_PROJECTS,
        "project",
        list(_open_projects(ctx, scoped=False)),
        lambda p: p.name,
        _project_context,
    )


def _title_duplicates(
    ctx: Context,
    kind: Kind,
    model: str,
    rows: list,
    title: Callable[[object], str],
    context: Callable[[object], str],
) -> Iterator[Draft]:
    by_id = {row.pk: row for row in rows}
    items = [matching.Item(id=row.pk, text=title(row)) for row in rows]
    for cluster in matching.title_clusters(items):
        members = [by_id[pk] for pk in cluster.ids]
        refs = [ctx.ref(row, model, title(row), context(row)) for row in members]
        holders = "; ".join(f"“{ref.label}” ({ref.context})" for ref in refs)
        detail = f"{len(refs)} {model.replace('_', ' ')}s that read as the same: {holders}."
        key = f"{model}s:" + ",".join(map(str, cluster.ids))
        fix = {"action": "merge", "model": model, "ids": list(cluster.ids)}
        yield Draft(kind, key, refs, detail, score=round(cluster.score, 3), fix=fix)


def duplicate_people(ctx: Context) -> Iterator[Draft]:
    people = list(Person.objects.for_org(ctx.organization).defer("source_extra"))
    by_id = {person.pk: person for person in people}
    items = [matching.Item(id=p.pk, text=p.name, email=p.email) for p in people]
    for cluster in matching.people_clusters(items):
        members = [by_id[pk] for pk in cluster.ids]
        refs = [
            ctx.ref(person, "person", person.name, person.email or "no email") for person in members
        ]
        holders = "; ".join(f"{ref.label} ({ref.context})" for ref in refs)
        detail = f"{len(refs)} entries in the directory for one person: {holders}."
        key = "people:" + ",".join(map(str, cluster.ids))
        fix = {"action": "merge", "model": "person", "ids": list(cluster.ids)}
        yield Draft(
            Kind.DUPLICATE_PEOPLE, key, refs, detail, score=round(cluster.score, 3), fix=fix
        )


# -- what the sync found in the cells ---------------------------------------------------------


def _rows_with_problems(ctx: Context) -> Iterator[tuple[OrgOwned, str, str, str]]:
    """(row, problem code, field id, reason) for each problem the sync left on a live row
    (`source_extra["issues"]`, rewritten each time the row is: always the current ones)."""
    for model in ENTITY_MODELS.values():
        rows = model.objects.for_org(ctx.organization).filter(source_extra__has_key="issues")
        for row in rows.iterator(chunk_size=2000):
            for kind, field_id, reason in row.source_extra.get("issues") or ():
                code = problem_code(reason) if kind == SyncIssue.Kind.VALUE else None
                if code is not None:
                    yield row, code, field_id, reason


CELL_KINDS = {
    "formula_error": Kind.FORMULA_ERROR,
    "value_not_number": Kind.VALUE_NOT_NUMBER,
    "unmapped_value": Kind.UNMAPPED_VALUE,
}
RECORDS_LISTED = 25  # per finding about a field: the count says how many in all


def unmapped_formula_errors(ctx: Context) -> Iterator[Draft]:
    """Formulas giving errors in fields the mapping does not read (the mapped ones are the
    rows' own problems, in cell_problems), as the latest full run's census found them."""
    names = ctx.schema_names
    mapped = {
        field_id
        for schema in Connection.objects.for_org(ctx.organization).values_list("mapping", flat=True)
        for entity in (schema or {}).get("entities", {}).values()
        for field_id in (entity.get("fields") or {}).values()
    }
    for census in _latest_censuses(ctx):
        for table_id, counted in sorted(census.items()):
            table_name, field_names = names.get(table_id, (table_id, {}))
            for field_id, found in sorted((counted.get("errors") or {}).items()):
                if field_id in mapped:
                    continue
                rows = _rows_by_record(ctx, set(found["records"]))
                refs = [ctx.ref(row, _entity(row), label) for row, label in rows.values()]
                errors = ", ".join(f"“{e}”" for e in sorted(set(found["records"].values())))
                count = found["count"]
                field_name = field_names.get(field_id) or field_id
                detail = (
                    f"{field_name} of {table_name} gives {errors} in {count} "
                    f"record{'s' if count != 1 else ''}: fix its formula."
                )
                field = {"table": table_id, "field": field_id, "table_name": table_name,
                         "field_name": field_name}  # fmt: skip
                yield Draft(Kind.FORMULA_ERROR, f"{table_id}:{field_id}", refs, detail, [field])


def cell_problems(ctx: Context) -> Iterator[Draft]:
    """One finding per field (and, for values the mapping does not know, per value), naming
    the records that show it: the fix is in the base or the mapping, once."""
    names = ctx.schema_names
    groups: dict[tuple, list[tuple[OrgOwned, str]]] = defaultdict(list)
    for row, code, field_id, reason in _rows_with_problems(ctx):
        value = problem_value(reason) if code == "unmapped_value" else ""
        groups[(code, row.source_table, field_id, value.casefold())].append((row, reason))
    for (code, table_id, field_id, value_key), found in sorted(groups.items()):
        table_name, field_names = names.get(table_id, (table_id, {}))
        field_name = field_names.get(field_id) or field_id
        field = {"table": table_id, "field": field_id, "table_name": table_name,
                 "field_name": field_name}  # fmt: skip
        examples = sorted({problem_value(reason) for _, reason in found} - {""})[:3]
        shown = ", ".join(f"“{example}”" for example in examples)
        count = f"{len(found)} record{'s' if len(found) != 1 else ''}"
        if code == "unmapped_value":
            detail = (f"{count} of {table_name} say {shown} in {field_name}, which the mapping "
                      "does not know: their value is left empty here.")  # fmt: skip
        elif code == "value_not_number":
            detail = (f"{field_name} of {table_name} holds numbers as text in {count} "
                      f"({shown}): make it a number field, or fix the values.")  # fmt: skip
        else:
            detail = f"{field_name} of {table_name} gives {shown} in {count}: fix its formula."
        refs = [ctx.ref(row, _entity(row), str(row)) for row, _ in found[:RECORDS_LISTED]]
        key = f"{table_id}:{field_id}" + (f":{value_key}" if value_key else "")
        yield Draft(CELL_KINDS[code], key, refs, detail, fields=[field])


def empty_records(ctx: Context) -> Iterator[Draft]:
    """Blank rows: kept (archived) for provenance, shown and counted nowhere. One finding per
    table: deleting them in Airtable is one job."""
    names = ctx.schema_names
    by_table: dict[str, list[OrgOwned]] = defaultdict(list)
    for model in ENTITY_MODELS.values():
        rows = model.objects.for_org(ctx.organization, include_archived=True).filter(
            source_extra__blank=True
        )
        for row in rows:
            by_table[row.source_table].append(row)
    for table_id, rows in sorted(by_table.items()):
        table_name = names.get(table_id, (table_id, {}))[0]
        count = len(rows)
        plural = "s" if count != 1 else ""
        detail = (
            f"{count} blank row{plural} in {table_name}: kept for provenance, but shown and "
            "counted nowhere here. Delete them in Airtable."
        )
        refs = [ctx.ref(row, _entity(row), row.source_record_id) for row in rows[:RECORDS_LISTED]]
        field = {"table": table_id, "field": "", "table_name": table_name, "field_name": ""}
        yield Draft(Kind.EMPTY_RECORD, table_id, refs, detail, fields=[field])


def _latest_censuses(ctx: Context) -> list[dict]:
    return [fill for _, fill in ctx.latest_full_runs if fill]


def census_fields(ctx: Context) -> int:
    """How many fields the synced tables have (what empty fields are counted against)."""
    names = ctx.schema_names
    return sum(
        len(names.get(table_id, ("", {}))[1])
        for census in _latest_censuses(ctx)
        for table_id in census
    )


def empty_fields(ctx: Context) -> Iterator[Draft]:
    """Fields of a synced table, mapped or not, that no record fills in, as the latest full run
    counted them (a field filled in one record is in use: not one of these)."""
    names = ctx.schema_names
    for census in _latest_censuses(ctx):
        for table_id, counted in sorted(census.items()):
            records = counted.get("records", 0)
            table_name, fields = names.get(table_id, (table_id, {}))
            if not records:
                continue
            filled = counted.get("filled", {})
            for field_id, field_name in fields.items():
                if filled.get(field_id):
                    continue
                detail = (
                    f"{field_name} of {table_name} is empty in all {records} records: fill it "
                    "in, or delete it from the base."
                )
                field = {"table": table_id, "field": field_id, "table_name": table_name,
                         "field_name": field_name}  # fmt: skip
                yield Draft(Kind.EMPTY_FIELD, f"{table_id}:{field_id}", [], detail, fields=[field])


# A pair of fields whose values, where both are filled, read as the same kind of thing in at
# least this share of records (and in at least MIN_BOTH records): sync.reconcile.field_pairs.
SAME_KIND_SHARE = 0.8
MIN_BOTH = 3


def duplicate_fields(ctx: Context) -> Iterator[Draft]:
    """Two fields of a table holding the same information under near-identical names, as the
    latest full run sampled them: one is a copy, in step or gone stale."""
    names = ctx.schema_names
    for census in _latest_censuses(ctx):
        for table_id, counted in sorted(census.items()):
            table_name, fields = names.get(table_id, (table_id, {}))
            for pair in counted.get("pairs", []):
                if pair["both"] < MIN_BOTH or pair["same_kind"] < SAME_KIND_SHARE:
                    continue
                a, b = pair["fields"]
                name_a, name_b = fields.get(a, a), fields.get(b, b)
                agree = pair["agree"]
                state = (
                    "they agree in every one"
                    if agree >= 1
                    else f"they agree in {agree:.0%}: one has gone stale"
                )
                detail = (
                    f"{name_a} and {name_b} of {table_name} hold the same information (both filled "
                    f"in {pair['both']} records; {state}). Keep one, and move what only the other "
                    "says."
                )
                refs = [
                    {"table": table_id, "field": f, "table_name": table_name, "field_name": n}
                    for f, n in ((a, name_a), (b, name_b))
                ]
                yield Draft(Kind.DUPLICATE_FIELDS, f"{table_id}:{a}:{b}", [], detail, fields=refs)


DETECTORS: tuple[Callable[[Context], Iterable[Draft]], ...] = (
    abandoned_projects,
    tasks_of_departed_people,
    unassigned_tasks,
    tasks_without_project,
    broken_links,
    projects_without_pathway,
    projects_without_objective,
    stale_key_results,
    values_contradicting_check_ins,
    past_due,
    duplicate_objectives,
    duplicate_projects,
    duplicate_people,
    cell_problems,
    unmapped_formula_errors,
    empty_records,
    empty_fields,
    duplicate_fields,
)


# The detectors a refresh of a few rows runs (Context.scope), by what their keys are about.
ROW_DETECTORS: dict[str, tuple[Callable[[Context], Iterable[Draft]], ...]] = {
    "project": (abandoned_projects, projects_without_pathway, projects_without_objective, past_due),
    "task": (tasks_of_departed_people, unassigned_tasks, tasks_without_project, past_due),
    "key_result": (stale_key_results, values_contradicting_check_ins),
}
ROW_KINDS: dict[str, tuple[Kind, ...]] = {
    "project": (Kind.ABANDONED_PROJECT, Kind.PROJECT_NO_PATHWAY, Kind.PROJECT_NO_OBJECTIVE,
                Kind.PAST_DUE),
    "task": (Kind.TASK_DEPARTED_ASSIGNEE, Kind.TASK_UNASSIGNED, Kind.TASK_NO_PROJECT,
             Kind.PAST_DUE),
    "key_result": (Kind.KEY_RESULT_STALE, Kind.VALUE_CONTRADICTS_CHECKINS),
}  # fmt: skip


# A refresh may also recompute one model's duplicates whole (after a merge): scope["duplicates"]
# names the models.
DUPLICATE_DETECTORS: dict[str, tuple[Callable[[Context], Iterable[Draft]], Kind]] = {
    "objective": (duplicate_objectives, Kind.DUPLICATE_OBJECTIVES),
    "project": (duplicate_projects, Kind.DUPLICATE_PROJECTS),
    "person": (duplicate_people, Kind.DUPLICATE_PEOPLE),
}


def detect(ctx: Context) -> list[Draft]:
    if ctx.scope is None:
        return [draft for detector in DETECTORS for draft in detector(ctx)]
    detectors = {d for entity in ctx.scope for d in ROW_DETECTORS.get(entity, ())}
    detectors |= {DUPLICATE_DETECTORS[m][0] for m in ctx.scope.get("duplicates", ())}
    return [draft for detector in DETECTORS if detector in detectors for draft in detector(ctx)]


def scope_kinds(scope: dict[str, set]) -> list[Kind]:
    """The kinds a refresh recomputes whole (each of their findings may be raised or resolved)."""
    return [DUPLICATE_DETECTORS[model][1] for model in sorted(scope.get("duplicates", ()))]


def scope_keys(scope: dict[str, set[int]]) -> list[str]:
    """The keys of every finding a refresh of these rows may raise or resolve."""
    return [
        f"{kind}:{entity}:{pk}"
        for entity, pks in scope.items()
        for kind in ROW_KINDS.get(entity, ())
        for pk in pks
    ]
