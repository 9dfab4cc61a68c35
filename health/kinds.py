"""The kinds of finding: their names (used in code, the database and the JSON), how grave each
is, and how much it weighs in the score. One place, so the page, the command and the score
agree."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Kind(models.TextChoices):
    ABANDONED_PROJECT = "abandoned_project", "Abandoned projects"
    TASK_DEPARTED_ASSIGNEE = "task_departed_assignee", "Tasks held by people who left"
    TASK_UNASSIGNED = "task_unassigned", "Open tasks with nobody on them"
    TASK_NO_PROJECT = "task_no_project", "Tasks outside any project"
    BROKEN_LINK = "broken_link", "Links to records that no longer exist"
    PROJECT_NO_PATHWAY = "project_no_pathway", "Projects in no pathway"
    PROJECT_NO_OBJECTIVE = "project_no_objective", "Projects serving no objective"
    KEY_RESULT_STALE = "key_result_stale", "Key results nobody checks in on"
    VALUE_CONTRADICTS_CHECKINS = (
        "value_contradicts_checkins",
        "Current values that disagree with the latest check-in",
    )
    PAST_DUE = "past_due", "Open work past its due date"
    DUPLICATE_OBJECTIVES = "duplicate_objectives", "The same objective twice"
    DUPLICATE_PROJECTS = "duplicate_projects", "The same project twice"
    DUPLICATE_PEOPLE = "duplicate_people", "The same person twice"
    UNMAPPED_VALUE = "unmapped_value", "Values the mapping does not know"
    VALUE_NOT_NUMBER = "value_not_number", "Numbers kept as text"
    FORMULA_ERROR = "formula_error", "Formulas that give errors"
    EMPTY_RECORD = "empty_record", "Blank rows"
    EMPTY_FIELD = "empty_field", "Fields nobody fills in"
    DUPLICATE_FIELDS = "duplicate_fields", "The same field twice"


@dataclass(frozen=True)
class KindInfo:
    severity: Severity
    # What the score counts this kind against: the share of this population affected.
    population: str
    weight: int  # of the kind's share in the score (README: "Data health score")


KINDS: dict[Kind, KindInfo] = {
    Kind.ABANDONED_PROJECT: KindInfo(Severity.HIGH, "open projects", 3),
    Kind.TASK_DEPARTED_ASSIGNEE: KindInfo(Severity.HIGH, "open tasks", 3),
    Kind.TASK_UNASSIGNED: KindInfo(Severity.LOW, "open tasks", 1),
    Kind.TASK_NO_PROJECT: KindInfo(Severity.MEDIUM, "tasks", 2),
    Kind.BROKEN_LINK: KindInfo(Severity.MEDIUM, "synced records", 2),
    Kind.PROJECT_NO_PATHWAY: KindInfo(Severity.LOW, "open projects", 1),
    Kind.PROJECT_NO_OBJECTIVE: KindInfo(Severity.LOW, "open projects", 1),
    Kind.KEY_RESULT_STALE: KindInfo(Severity.MEDIUM, "current key results", 2),
    Kind.VALUE_CONTRADICTS_CHECKINS: KindInfo(Severity.MEDIUM, "key results checked in on", 2),
    Kind.PAST_DUE: KindInfo(Severity.MEDIUM, "open work with a due date", 2),
    Kind.DUPLICATE_OBJECTIVES: KindInfo(Severity.HIGH, "objectives", 3),
    Kind.DUPLICATE_PROJECTS: KindInfo(Severity.HIGH, "open projects", 3),
    Kind.DUPLICATE_PEOPLE: KindInfo(Severity.MEDIUM, "people", 2),
    Kind.UNMAPPED_VALUE: KindInfo(Severity.MEDIUM, "synced records", 2),
    Kind.VALUE_NOT_NUMBER: KindInfo(Severity.MEDIUM, "synced records", 2),
    Kind.FORMULA_ERROR: KindInfo(Severity.MEDIUM, "synced records", 2),
    Kind.EMPTY_RECORD: KindInfo(Severity.LOW, "synced records", 1),
    Kind.EMPTY_FIELD: KindInfo(Severity.LOW, "fields of the synced tables", 1),
    Kind.DUPLICATE_FIELDS: KindInfo(Severity.MEDIUM, "fields of the synced tables", 2),
}

# Kinds about the base's fields: one finding lists the records (up to 25) that show it.
FIELD_KINDS = frozenset(
    {Kind.UNMAPPED_VALUE, Kind.VALUE_NOT_NUMBER, Kind.FORMULA_ERROR, Kind.EMPTY_RECORD}
)
