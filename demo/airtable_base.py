"""The demo organization's Airtable base (Northwind Health), mess included, and loading it.

`manage.py seed_demo` does not build Northwind Health in the ORM. It builds this base, serves it
on a fake Airtable inside the process, connects it as an ops person would
(`services.connection_create`: the schema is read and a mapping proposed) and runs a real full
sync (`services.run_request` + `services.run_execute`: the pyairtable client over HTTP, the
reconciler, link resolution, issues). So `make run` exercises the sync, and the demo's
data-health findings are the sync's own.

The base holds demo.builder's plan for Northwind Health (`OrgBuilder.plan()`: the very people,
pathways, objectives, key results, check-ins, projects and tasks the ORM would have saved),
laid out the way an organization keeps them in Airtable, with the mess a real base has:

- Status spellings that drift: "Done", "done ", "Completed", "In Progress", "in progress",
  "Paused", "Waiting on others"... which the proposed mapping understands, and "TBC" on a few
  action items, which it does not: one issue each (the task stays "to do").
- Duplicated fields: Objectives has "Owner" and "Owner 2" (a previous owner nobody cleared),
  Initiatives "Status" and "Status (old)" (stale values). The mapping picks "Owner" and
  "Status"; the duplicates are kept in each row's provenance (`source_extra`), not used.
- Links to deleted records: two action items still point at an initiative deleted from the
  base (one of them at a deleted team member too), and an initiative at a deleted objective.
- Formula errors: the key results' "Weight" is `{Impact} / {Effort}`: `#ERROR!` where Effort is
  0, `NaN` where both are. The sync reports them; the weight falls back to 1.
- Empty records: blank rows in Action Items (kept, "(untitled ...)", reported) and Check-ins
  (skipped: a check-in needs a value; reported).
- People who left: "Active" unticked and a "Left on" date, except one whose box is still ticked
  (nobody updated the row): "Left on" alone makes them departed.
- And what demo.builder plans anyway: stale "active" initiatives, open action items held by
  people who left, the same objective tracked twice, an objective without key results.

Dates are relative to `today`, and the base is as of midnight: it is the same all day (a second
sync the same day changes nothing) and always looks current.

Project activity: `Project.last_activity_at` is not a synced attribute
(`sync.mapping.catalogue.ENTITIES` has nothing for it). The base carries Airtable's own signal,
a "Last modified" field (type lastModifiedTime, left unmapped, so kept in `source_extra`);
`after_sync()` copies it into `last_activity_at`, which is what makes the stale initiatives
stale.

`write_snapshot()` writes the base as of today to `devtools/fixtures/northwind-base.json`
(the fixture format of `devtools.fakeairtable.model`; `manage.py seed_demo
--write-snapshot`), to serve it by hand::

    uv run python -m devtools.fakeairtable --base devtools/fixtures/northwind-base.json \\
        --token patNorthwindDemo.missionos-demo-token --no-rate-limit

devtools/ is imported only to build or serve the base (`_fakeairtable()`): the production image
leaves it out, and there seed_demo stops with FakeAirtableMissing, which says so.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from demo.builder import OrgBuilder
from demo.specs import NORTHWIND, USERS
from okrs.models import CheckIn, MetricType, Project, ProjectStatus, TaskStatus
from orgs.models import Organization, Person
from sync import selectors, services
from sync.airtable.client import SyncError
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import Connection, RunKind, RunStatus, SyncIssue, SyncRun

BASE_ID = "appNorthwindDemo0"
BASE_NAME = "Northwind Health plans"
# Published on purpose, like the demo password: it opens only the fake's copy of the demo base.
TOKEN = "patNorthwindDemo.missionos-demo-token"
CONNECTION_NAME = "Northwind Health plans (demo base)"
SNAPSHOT_PATH = settings.BASE_DIR / "devtools" / "fixtures" / "northwind-base.json"

logger = logging.getLogger(__name__)


class DemoSyncError(Exception):
    """The demo base could not be loaded through the sync; the message says why."""


class FakeAirtableMissing(DemoSyncError):
    """devtools/ (the fake Airtable that serves the demo base) is not installed."""


def _fakeairtable() -> ModuleType:
    """devtools.fakeairtable: it serves the demo base and defines the fixture format the base is
    written in. Imported here, when needed, because the production image leaves devtools/ out."""
    try:
        from devtools import fakeairtable
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "devtools":
            raise  # devtools is there but broken: that is a bug to see, not a missing tool
        raise FakeAirtableMissing(
            "seed_demo loads Northwind Health through the fake Airtable in devtools/, which this "
            "installation leaves out (the production image does). Run it from a source "
            "checkout: make run."
        ) from error
    return fakeairtable


# --------------------------------------------------------------------------------------------
# Ids: Airtable-shaped, derived from what a record is, so every build names it the same
# --------------------------------------------------------------------------------------------


# What Airtable ids are made of after their prefix (the fake's ID_ALPHABET too).
ID_CHARS = string.ascii_letters + string.digits


def airtable_id(prefix: str, key: str) -> str:
    """`prefix` (rec, tbl, fld, sel) and 14 letters or digits hashed from `key`: the same on
    every build and machine."""
    number = int.from_bytes(hashlib.sha256(f"northwind-demo:{key}".encode()).digest(), "big")
    chars = []
    for _ in range(14):
        number, digit = divmod(number, len(ID_CHARS))
        chars.append(ID_CHARS[digit])
    return prefix + "".join(chars)


def table_id(table: str) -> str:
    return airtable_id("tbl", table)


def field_id(table: str, name: str) -> str:
    return airtable_id("fld", f"{table}.{name}")


# --------------------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------------------

TEAM = "Team"
PILLARS = "Strategic Pillars"
QUARTERS = "Quarters"
OBJECTIVES = "Objectives"
KEY_RESULTS = "Key Results"
CHECK_INS = "Check-ins"
INITIATIVES = "Initiatives"
ACTION_ITEMS = "Action Items"
RISKS = "Risk Register"  # not a MissionOS entity: left unmapped, never pulled

PROJECT_STATUS_SPELLINGS: dict[str, tuple[str, ...]] = {
    ProjectStatus.PLANNED: ("Not started", "Planned"),
    ProjectStatus.ACTIVE: ("In Progress", "in progress", "Active"),
    ProjectStatus.ON_HOLD: ("On hold", "Paused"),
    ProjectStatus.DONE: ("Done", "done ", "Completed"),
    ProjectStatus.ABANDONED: ("Cancelled", "Abandoned"),
}
OLD_PROJECT_STATUSES = ("Proposed", "Not started", "In progress", "Stuck", "Complete")
TASK_STATUS_SPELLINGS: dict[str, tuple[str, ...]] = {
    TaskStatus.TODO: ("To do", "Not started"),
    TaskStatus.IN_PROGRESS: ("In Progress", "in progress", "Doing"),
    TaskStatus.BLOCKED: ("Blocked", "Waiting on others"),
    TaskStatus.DONE: ("Done", "done ", "Completed"),
}
UNKNOWN_TASK_STATUS = "TBC"  # no mapping knows it: each use is an issue
METRIC_SPELLINGS: dict[str, tuple[str, ...]] = {
    MetricType.NUMBER: ("Number", "#"),
    MetricType.PERCENTAGE: ("%", "Percentage"),
    MetricType.CURRENCY: ("$", "Currency"),
    MetricType.YES_NO: ("Yes/No", "Yes / No"),
    MetricType.MILESTONE: ("Milestones", "Milestone"),
}
DEPARTMENTS = ("Clinical", "Nursing", "Operations", "Finance", "People & Culture", "Digital")
SEVERITIES = ("High", "Medium", "Low")

# The mess, by name (see the module docstring).
STILL_TICKED = "Kevin Park"  # departed, "Active" still ticked
DELETED_INITIATIVE = "Patient portal phase 1"
DELETED_PERSON = "Jordan Blake"
ORPHAN_TASKS = ("Migrate portal accounts to the new login", "Close the portal phase 1 budget")
UNKNOWN_STATUS_TASKS = 4
WEIGHT_ERRORS = 2  # #ERROR! (Effort 0)
WEIGHT_NANS = 1  # NaN (Impact and Effort 0)
EMPTY_ACTION_ITEMS = 2
EMPTY_CHECK_INS = 2


def _choices(table: str, name: str, options: tuple[str, ...]) -> dict:
    return {
        "choices": [
            {"id": airtable_id("sel", f"{table}.{name}:{option}"), "name": option}
            for option in dict.fromkeys(options)
        ]
    }


def _schema() -> dict[str, list[dict[str, Any]]]:
    """table name -> field specs ("id" added later); the first field is the primary one."""

    def text(name: str) -> dict:
        return {"name": name, "type": "singleLineText"}

    def typed(name: str, type_: str, **options: Any) -> dict:
        spec: dict[str, Any] = {"name": name, "type": type_}
        if options:
            spec["options"] = options
        return spec

    def link(name: str, target: str) -> dict:
        return typed(name, "multipleRecordLinks", linkedTableId=table_id(target))

    def date(name: str) -> dict:
        return typed(name, "date", dateFormat={"name": "iso", "format": "YYYY-MM-DD"})

    def moment(name: str) -> dict:
        return typed(
            name,
            "dateTime",
            timeZone="utc",
            dateFormat={"name": "iso", "format": "YYYY-MM-DD"},
            timeFormat={"name": "24hour", "format": "HH:mm"},
        )

    def number(name: str, precision: int = 1) -> dict:
        return typed(name, "number", precision=precision)

    def select(table: str, name: str, options: tuple[str, ...]) -> dict:
        return {"name": name, "type": "singleSelect", "options": _choices(table, name, options)}

    project_statuses = tuple(
        s for spellings in PROJECT_STATUS_SPELLINGS.values() for s in spellings
    )
    task_statuses = tuple(s for spellings in TASK_STATUS_SPELLINGS.values() for s in spellings)
    metrics = tuple(s for spellings in METRIC_SPELLINGS.values() for s in spellings)
    return {
        TEAM: [
            text("Name"),
            typed("Email", "email"),
            typed("Active", "checkbox", icon="check", color="greenBright"),
            date("Left on"),
            select(TEAM, "Department", DEPARTMENTS),
        ],
        PILLARS: [
            text("Name"),
            typed("Description", "multilineText"),
            number("Order", 0),
        ],
        QUARTERS: [text("Name"), date("Start"), date("End")],
        OBJECTIVES: [
            text("Objective"),
            link("Pillar", PILLARS),
            link("Quarter", QUARTERS),
            link("Owner", TEAM),
            link("Owner 2", TEAM),  # Mess: a duplicated field.
            link("Supports", OBJECTIVES),
        ],
        KEY_RESULTS: [
            text("Key Result"),
            link("Objective", OBJECTIVES),
            select(KEY_RESULTS, "Metric type", metrics),
            number("Baseline"),
            number("Current"),
            number("Target"),
            text("Unit"),
            number("Impact", 0),
            number("Effort", 0),
            typed(
                "Weight",
                "formula",
                formula="{Impact} / {Effort}",
                isValid=True,
                referencedFieldIds=[
                    field_id(KEY_RESULTS, "Impact"),
                    field_id(KEY_RESULTS, "Effort"),
                ],
                result={"type": "number", "options": {"precision": 2}},
            ),
            number("Confidence", 0),
            link("Owner", TEAM),
        ],
        CHECK_INS: [
            typed(
                "Check-in",
                "formula",
                formula='{Key Result} & " · " & DATETIME_FORMAT({Date}, "YYYY-MM-DD")',
                isValid=True,
                referencedFieldIds=[field_id(CHECK_INS, "Key Result"), field_id(CHECK_INS, "Date")],
                result={"type": "singleLineText"},
            ),
            link("Key Result", KEY_RESULTS),
            moment("Date"),
            number("Value"),
            number("Confidence", 0),
            typed("Comment", "multilineText"),
            text("Reported by"),
        ],
        INITIATIVES: [
            text("Name"),
            link("Pillar", PILLARS),
            link("Objectives", OBJECTIVES),
            link("Owner", TEAM),
            select(INITIATIVES, "Status", project_statuses),
            select(INITIATIVES, "Status (old)", OLD_PROJECT_STATUSES),  # Mess: stale duplicate.
            date("Start date"),
            date("Target end"),
            typed("Budget", "currency", precision=0, symbol="$"),
            typed(
                "Last modified",
                "lastModifiedTime",
                isValid=True,
                referencedFieldIds=[],
                result={"type": "dateTime", "options": {"timeZone": "utc"}},
            ),
        ],
        ACTION_ITEMS: [
            text("Task"),
            link("Initiative", INITIATIVES),
            link("Assigned to", TEAM),
            select(ACTION_ITEMS, "Status", (*task_statuses, UNKNOWN_TASK_STATUS)),
            date("Due"),
            moment("Completed"),
        ],
        RISKS: [
            text("Risk"),
            link("Initiative", INITIATIVES),
            select(RISKS, "Severity", SEVERITIES),
            typed("Mitigation", "multilineText"),
        ],
    }


SCHEMA = _schema()


# --------------------------------------------------------------------------------------------
# Building the base
# --------------------------------------------------------------------------------------------


def as_of(today: datetime.date) -> datetime.datetime:
    """The moment the base describes: midnight at the start of `today`, local time."""
    return datetime.datetime.combine(
        today, datetime.time(0), tzinfo=timezone.get_current_timezone()
    )


def plan_northwind(today: datetime.date) -> OrgBuilder:
    """demo.builder's plan for Northwind Health as of `today` (no database access)."""
    user_model = get_user_model()
    users = {
        spec.username: user_model(
            username=spec.username,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=spec.email,
        )
        for spec in USERS
    }
    return OrgBuilder(NORTHWIND, users=users, today=today, now=as_of(today)).plan()


def base_data(*, today: datetime.date | None = None) -> dict[str, Any]:
    """The whole base as a fake-Airtable fixture (see sync/fakeairtable/model.py)."""
    today = today or timezone.localdate()
    return _BaseWriter(plan_northwind(today), as_of(today)).data()


def _day(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class _BaseWriter:
    def __init__(self, plan: OrgBuilder, moment: datetime.datetime):
        self.plan = plan
        self.as_of = moment
        self.fixture = _fakeairtable()  # the format: empty values, timestamps, version
        # The mess has its own random stream: the plan comes out as demo.builder makes it.
        self.rng = random.Random(f"{NORTHWIND.seed}:airtable")
        self.records: dict[str, list[dict]] = {table: [] for table in SCHEMA}
        self.names = {table: {spec["name"] for spec in fields} for table, fields in SCHEMA.items()}
        self.ids: dict[int, str] = {}  # id(planned row) -> record id

    def add(
        self,
        table: str,
        key: str,
        values: dict[str, Any],
        *,
        created: datetime.datetime,
        modified: datetime.datetime | None = None,
        row: object = None,
    ) -> str:
        unknown = set(values) - self.names[table]
        assert not unknown, f"{table} has no field {unknown}"
        record_id = airtable_id("rec", f"{table}:{key}")
        record: dict[str, Any] = {
            "id": record_id,
            "createdTime": self.iso(created),
            "fields": {
                field_id(table, name): value
                for name, value in values.items()
                if not self.fixture.is_empty(value)
            },
        }
        if modified is not None:
            record["lastModifiedTime"] = self.iso(modified)
        self.records[table].append(record)
        if row is not None:
            self.ids[id(row)] = record_id
        return record_id

    def ref(self, *rows: object) -> list[str]:
        return [self.ids[id(row)] for row in rows if row is not None]

    def data(self) -> dict[str, Any]:
        self.team()
        self.quarters()
        self.pillars()
        self.objectives()
        self.key_results()
        self.check_ins()
        self.initiatives()
        self.action_items()
        self.risks()
        tables = []
        for table, fields in SCHEMA.items():
            specs = [{"id": field_id(table, spec["name"]), **spec} for spec in fields]
            tables.append(
                {
                    "id": table_id(table),
                    "name": table,
                    "primaryFieldId": specs[0]["id"],
                    "fields": specs,
                    "records": self.records[table],
                }
            )
        version = self.fixture.model.FORMAT_VERSION
        return {"format": version, "id": BASE_ID, "name": BASE_NAME, "tables": tables}

    def iso(self, moment: datetime.datetime) -> str:
        """A timestamp as Airtable writes it (milliseconds, UTC, "Z")."""
        return self.fixture.ms_to_iso(self.fixture.to_ms(moment))

    # Tables -------------------------------------------------------------------------------

    def team(self) -> None:
        assert STILL_TICKED in NORTHWIND.departed
        joined = self.as_of - datetime.timedelta(days=400)
        for person in self.plan.people.values():
            name, email = person.name, person.email
            if self.rng.random() < 0.1:
                name += " "  # Mess: stray whitespace (the sync trims it).
            if self.rng.random() < 0.15:
                email = email.title()  # Mess: capitals (the sync lower-cases emails).
            self.add(
                TEAM,
                person.name,
                {
                    "Name": name,
                    "Email": email,
                    "Active": person.departed_on is None or person.name == STILL_TICKED,
                    "Left on": _day(person.departed_on),
                    "Department": self.rng.choice(DEPARTMENTS),
                },
                created=joined,
                row=person,
            )

    def quarters(self) -> None:
        for cycle in self.plan.cycles:
            self.add(
                QUARTERS,
                cycle.name,
                {"Name": cycle.name, "Start": _day(cycle.starts_on), "End": _day(cycle.ends_on)},
                created=cycle.created_at,
                row=cycle,
            )

    def pillars(self) -> None:
        created = self.as_of - datetime.timedelta(days=400)
        for pathway in self.plan.pathways:
            self.add(
                PILLARS,
                pathway.name,
                {
                    "Name": pathway.name,
                    "Description": pathway.description,
                    "Order": pathway.position,
                },
                created=created,
                row=pathway,
            )

    def objectives(self) -> None:
        people = list(self.plan.people.values())
        # Parents first, so "Supports" can name them (as demo.builder saves them).
        ordered = sorted(self.plan.objectives, key=lambda item: bool(item[1].parent))
        for objective, _spec, cycle, _ in ordered:
            previous_owner = None
            if self.rng.random() < 0.3:  # Mess: "Owner 2", a previous owner never cleared.
                previous_owner = self.rng.choice([p for p in people if p is not objective.owner])
            self.add(
                OBJECTIVES,
                f"{cycle.name}:{objective.title}",
                {
                    "Objective": objective.title,
                    "Pillar": self.ref(objective.pathway),
                    "Quarter": self.ref(cycle),
                    "Owner": self.ref(objective.owner),
                    "Owner 2": self.ref(previous_owner),
                    "Supports": self.ref(objective.parent),
                },
                created=objective.created_at,
                row=objective,
            )

    def key_results(self) -> None:
        items = self.plan.key_results
        broken = self.rng.sample(range(len(items)), WEIGHT_ERRORS + WEIGHT_NANS)
        for index, (key_result, _spec, cycle, _pace) in enumerate(items):
            impact = self.rng.randint(1, 3)
            effort, weight = impact, 1  # demo.builder weighs every key result 1
            if index in broken[:WEIGHT_ERRORS]:
                effort, weight = 0, {"error": "#ERROR!"}  # Mess: division by zero.
            elif index in broken:
                impact = effort = 0
                weight = {"specialValue": "NaN"}  # Mess: 0 / 0.
            self.add(
                KEY_RESULTS,
                f"{cycle.name}:{key_result.objective.title}:{key_result.title}",
                {
                    "Key Result": key_result.title,
                    "Objective": self.ref(key_result.objective),
                    "Metric type": self.rng.choice(METRIC_SPELLINGS[key_result.metric_type]),
                    "Baseline": _number(key_result.start_value),
                    "Current": _number(key_result.current_value),
                    "Target": _number(key_result.target_value),
                    "Unit": key_result.unit,
                    "Impact": impact,
                    "Effort": effort,
                    "Weight": weight,
                    "Confidence": key_result.confidence,
                    "Owner": self.ref(key_result.owner),
                },
                created=key_result.created_at,
                row=key_result,
            )

    def check_ins(self) -> None:
        for check_in in self.plan.check_ins:
            key_result = check_in.key_result
            record = self.ids[id(key_result)]
            owner = key_result.owner
            self.add(
                CHECK_INS,
                f"{record}:{self.iso(check_in.checked_in_at)}",
                {
                    "Check-in": f"{key_result.title} · {check_in.checked_in_at.date()}",
                    "Key Result": [record],
                    "Date": self.iso(check_in.checked_in_at),
                    "Value": _number(check_in.value),
                    "Confidence": check_in.confidence,
                    "Comment": check_in.note,
                    "Reported by": owner.name if owner else "",
                },
                created=check_in.checked_in_at,
            )
        for index in range(EMPTY_CHECK_INS):  # Mess: blank rows.
            moment = self.as_of - datetime.timedelta(days=3 + 11 * index, hours=5)
            self.add(CHECK_INS, f"empty:{index}", {}, created=moment)

    def initiatives(self) -> None:
        deleted_objective = airtable_id("rec", f"{OBJECTIVES}:deleted")
        linked_to_deleted = self.rng.randrange(len(self.plan.projects))
        pairs = zip(self.plan.projects, self.plan.project_objectives, strict=True)
        for index, (project, objectives) in enumerate(pairs):
            links = self.ref(*objectives)
            if index == linked_to_deleted:
                links.append(deleted_objective)  # Mess: a link to a deleted objective.
            status = self.rng.choice(PROJECT_STATUS_SPELLINGS[project.status])
            old = self.rng.choice(OLD_PROJECT_STATUSES) if self.rng.random() < 0.6 else None
            budget = self.rng.randrange(20, 900) * 1000 if self.rng.random() < 0.5 else None
            self.add(
                INITIATIVES,
                project.name,
                {
                    "Name": project.name,
                    "Pillar": self.ref(project.pathway),
                    "Objectives": links,
                    "Owner": self.ref(project.owner),
                    "Status": status,
                    "Status (old)": old,
                    "Start date": _day(project.starts_on),
                    "Target end": _day(project.ends_on),
                    "Budget": budget,
                    "Last modified": self.iso(project.last_activity_at),
                },
                created=project.created_at,
                modified=project.last_activity_at,
                row=project,
            )

    def action_items(self) -> None:
        tasks = self.plan.tasks
        to_do = [
            t
            for t in tasks
            if t.status == TaskStatus.TODO and t.assignee is not self.plan.demo_person
        ]
        unknown = {id(t) for t in self.rng.sample(to_do, UNKNOWN_STATUS_TASKS)}
        for task in tasks:
            status = self.rng.choice(TASK_STATUS_SPELLINGS[task.status])
            if id(task) in unknown:
                status = UNKNOWN_TASK_STATUS  # Mess: a status nobody mapped.
            self.add(
                ACTION_ITEMS,
                f"{task.project.name}:{task.title}",
                {
                    "Task": task.title,
                    "Initiative": self.ref(task.project),
                    "Assigned to": self.ref(task.assignee),
                    "Status": status,
                    "Due": _day(task.due_on),
                    "Completed": self.iso(task.completed_at) if task.completed_at else None,
                },
                created=task.created_at,
                modified=task.completed_at or task.created_at,
            )

        # Mess: action items of an initiative deleted from the base (and of a deleted person).
        deleted_project = airtable_id("rec", f"{INITIATIVES}:{DELETED_INITIATIVE}")
        deleted_person = airtable_id("rec", f"{TEAM}:{DELETED_PERSON}")
        pool = self.plan.pool
        for index, title in enumerate(ORPHAN_TASKS):
            self.add(
                ACTION_ITEMS,
                f"{DELETED_INITIATIVE}:{title}",
                {
                    "Task": title,
                    "Initiative": [deleted_project],
                    "Assigned to": [deleted_person] if index == 0 else self.ref(pool[index]),
                    "Status": ("To do", "In Progress")[index],
                    "Due": _day(self.as_of.date() - datetime.timedelta(days=20 - 9 * index)),
                },
                created=self.as_of - datetime.timedelta(days=120),
            )
        for index in range(EMPTY_ACTION_ITEMS):  # Mess: blank rows.
            moment = self.as_of - datetime.timedelta(days=6 + 17 * index, hours=3)
            self.add(ACTION_ITEMS, f"empty:{index}", {}, created=moment)

    def risks(self) -> None:
        live = [p for p in self.plan.projects if p.status == ProjectStatus.ACTIVE]
        risks = (
            ("Key clinical lead may leave before go-live", "Name a deputy; document decisions."),
            ("Vendor delivery slips past the quarter", "Weekly check-in with the vendor."),
            ("Data extract from the PAS not ready", "Escalated to IT; manual extract as stopgap."),
            ("Winter pressures pull staff off the project", "Protected hours agreed with HR."),
            ("Budget not confirmed for next year", "Board paper in the next cycle."),
        )
        for index, (risk, mitigation) in enumerate(risks):
            self.add(
                RISKS,
                risk,
                {
                    "Risk": risk,
                    "Initiative": self.ref(self.rng.choice(live)),
                    "Severity": SEVERITIES[index % len(SEVERITIES)],
                    "Mitigation": mitigation,
                },
                created=self.as_of - datetime.timedelta(days=40 + 7 * index),
            )


def dumps(data: dict[str, Any]) -> str:
    """The fixture as JSON with one line per field and per record (readable diffs)."""

    def line(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    tables = []
    for table in data["tables"]:
        head = {key: value for key, value in table.items() if key not in ("fields", "records")}
        fields = ",\n".join(f"    {line(spec)}" for spec in table["fields"])
        records = ",\n".join(f"    {line(record)}" for record in table["records"])
        tables.append(
            f"  {line(head)[:-1]},\n"
            f'   "fields": [\n{fields}\n   ],\n'
            f'   "records": [\n{records}\n   ]}}'
        )
    head = {key: value for key, value in data.items() if key != "tables"}
    return line(head)[:-1] + ',\n "tables": [\n' + ",\n".join(tables) + "\n ]}\n"


def write_snapshot(path: str | Path = SNAPSHOT_PATH, *, today: datetime.date | None = None) -> Path:
    """Write the base as of `today` as a fixture `python -m devtools.fakeairtable --base` serves."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(base_data(today=today)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Loading it through the sync
# --------------------------------------------------------------------------------------------


@contextmanager
def _airtable_api_url(url: str) -> Iterator[None]:
    """Point the sync's Airtable client at `url` for the duration (services read the setting
    on every client they make); the previous value comes back even when the sync fails."""
    previous = settings.AIRTABLE_API_URL
    settings.AIRTABLE_API_URL = url
    try:
        yield
    finally:
        settings.AIRTABLE_API_URL = previous


ISSUE_KINDS = (
    # (label, test on an issue), in the order the report lists them.
    ("formula errors", lambda issue: issue.reason.startswith("formula error")),
    ("unknown values", lambda issue: issue.reason.startswith("unknown value")),
    ("links to missing records", lambda issue: issue.kind == SyncIssue.Kind.LINK),
    ("empty required fields", lambda issue: issue.kind == SyncIssue.Kind.REQUIRED),
    ("other values that do not fit", lambda issue: issue.kind == SyncIssue.Kind.VALUE),
    ("MissionOS edits overwritten", lambda issue: issue.kind == SyncIssue.Kind.OVERWRITE),
)


def issue_category(issue: SyncIssue) -> str:
    return next(label for label, test in ISSUE_KINDS if test(issue))


@dataclass
class DemoSync:
    """What loading the demo base did, for the seed report."""

    run: SyncRun
    url: str
    seconds: float
    connected: bool  # the connection was made by this load (else it existed)
    issues: Counter = field(default_factory=Counter)  # category (ISSUE_KINDS) -> count
    examples: list[SyncIssue] = field(default_factory=list)  # one per category

    def lines(self, *, site: str) -> list[str]:
        """Report lines; `site` is the address the app is served at (for the run page)."""
        run = self.run
        organization = run.connection.organization
        pace = settings.AIRTABLE_REQUESTS_PER_SECOND  # how the sync paces a real base
        kind = run.get_kind_display().lower()
        counts = ", ".join(
            f"{self.issues[label]} {label}" for label, _ in ISSUE_KINDS if self.issues[label]
        )
        lines = [
            f"    loaded through the sync: base {BASE_NAME!r} ({BASE_ID}) on a fake Airtable "
            f"in this process at {self.url}, rate limit off",
            f"    {'connected, then ' if self.connected else ''}{kind} sync #{run.pk} succeeded "
            f"in {self.seconds:.1f}s: {run.pulled:,} records pulled in {run.requests} requests "
            f"(paced at {pace:g}/s for real Airtable: ~{run.requests / pace:.0f}s more)",
            f"    {run.created:,} created, {run.updated:,} updated, {run.unchanged:,} unchanged, "
            f"{run.archived:,} archived",
            f"    {run.issue_count} issues found (the base's mess, for data health)"
            + (f": {counts}" if counts else ""),
        ]
        for issue in self.examples:
            where = f"{issue.table_name} {issue.record_id}"
            if issue.field_name:
                where += f" {issue.field_name!r}"
            lines.append(f"      e.g. {where}: {issue.reason}")
        page = reverse("sync_run", kwargs={"org_slug": organization.slug, "run_id": run.pk})
        lines.append(f"    the run and its issues: {site}{page}")
        return lines


@contextmanager
def seeding_base(*, today: datetime.date | None = None) -> Iterator[Any]:
    """The demo base on an in-process fake Airtable (no rate limit), with the sync's client
    pointed at it, for the duration: wrap the seed's whole transaction in it. Connecting a base
    sets up its change feed once the transaction commits (`services.connection_create`); inside
    this, that reaches the fake, not api.airtable.com with the demo token. -> the fake."""
    fake = _fakeairtable().FakeAirtable(rate_limit=None, seed=NORTHWIND.seed)
    fake.load_base(base_data(today=today), tokens={TOKEN})
    with fake, _airtable_api_url(fake.url or ""):
        yield fake


def sync_demo_base(
    organization: Organization,
    *,
    today: datetime.date | None = None,
    existing: bool = False,
    served=None,
) -> DemoSync:
    """Connect the demo base (once) and run a full sync into `organization`, on `served` (a
    fake from `seeding_base()`, already the client's address) or else on an in-process fake of
    its own. `existing`: the organization was there before (a re-sync), so it must already be
    connected to the demo base. Raises DemoSyncError when the run fails."""
    connection = Connection.objects.for_org(organization).filter(base_id=BASE_ID).first()
    if existing and connection is None:
        raise DemoSyncError(
            f"{organization.name} was not loaded from the demo base (it predates the synced "
            "demo), so it cannot be re-synced: delete the database (db.sqlite3) and seed again."
        )
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        fake = served or stack.enter_context(seeding_base(today=today))
        url = fake.url or ""
        connected = connection is None
        if connection is None:
            try:
                connection = services.connection_create(
                    organization=organization,
                    name=CONNECTION_NAME,
                    base_id=BASE_ID,
                    token=TOKEN,
                )
            except (ValidationError, SyncError) as error:
                raise DemoSyncError(f"Connecting the demo base failed: {error}") from error
            # The fake stops with this command: no schedule may try to reach it later.
            services.connection_schedule(
                connection=connection, incremental_every_minutes=None, full_at_hour=None
            )
        run = services.run_request(connection=connection, kind=RunKind.FULL)
        # The fake has no rate limit: pacing requests for Airtable's would only wait.
        run = services.run_execute(run_id=run.pk, limiter=NoRateLimiter())
    seconds = time.perf_counter() - started
    if run.status != RunStatus.SUCCEEDED:
        raise DemoSyncError(f"The sync of the demo base failed: {run.error}")
    counts: Counter = Counter()
    examples: dict[str, SyncIssue] = {}
    issues = selectors.run_issues(organization=organization, run=run)
    for issue in issues.order_by("table_name", "record_id", "pk"):
        category = issue_category(issue)
        counts[category] += 1
        examples.setdefault(category, issue)
    return DemoSync(
        run=run,
        url=url,
        seconds=seconds,
        connected=connected,
        issues=counts,
        examples=[examples[label] for label, _ in ISSUE_KINDS if label in examples],
    )


def state_path(database: dict[str, Any] | None = None) -> Path:
    """Where the demo base is kept between runs of run_demo, one per database (the default
    one's unless given): beside the SQLite file (db.sqlite3 -> db.sqlite3.airtable.json), else
    under .demo/ by database name. DEMO_BASE_STATE overrides both."""
    if getattr(settings, "DEMO_BASE_STATE", None) and database is None:
        return Path(settings.DEMO_BASE_STATE)
    database = database or settings.DATABASES["default"]
    name = str(database["NAME"])
    if database["ENGINE"].endswith("sqlite3") and "memory" not in name:
        return Path(f"{name}.airtable.json")
    return settings.BASE_DIR / ".demo" / f"{Path(name).name}.airtable.json"


def keep_base(fake) -> Path:
    """Write the demo base as it is now, every write it took included, where the next run_demo
    serves it from: a check-in that reached the base is still there after a restart, and the
    next full sync does not archive it. Atomic: a reader never sees half a file."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(fake.bases[BASE_ID].to_dict(), ensure_ascii=False))
    os.replace(part, path)
    return path


def kept_base() -> dict[str, Any] | None:
    """The demo base as the last run left it, if that run wrote one for this database."""
    try:
        return json.loads(state_path().read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        logger.warning("the kept demo base at %s is unreadable; serving today's", state_path())
        return None


class DemoBaseServer:
    """The demo base on a fake Airtable, written to `state_path()` a moment after each change
    and when stopped."""

    SAVE_EVERY = 1.0  # seconds

    def __init__(self, fake) -> None:
        self.fake = fake
        self.url: str = fake.url
        self._saved = fake.bases[BASE_ID].transaction_number
        self._stopping = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="demo-base-keeper", daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while not self._stopping.wait(self.SAVE_EVERY):
            self.save()

    def save(self) -> bool:
        """Write the base if it changed since the last write. -> whether it wrote."""
        number = self.fake.bases[BASE_ID].transaction_number
        if number == self._saved:
            return False
        keep_base(self.fake)
        self._saved = number
        return True

    def stop(self) -> None:
        self._stopping.set()
        self._keeper.join(5)
        self.save()
        self.fake.stop()


def serve_demo_base(*, port: int = 0, today: datetime.date | None = None) -> DemoBaseServer:
    """The demo base on a fake Airtable on 127.0.0.1:`port` (0 picks one), with Airtable's 5
    requests/s limit, until `.stop()`: what the demo organization's connection reaches while
    `manage.py run_demo` serves MissionOS. The base is the one the last run kept (seed_demo
    keeps the one it loaded), else today's."""
    # A seed of its own on each start: the records and webhooks it makes get ids no earlier
    # run_demo's fake gave (the database keeps those), and its base's ids are the fixture's.
    fake = _fakeairtable().FakeAirtable(rate_limit=5.0, seed=time.time_ns())
    fake.load_base(kept_base() or base_data(today=today), tokens={TOKEN})
    fake.start(port=port)
    return DemoBaseServer(fake)


@dataclass
class DemoFeed:
    connection: Connection
    state: str
    message: str


def feeds_connect(url: str) -> list[DemoFeed]:
    """Give each connection to the demo base a change feed on the fake at `url` (the one
    run_demo just started): the webhook any earlier fake held is unknown to this one, so the
    feed makes a new one (and, when it had one, an incremental run for the gap, run here).
    Before the worker and beat start, so their first poll finds the feed active."""
    feeds = []
    with _airtable_api_url(url):
        # Every organization connected to the demo base (the demo's main one, or a copy).
        for connection in Connection.objects.unscoped().filter(base_id=BASE_ID):
            outcome = services.feed_ensure(connection=connection)
            if outcome.gap_run_id is not None:
                # Paced: this fake keeps Airtable's limit (5/s, 30 s lockout past it).
                services.run_execute(run_id=outcome.gap_run_id)
            feed = outcome.feed
            feeds.append(DemoFeed(connection, feed.get_state_display(), feed.message))
    return feeds


def after_sync(organization: Organization) -> None:
    """What the demo keeps beyond the synced attributes, once people are linked to accounts:
    each initiative's "Last modified" becomes its project's last activity, and check-ins are
    credited to their key result's owner when that person signs in here. Idempotent."""
    last_modified = field_id(INITIATIVES, "Last modified")
    changed = []
    projects = Project.objects.for_org(organization).filter(source_table=table_id(INITIATIVES))
    for project in projects:
        raw = (project.source_extra or {}).get("fields", {}).get(last_modified)
        moment = parse_datetime(raw) if isinstance(raw, str) else None
        if moment is not None and moment != project.last_activity_at:
            project.last_activity_at = moment
            changed.append(project)
    projects.bulk_update(changed, ["last_activity_at"])
    members = Person.objects.for_org(organization).filter(
        user__memberships__organization=organization
    )
    for person in members:
        CheckIn.objects.for_org(organization).filter(
            author__isnull=True, key_result__owner=person
        ).update(author_id=person.user_id)


def loaded_before(organization: Organization) -> list[str]:
    """Report lines for a main organization left as it was: how it was loaded last time."""
    connection = Connection.objects.for_org(organization).filter(base_id=BASE_ID).first()
    if connection is None:
        return [
            "not loaded from the demo base (made by an older seed_demo): delete the database "
            "(db.sqlite3) and seed again to load it through the sync"
        ]
    run = connection.runs.filter(status=RunStatus.SUCCEEDED).order_by("-started_at").first()
    if run is None:
        return []
    when = timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M")
    return [
        f"synced from the demo base by run #{run.pk} on {when} ({run.issue_count} issues); "
        "`manage.py seed_demo --resync` syncs it again"
    ]
