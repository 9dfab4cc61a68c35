"""Which Airtable tables and fields feed which MissionOS entities and attributes.

Pure Python: no ORM, no network. The sync's services, commands and the mapping page build on it.

- `ENTITIES` is the catalogue of what the sync fills, attribute by attribute, with the kind of
  value each holds and the field names real bases use for it.
- `propose_mapping(schema)` guesses a `Mapping` for a base: tables by name (and, for tables whose
  name says nothing, by what they link to), fields by name *and* type, select options to
  MissionOS choices. It is a proposal for a person to review, never applied blindly.
- `check_mapping(mapping, schema)` lists what stops a run, each as a sentence saying what to fix.
  Everything is keyed by id, so renaming tables or fields in Airtable is never a problem.
- `describe(mapping, schema)` renders a mapping for people (the command that prints proposals).
- `Mapping.to_dict()` / `Mapping.from_dict()` store it as JSON (`"version": 1`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from missionos.text import fold
from sync.schema import COMPUTED_TYPES, BaseSchema, FieldSchema, TableSchema

MAPPING_VERSION = 1

KINDS = frozenset(
    {
        "text",
        "long_text",
        "email",
        "number",
        "percent",
        "integer",
        "date",
        "datetime",
        "bool",
        "choice",
        "link",
    }
)

ChoiceValues = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Attr:
    """One attribute of a MissionOS entity, as the sync sees it.

    - `kind`: one of `KINDS`; decides how `sync.values.convert` cleans a cell.
    - `target`: for links, the entity linked to.
    - `synonyms`: field names (any case/spacing/punctuation, singular or plural) that propose it.
    - `values`: for choices, `(MissionOS value, (Airtable synonyms, ...))` pairs; for a number
      such as confidence, words a select may use ("High" -> "8").
    - `scale`: the value is a whole number on 0..scale; other scales are converted (confidence).
    - `by_name`: a link that may also be given as text or a select naming the record (cycle).
    """

    kind: str
    target: str | None = None
    many: bool = False
    required: bool = False
    synonyms: tuple[str, ...] = ()
    values: ChoiceValues = ()
    scale: int | None = None
    by_name: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown attribute kind {self.kind!r}")
        if (self.kind == "link") != (self.target is not None):
            raise ValueError("a link attribute, and only a link, names its target entity")

    @property
    def choices(self) -> tuple[str, ...]:
        """The MissionOS values a choice (or a worded number) can take."""
        return tuple(value for value, _ in self.values)


class MappingError(ValueError):
    """A stored mapping that cannot be read; `errors` lists every problem found."""

    def __init__(self, message: str, errors: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors) or [message]


# --- The catalogue ---------------------------------------------------------------------------
# Synonym lists are written as comma-separated text: `_words("a, b c")` -> ("a", "b c").


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def _values(*pairs: tuple[str, str]) -> ChoiceValues:
    return tuple((value, _words(synonyms)) for value, synonyms in pairs)


TASK_STATUS = _values(
    (
        "todo",
        "to do, todo, not started, not yet started, backlog, planned, proposed, new, open, next, "
        "next up, up next, queued, ready, idea, pending",
    ),
    (
        "in_progress",
        "in progress, doing, wip, work in progress, ongoing, active, started, underway, in review, "
        "review, in flight, working on it, on track, at risk, behind, delayed",
    ),
    (
        "blocked",
        "blocked, stuck, on hold, paused, parked, waiting, needs help, deferred, postponed",
    ),
    ("done", "done, complete, completed, finished, closed, shipped, delivered, resolved"),
)

PROJECT_STATUS = _values(
    (
        "planned",
        "planned, planning, not started, not yet started, to do, todo, backlog, proposed, idea, "
        "new, pipeline, scoping, draft, upcoming, pending, future",
    ),
    (
        "active",
        "active, in progress, doing, wip, work in progress, ongoing, started, underway, in flight, "
        "running, on track, at risk, off track, behind, delayed",
    ),
    (
        "on_hold",
        "on hold, paused, parked, blocked, stuck, waiting, deferred, postponed, dormant, suspended",
    ),
    (
        "done",
        "done, complete, completed, finished, closed, delivered, shipped, launched, achieved",
    ),
    (
        "abandoned",
        "abandoned, cancelled, canceled, dropped, killed, stopped, descoped, won't do, not doing, "
        "discontinued, scrapped, rejected",
    ),
)

PERSON_STATUS = _values(
    (
        "active",
        "active, current, employed, on staff, on leave, full time, part time, contractor, joined, "
        "onboarding",
    ),
    (
        "departed",
        "departed, left, former, inactive, gone, alumni, alumnus, ex employee, leaver, resigned, "
        "retired, terminated, offboarded, no longer here, not active",
    ),
)

METRIC_TYPES = _values(
    ("number", "number, numeric, count, #, quantity, amount, integer, decimal, value"),
    ("percentage", "percentage, percent, %, pct, rate, ratio"),
    (
        "currency",
        "currency, money, $, €, £, revenue, cost, budget, dollars, euros, pounds, usd, eur, gbp, "
        "financial",
    ),
    ("yes_no", "yes/no, yes no, y/n, boolean, binary, checkbox, true/false, pass/fail"),
    ("milestone", "milestone, milestones, stage, stages, phase, phases, steps"),
)

# Words a select may use for a 0-10 confidence.
CONFIDENCE_WORDS = _values(
    ("9", "very high, very confident, certain"),
    ("8", "high, confident, likely"),
    ("5", "medium, moderate, mid, neutral, unsure, 50/50"),
    ("3", "low, unlikely, doubtful"),
    ("1", "very low, very unlikely"),
)

DESCRIPTION = _words("description, summary, details, notes, about, overview, brief, context, scope")
OWNER = _words(
    "owner, lead, responsible, dri, accountable, owned by, owners, leader, sponsor, champion"
)
PATHWAY_LINK = _words(
    "pathway, pillar, strategic pillar, theme, priority, strategic priority, strategic pathway, "
    "focus area"
)


def _confidence() -> Attr:
    return Attr(
        "number",
        synonyms=_words("confidence, confidence level, confidence score, likelihood, certainty"),
        values=CONFIDENCE_WORDS,
        scale=10,
        note="A whole number 0-10; 0-1 fractions, percentages and ratings are rescaled.",
    )


def _person_link(synonyms: tuple[str, ...]) -> Attr:
    return Attr(
        "link",
        target="person",
        synonyms=synonyms,
        note="A link to the people table, or a collaborator field (matched by email, then name).",
    )


ENTITIES: dict[str, dict[str, Attr]] = {
    "person": {
        "name": Attr(
            "text",
            required=True,
            synonyms=_words("name, full name, person, employee, display name, member"),
        ),
        "email": Attr("email", synonyms=_words("email, email address, work email, mail")),
        "active": Attr(
            "bool",
            synonyms=_words(
                "active, current, is active, currently active, current staff, employed, still here"
            ),
            note="A checkbox; unchecked means the person has left.",
        ),
        "departed_on": Attr(
            "date",
            synonyms=_words(
                "departed on, left on, end date, departed, departure date, date left, "
                "leaving date, left, last day, leave date, exit date, termination date, end"
            ),
        ),
        "status": Attr(
            "choice",
            synonyms=_words("status, employment status, state, staff status"),
            values=PERSON_STATUS,
        ),
    },
    "cycle": {
        "name": Attr(
            "text",
            required=True,
            synonyms=_words("name, cycle, quarter, period, title, label, cycle name"),
        ),
        "starts_on": Attr(
            "date", synonyms=_words("starts on, start, start date, starts, begins, begin, from")
        ),
        "ends_on": Attr(
            "date",
            synonyms=_words("ends on, end, end date, ends, finish, until, to, finish date"),
        ),
    },
    "pathway": {
        "name": Attr(
            "text",
            required=True,
            synonyms=_words("name, pathway, pillar, theme, title, priority, strategic pillar"),
        ),
        "description": Attr("long_text", synonyms=DESCRIPTION),
        "position": Attr(
            "integer",
            synonyms=_words(
                "position, order, sort order, sort, rank, number, display order, sequence, index"
            ),
        ),
    },
    "objective": {
        "title": Attr(
            "text",
            required=True,
            synonyms=_words("title, name, objective, goal, okr, statement"),
        ),
        "description": Attr("long_text", synonyms=DESCRIPTION),
        "pathway": Attr("link", target="pathway", synonyms=PATHWAY_LINK),
        "cycle": Attr(
            "link",
            target="cycle",
            by_name=True,
            synonyms=_words("cycle, quarter, period, timeframe, time frame, okr cycle"),
            note="A link to the cycles table, or a text/select naming the cycle (matched by name).",
        ),
        "owner": _person_link(OWNER),
        "parent": Attr(
            "link",
            target="objective",
            synonyms=_words(
                "parent, parent objective, parent goal, parent okr, supports, aligned to, "
                "aligns to, contributes to, rolls up to"
            ),
        ),
    },
    "key_result": {
        "title": Attr(
            "text",
            required=True,
            synonyms=_words("title, name, key result, kr, metric, measure, result"),
        ),
        "objective": Attr(
            "link",
            target="objective",
            required=True,
            synonyms=_words("objective, goal, okr, parent objective"),
        ),
        "metric_type": Attr(
            "choice",
            synonyms=_words(
                "metric type, type, measure type, kind, format, unit type, measurement type"
            ),
            values=METRIC_TYPES,
        ),
        "start_value": Attr(
            "number",
            synonyms=_words(
                "start value, start, baseline, starting value, initial value, initial, from, "
                "baseline value"
            ),
        ),
        "current_value": Attr(
            "number",
            synonyms=_words(
                "current value, current, actual, latest, actual value, latest value, to date"
            ),
        ),
        "target_value": Attr(
            "number",
            synonyms=_words("target value, target, goal, goal value, to, target number, aim"),
        ),
        "unit": Attr("text", synonyms=_words("unit, unit of measure, uom, measure unit")),
        "weight": Attr("number", synonyms=_words("weight, weighting, importance")),
        "confidence": _confidence(),
        "owner": _person_link(OWNER),
    },
    "check_in": {
        "key_result": Attr(
            "link",
            target="key_result",
            required=True,
            synonyms=_words("key result, kr, metric, measure"),
        ),
        "value": Attr(
            "number",
            required=True,
            synonyms=_words(
                "value, new value, current value, progress, actual, reading, result, current, "
                "latest, amount"
            ),
        ),
        "confidence": _confidence(),
        "note": Attr(
            "long_text",
            synonyms=_words(
                "note, comment, commentary, update, details, description, summary, narrative, "
                "what changed, remarks"
            ),
        ),
        "checked_in_at": Attr(
            "datetime",
            synonyms=_words(
                "checked in at, date, check in date, checked in, checked in on, updated, "
                "updated at, updated on, when, submitted, submitted at, timestamp, reported on, "
                "as of, created, created at, created time"
            ),
        ),
        "author": _person_link(
            _words(
                "author, by, submitted by, reporter, reported by, updated by, created by, "
                "owner, who"
            )
        ),
    },
    "project": {
        "name": Attr(
            "text",
            required=True,
            synonyms=_words("name, title, project, initiative, programme, program"),
        ),
        "description": Attr("long_text", synonyms=DESCRIPTION),
        "pathway": Attr("link", target="pathway", synonyms=PATHWAY_LINK),
        "objectives": Attr(
            "link",
            target="objective",
            many=True,
            synonyms=_words(
                "objectives, goals, okrs, related objectives, linked objectives, supports, "
                "key objectives"
            ),
        ),
        "owner": _person_link(OWNER),
        "status": Attr(
            "choice",
            synonyms=_words("status, stage, state, phase, project status"),
            values=PROJECT_STATUS,
        ),
        "starts_on": Attr(
            "date",
            synonyms=_words(
                "starts on, start, start date, kick off, kickoff date, begins, begin date, "
                "started, started on"
            ),
        ),
        "ends_on": Attr(
            "date",
            synonyms=_words(
                "ends on, end, end date, due, due date, deadline, target date, finish, "
                "finish date, completion date, target end, delivery date"
            ),
        ),
    },
    "task": {
        "title": Attr(
            "text",
            required=True,
            synonyms=_words("title, name, task, action, to do, summary, item"),
        ),
        "project": Attr(
            "link",
            target="project",
            required=True,
            synonyms=_words("project, initiative, programme, program, workstream, parent"),
        ),
        "assignee": _person_link(
            _words("assignee, assigned to, assigned, owner, responsible, who, dri, person, doer")
        ),
        "status": Attr(
            "choice",
            synonyms=_words("status, stage, state, task status"),
            values=TASK_STATUS,
        ),
        "due_on": Attr(
            "date",
            synonyms=_words(
                "due on, due, due date, deadline, target date, by when, due by, when, date"
            ),
        ),
        "completed_at": Attr(
            "datetime",
            synonyms=_words(
                "completed at, completed, completed on, date completed, done on, done at, "
                "done date, finished, finished on, closed at, closed on, completion date"
            ),
        ),
    },
}

# The attribute each entity is named by; the table's primary field is its default.
LABEL_ATTRS: dict[str, str] = {
    "person": "name",
    "cycle": "name",
    "pathway": "name",
    "objective": "title",
    "key_result": "title",
    "project": "name",
    "task": "title",
}

# Table names real bases use for each entity (singular; plurals, case, punctuation are free).
ENTITY_TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "person": _words(
        "person, people, team, staff, member, team member, directory, employee, user, "
        "contributor, colleague, staff directory"
    ),
    "cycle": _words("cycle, quarter, period, okr cycle, okr period, timeframe, planning cycle"),
    "pathway": _words(
        "pathway, strategic pillar, pillar, theme, strategic theme, priority, "
        "strategic priority, focus area, strategic pathway"
    ),
    "objective": _words("objective, goal, okr, strategic objective, okr objective"),
    "key_result": _words("key result, kr, metric, measure, kpi, key metric"),
    "check_in": _words(
        "check in, update, progress update, progress, status update, kr update, progress log, "
        "update log"
    ),
    "project": _words("project, initiative, programme, program, workstream, epic"),
    "task": _words("task, action, to do, action item, activity, work item, next step"),
}


# --- Normalising names and values -----------------------------------------------------------

_IRREGULAR = {"people": "person", "children": "child", "criteria": "criterion", "staff": "staff"}
_NOISE_WORDS = frozenset(
    {
        "old",
        "new",
        "copy",
        "backup",
        "bak",
        "legacy",
        "deprecated",
        "archive",
        "archived",
        "unused",
        "temp",
        "tmp",
        "test",
        "draft",
        "obsolete",
        "dup",
        "duplicate",
        "v1",
        "v2",
        "v3",
        "ignore",
    }
)
_NON_WORD = re.compile(r"[\W_]+")
_LEADING_ORDINAL = re.compile(r"^\d{1,2} (?=[^\W\d_])")


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "uses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) >= 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@cache
def normalize_name(text: str) -> str:
    """A table or field name for comparison: "Key Results" -> "key result", "KRs" -> "kr"."""
    folded = fold(text).replace("&", " and ").replace("#", " number ").replace("%", " percent ")
    return " ".join(_singular(word) for word in _NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=8192)  # a sync asks again for every record's status
def normalize_value(text: str) -> str:
    """A select option or typed value for lookup: casefold, strip, collapse spaces/punctuation.

    "  In-Progress " -> "in progress", "✅ Done" -> "done", "2. Not started" -> "not started".
    A value made only of symbols keeps them: "%" -> "%", "$" -> "$".
    """
    folded = fold(text)
    words = " ".join(_NON_WORD.sub(" ", folded).split())
    if not words:
        return " ".join(folded.split())
    stripped = _LEADING_ORDINAL.sub("", words)
    return stripped or words


def _compact(text: str) -> str:
    return text.replace(" ", "")


def _core(normalized: str) -> tuple[str, bool]:
    """A name without noise words ("old", "copy", a trailing "2"); whether any were removed."""
    words = [word for word in normalized.split() if word not in _NOISE_WORDS]
    while words and words[-1].isdigit():
        words.pop()
    removed = len(words) != len(normalized.split())
    if "do not use" in normalized or "dont use" in normalized:
        words = [word for word in words if word not in {"do", "not", "dont", "use"}]
        removed = True
    return " ".join(words), removed


def _contains_words(haystack: str, needle: str) -> bool:
    return f" {needle} " in f" {haystack} "


def match_choice(attr: Attr, text: str) -> str | None:
    """The MissionOS value an Airtable option or typed value stands for, from the synonyms."""
    key = normalize_value(text)
    if not key or not attr.values:
        return None
    compact_key = _compact(key)
    best: tuple[int, str] | None = None
    for value, synonyms in attr.values:
        for synonym in (value.replace("_", " "), *synonyms):
            candidate = normalize_value(synonym)
            if _compact(candidate) == compact_key:
                return value
            if key.startswith(candidate + " ") and (best is None or len(candidate) > best[0]):
                best = (len(candidate), value)
    return best[1] if best else None


def propose_value_map(attr: Attr, schema_field: FieldSchema) -> dict[str, str]:
    """{normalized option -> MissionOS value} for every option of a select the synonyms know."""
    if not attr.values:
        return {}
    proposed: dict[str, str] = {}
    for choice in schema_field.choices:
        value = match_choice(attr, choice)
        if value is not None:
            proposed[normalize_value(choice)] = value
    return dict(sorted(proposed.items()))


# --- The mapping and its JSON form ----------------------------------------------------------


@dataclass
class EntityMapping:
    entity: str
    table_id: str
    table_name: str
    fields: dict[str, str]  # attribute -> field id
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    # attribute -> the field's name when mapped: only to name a field that has since vanished.
    field_names: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        order = list(ENTITIES.get(self.entity, {}))

        def rank(attr: str) -> tuple[int, str]:
            return (order.index(attr) if attr in order else len(order), attr)

        return {
            "table_id": self.table_id,
            "table_name": self.table_name,
            "fields": {attr: self.fields[attr] for attr in sorted(self.fields, key=rank)},
            "field_names": {
                attr: self.field_names[attr] for attr in sorted(self.field_names, key=rank)
            },
            "value_maps": {
                attr: dict(sorted(self.value_maps[attr].items()))
                for attr in sorted(self.value_maps, key=rank)
            },
        }


@dataclass
class Mapping:
    entities: dict[str, EntityMapping] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        order = list(ENTITIES)

        def rank(entity: str) -> tuple[int, str]:
            return (order.index(entity) if entity in order else len(order), entity)

        return {
            "version": MAPPING_VERSION,
            "entities": {
                entity: self.entities[entity].to_dict()
                for entity in sorted(self.entities, key=rank)
            },
        }

    @classmethod
    def from_dict(cls, data: object) -> Mapping:
        """Read a stored mapping, refusing anything malformed with every problem listed."""
        errors: list[str] = []
        if not isinstance(data, dict):
            error = f"the mapping is a {type(data).__name__}, not an object"
            raise MappingError(f"The stored mapping is invalid: {error}.", [error])
        if "version" not in data:
            errors.append('"version" is missing (expected 1)')
        elif data["version"] != MAPPING_VERSION or isinstance(data["version"], bool):
            errors.append(f'"version" is {data["version"]!r}; only {MAPPING_VERSION} is understood')
        for key in sorted(set(data) - {"version", "entities"}, key=str):
            errors.append(f"unknown key {key!r} at the top level")
        raw_entities = data.get("entities")
        entities: dict[str, EntityMapping] = {}
        if not isinstance(raw_entities, dict):
            errors.append('"entities" must be an object of entity -> table mapping')
        else:
            for entity, raw in raw_entities.items():
                parsed = _entity_from_dict(entity, raw, errors)
                if parsed is not None:
                    entities[entity] = parsed
        if errors:
            listing = "; ".join(errors)
            raise MappingError(f"The stored mapping is invalid: {listing}.", errors)
        return cls(entities=entities)


_ENTITY_KEYS = frozenset({"table_id", "table_name", "fields", "value_maps", "field_names"})


def _entity_from_dict(entity: object, raw: object, errors: list[str]) -> EntityMapping | None:
    if not isinstance(entity, str) or entity not in ENTITIES:
        errors.append(f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})")
        return None
    if not isinstance(raw, dict):
        errors.append(f"{entity}: must be an object, not {type(raw).__name__}")
        return None
    before = len(errors)
    attrs = ENTITIES[entity]
    for key in sorted(set(raw) - _ENTITY_KEYS, key=str):
        errors.append(f"{entity}: unknown key {key!r}")
    table_id = raw.get("table_id")
    if not (isinstance(table_id, str) and table_id.startswith("tbl")):
        errors.append(f"{entity}.table_id must be a table id (tbl...), not {table_id!r}")
    table_name = raw.get("table_name", "")
    if not isinstance(table_name, str):
        errors.append(f"{entity}.table_name must be text, not {table_name!r}")

    fields: dict[str, str] = {}
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict):
        errors.append(f"{entity}.fields must be an object of attribute -> field id")
    else:
        for attr, field_id in raw_fields.items():
            if attr not in attrs:
                errors.append(f"{entity}.fields: unknown attribute {attr!r} ({_known(attrs)})")
            elif not (isinstance(field_id, str) and field_id.startswith("fld")):
                errors.append(
                    f"{entity}.fields.{attr} must be a field id (fld...), not {field_id!r}"
                )
            else:
                fields[attr] = field_id

    field_names: dict[str, str] = {}
    raw_names = raw.get("field_names", {})
    if not isinstance(raw_names, dict):
        errors.append(f"{entity}.field_names must be an object of attribute -> name")
    else:
        for attr, name in raw_names.items():
            if attr not in attrs or not isinstance(name, str):
                errors.append(f"{entity}.field_names: bad entry {attr!r}: {name!r}")
            else:
                field_names[attr] = name

    value_maps: dict[str, dict[str, str]] = {}
    raw_maps = raw.get("value_maps", {})
    if not isinstance(raw_maps, dict):
        errors.append(f"{entity}.value_maps must be an object of attribute -> value map")
    else:
        for attr, value_map in raw_maps.items():
            parsed = _value_map_from_dict(entity, attrs, attr, value_map, errors)
            if parsed is not None:
                value_maps[attr] = parsed
    if len(errors) > before:
        return None
    return EntityMapping(
        entity=entity,
        table_id=str(table_id),
        table_name=str(table_name),
        fields=fields,
        value_maps=value_maps,
        field_names=field_names,
    )


def _known(attrs: dict[str, Attr]) -> str:
    return "known: " + ", ".join(attrs)


def _value_map_from_dict(
    entity: str, attrs: dict[str, Attr], attr: object, raw: object, errors: list[str]
) -> dict[str, str] | None:
    where = f"{entity}.value_maps.{attr}"
    if not isinstance(attr, str) or attr not in attrs:
        errors.append(f"{entity}.value_maps: unknown attribute {attr!r} ({_known(attrs)})")
        return None
    spec = attrs[attr]
    if not spec.values:
        errors.append(f"{where}: {entity}.{attr} takes no value map")
        return None
    if not isinstance(raw, dict):
        errors.append(f"{where} must be an object of Airtable value -> MissionOS value")
        return None
    parsed: dict[str, str] = {}
    for source, target in raw.items():
        if not isinstance(source, str) or not isinstance(target, str):
            errors.append(f"{where}: {source!r} -> {target!r} must map text to text")
        elif spec.kind == "choice" and target not in spec.choices:
            errors.append(
                f"{where}: {source!r} -> {target!r} is not one of {', '.join(spec.choices)}"
            )
        elif spec.kind != "choice" and not _is_number(target):
            errors.append(f"{where}: {source!r} -> {target!r} is not a number")
        else:
            parsed[normalize_value(source)] = target
    return parsed


def _is_number(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


# --- Type compatibility ---------------------------------------------------------------------

# How well a field of each (result) type suits an attribute of each kind: higher is better,
# absent is incompatible. A computed field (formula, rollup, lookup) is judged by its result.
_TYPE_PREFERENCE: dict[str, dict[str, int]] = {
    "text": {
        "singleLineText": 20,
        "multilineText": 12,
        "richText": 12,
        "aiText": 12,
        "email": 6,
        "url": 6,
        "phoneNumber": 6,
        "singleSelect": 6,
        "autoNumber": 3,
        "barcode": 3,
    },
    "long_text": {
        "multilineText": 20,
        "richText": 20,
        "aiText": 16,
        "singleLineText": 12,
    },
    "email": {"email": 20, "singleLineText": 10},
    "number": {
        "number": 20,
        "currency": 20,
        "percent": 20,
        "rating": 14,
        "count": 8,
        "checkbox": 2,
        "singleLineText": 2,
    },
    "percent": {"percent": 20, "number": 16, "rating": 6, "singleLineText": 2},
    "integer": {"number": 20, "rating": 12, "count": 8, "autoNumber": 6, "singleLineText": 2},
    "date": {
        "date": 20,
        "dateTime": 16,
        "createdTime": 4,
        "lastModifiedTime": 2,
        "singleLineText": 2,
    },
    "datetime": {
        "dateTime": 20,
        "date": 16,
        "createdTime": 10,
        "lastModifiedTime": 4,
        "singleLineText": 2,
    },
    "bool": {"checkbox": 20, "singleSelect": 6, "singleLineText": 2},
    "choice": {"singleSelect": 20, "multipleSelects": 6, "singleLineText": 6},
}
_PERSON_FIELD_PREFERENCE = {
    "singleCollaborator": 14,
    "multipleCollaborators": 12,
    "createdBy": 5,
}
_BY_NAME_PREFERENCE = {"singleSelect": 8, "singleLineText": 6}


def type_preference(
    attr: Attr, schema_field: FieldSchema, target_table_id: str | None
) -> int | None:
    """How well `schema_field` can hold `attr` (higher is better), None if it cannot.

    `target_table_id` is the table mapped to a link attribute's target entity: a link attribute
    maps only to a link field to that table, or (person links) a collaborator field, or (links by
    name, such as an objective's cycle) a text or select naming the record.
    """
    if attr.kind == "link":
        if schema_field.type == "multipleRecordLinks":
            linked = schema_field.linked_table_id
            return 20 if target_table_id is not None and linked == target_table_id else None
        if attr.target == "person" and schema_field.type in _PERSON_FIELD_PREFERENCE:
            return _PERSON_FIELD_PREFERENCE[schema_field.type]
        if attr.by_name:
            result = schema_field.result_type
            if schema_field.type in COMPUTED_TYPES:
                return 3 if result in (None, "singleLineText", "singleSelect") else None
            return _BY_NAME_PREFERENCE.get(schema_field.type)
        return None
    preferences = _TYPE_PREFERENCE[attr.kind]
    if schema_field.type not in COMPUTED_TYPES:
        return preferences.get(schema_field.type)
    result = schema_field.result_type
    if result is None:  # a formula whose result type the schema does not say
        return 1 if attr.kind not in ("bool", "choice") else None
    preference = preferences.get(result)
    if preference is None or preference <= 2:  # text formulas are labels, not typed values
        return None
    penalty = 12 if schema_field.type == "multipleLookupValues" else 8
    return max(1, preference - penalty)


def _link_compatible(
    attr: Attr, schema_field: FieldSchema, schema: BaseSchema, target_table_id: str | None
) -> str | None:
    """Why a mapped link field cannot serve `attr` any more (None when it can)."""
    if schema_field.type == "multipleRecordLinks":
        linked = schema_field.linked_table_id
        if target_table_id is None:
            return None  # the target is not mapped: a required link is reported as such
        if linked == target_table_id:
            return None
        linked_table = schema.table(linked) if linked else None
        target_table = schema.table(target_table_id)
        now = (
            f"table {linked_table.name} ({linked_table.id})"
            if linked_table
            else f"a table not in the base ({linked or 'unknown'})"
        )
        target = f"{target_table.name} ({target_table.id})" if target_table else target_table_id
        return f"now links to {now} instead of {target}"
    if attr.target == "person" and schema_field.type in _PERSON_FIELD_PREFERENCE:
        return None
    if attr.by_name and type_preference(attr, schema_field, target_table_id) is not None:
        return None
    return f"is no longer a link field (it is now {schema_field.type})"


# --- Proposing ------------------------------------------------------------------------------


def _ranked(synonyms: Iterable[str]) -> tuple[tuple[int, str], ...]:
    return tuple(
        (min(index, 10), normalize_name(synonym)) for index, synonym in enumerate(synonyms)
    )


@cache
def _attr_synonyms(entity: str, attr_name: str) -> tuple[tuple[int, str], ...]:
    return _ranked([attr_name.replace("_", " "), *ENTITIES[entity][attr_name].synonyms])


@cache
def _table_synonyms(entity: str) -> tuple[tuple[int, str], ...]:
    return _ranked(ENTITY_TABLE_NAMES[entity])


@cache
def _own_words(entity: str, table_name: str) -> tuple[str, ...]:
    """Words naming the entity itself in its table: "project", "initiative", the table's name."""
    words = {synonym for _, synonym in _table_synonyms(entity)}
    normalized = normalize_name(table_name)
    words.add(normalized)
    words.add(_core(normalized)[0])
    return tuple(sorted((word for word in words if word), key=len, reverse=True))


def _field_name_score(name: str, attr_name: str, entity: str, table: TableSchema) -> int:
    """0-100: how strongly a field's name says it holds this attribute."""
    return _name_score(name, attr_name, entity, table.name)


@cache
def _name_score(name: str, attr_name: str, entity: str, table_name: str) -> int:
    normalized = normalize_name(name)
    own = _own_words(entity, table_name)
    variants: list[tuple[str, int]] = [(normalized, 0)]
    for word in own:  # "Project Name" in the projects table is its name
        if normalized.startswith(word + " "):
            variants.append((normalized[len(word) + 1 :], 10))
            break
    core, noisy = _core(normalized)
    if noisy and core:
        variants.append((core, 40))
        for word in own:
            if core.startswith(word + " "):
                variants.append((core[len(word) + 1 :], 45))
                break
    synonyms = _attr_synonyms(entity, attr_name)
    best = 0
    for variant, penalty in variants:
        for rank, synonym in synonyms:
            if _compact(variant) == _compact(synonym):
                best = max(best, 100 - penalty - rank)
            elif " " in synonym and _contains_words(variant, synonym):
                best = max(best, 50 - penalty - rank)
    if LABEL_ATTRS.get(entity) == attr_name and (
        normalized in own or (noisy and core in own)
    ):  # a field called "Project" in the projects table
        best = max(best, 85 - (40 if noisy and normalized not in own else 0))
    return max(best, 0)


@cache
def _head_word_score(name: str, attr_name: str, entity: str) -> int:
    """A weak match: the name starts with a one-word synonym ("Status (manual)", "Due (hard)").

    Only worth anything when the field's type fits well: "Current quarter" (text) is no
    current value, "Status (manual)" (a select) may well be the status.
    """
    first = normalize_name(name).split()[:1]
    if not first:
        return 0
    best = 0
    for rank, synonym in _attr_synonyms(entity, attr_name):
        if " " not in synonym and first[0] == synonym:
            best = max(best, 40 - rank)
    return best


def _table_name_score(name: str, entity: str) -> int:
    normalized = normalize_name(name)
    core, noisy = _core(normalized)
    best = 0
    variants = [(normalized, 0)]
    if noisy and core:
        variants.append((core, 40))
    for variant, penalty in variants:
        words = variant.split()
        for rank, synonym in _table_synonyms(entity):
            synonym_words = synonym.split()
            if _compact(variant) == _compact(synonym):
                score = 100
            elif words[-len(synonym_words) :] == synonym_words:
                score = 70  # the head noun: "Q3 Projects", "Team Members"
            elif _contains_words(variant, synonym):
                score = 50
            else:
                continue
            best = max(best, score - penalty - rank)
    return best


def _match_tables(schema: BaseSchema) -> dict[str, TableSchema]:
    entity_order = list(ENTITIES)
    candidates = []
    for table_index, table in enumerate(schema.tables):
        for entity in ENTITIES:
            score = _table_name_score(table.name, entity)
            if score >= 45:
                candidates.append((-score, table_index, entity_order.index(entity), entity, table))
    candidates.sort(key=lambda item: item[:3])
    matched: dict[str, TableSchema] = {}
    used: set[str] = set()
    for _, _, _, entity, table in candidates:
        if entity not in matched and table.id not in used:
            matched[entity] = table
            used.add(table.id)

    # Tables whose names say nothing: judge them by what they link to and what links to them.
    while True:
        best: tuple[int, int, int, str, TableSchema] | None = None
        for entity_index, entity in enumerate(entity_order):
            if entity in matched:
                continue
            for table_index, table in enumerate(schema.tables):
                if table.id in used:
                    continue
                score = _structural_score(entity, table, matched)
                if score < 35:
                    continue
                key = (-score, entity_index, table_index, entity, table)
                if best is None or key[:3] < best[:3]:
                    best = key
        if best is None:
            break
        matched[best[3]] = best[4]
        used.add(best[4].id)
    return matched


def _structural_score(entity: str, table: TableSchema, matched: dict[str, TableSchema]) -> int:
    evidence = 0
    for attr_name, attr in ENTITIES[entity].items():
        if attr.kind != "link" or attr.target == entity or attr.target not in matched:
            continue
        target_id = matched[attr.target].id
        links = [f for f in table.fields if f.linked_table_id == target_id]
        if links:
            evidence += 30 if attr.required else 15
            if any(_field_name_score(f.name, attr_name, entity, table) >= 60 for f in links):
                evidence += 10
    for source, source_table in matched.items():
        for attr_name, attr in ENTITIES[source].items():
            if attr.kind != "link" or attr.target != entity:
                continue
            links = [f for f in source_table.fields if f.linked_table_id == table.id]
            if links:
                evidence += 15
                if any(
                    _field_name_score(f.name, attr_name, source, source_table) >= 60 for f in links
                ):
                    evidence += 10
    if not evidence:
        return 0
    coverage = 0
    for attr_name, attr in ENTITIES[entity].items():
        if attr.kind == "link":
            continue
        if any(
            _field_name_score(f.name, attr_name, entity, table) >= 90
            and type_preference(attr, f, None) is not None
            for f in table.fields
        ):
            coverage += 1
    return evidence + 5 * coverage


def _field_candidates(
    entity: str, table: TableSchema, table_ids: dict[str, str]
) -> list[tuple[int, int, int, str, FieldSchema]]:
    """(score, attribute order, field order, attribute, field) for every plausible pair."""
    attrs = ENTITIES[entity]
    candidates = []
    for attr_index, (attr_name, attr) in enumerate(attrs.items()):
        target_id = table_ids.get(attr.target) if attr.target else None
        link_fields = [
            f for f in table.fields if target_id is not None and f.linked_table_id == target_id
        ]
        for field_index, schema_field in enumerate(table.fields):
            preference = type_preference(attr, schema_field, target_id)
            if preference is None:
                continue
            base = _field_score(attr_name, entity, table, schema_field, preference)
            if (
                base < 35
                and attr.kind == "link"
                and attr.target != entity
                and link_fields == [schema_field]
            ):
                base = 35  # the one link to the target's table, whatever it is called
            if base < 35:
                continue
            candidates.append((base + preference, attr_index, field_index, attr_name, schema_field))
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    return candidates


def _field_score(
    attr_name: str, entity: str, table: TableSchema, schema_field: FieldSchema, preference: int
) -> int:
    """How strongly the name (and, for the label, being the primary field) says it fits."""
    base = _field_name_score(schema_field.name, attr_name, entity, table)
    if preference >= 10 and base < 40:
        base = max(base, _head_word_score(schema_field.name, attr_name, entity))
    if LABEL_ATTRS.get(entity) == attr_name and schema_field.id == table.primary_field_id:
        base = max(base, 55) + 30
    return base


def _match_fields(
    entity: str, table: TableSchema, table_ids: dict[str, str]
) -> dict[str, FieldSchema]:
    chosen: dict[str, FieldSchema] = {}
    used: set[str] = set()
    for _, _, _, attr_name, schema_field in _field_candidates(entity, table, table_ids):
        if attr_name in chosen or schema_field.id in used:
            continue
        chosen[attr_name] = schema_field
        used.add(schema_field.id)
    order = list(ENTITIES[entity])
    return {attr: chosen[attr] for attr in sorted(chosen, key=order.index)}


def propose_mapping(schema: BaseSchema) -> Mapping:
    """Guess which tables and fields hold what; a proposal for a person to review."""
    tables = _match_tables(schema)
    table_ids = {entity: table.id for entity, table in tables.items()}
    entities: dict[str, EntityMapping] = {}
    for entity in ENTITIES:
        table = tables.get(entity)
        if table is None:
            continue
        matched = _match_fields(entity, table, table_ids)
        value_maps = {}
        for attr_name, schema_field in matched.items():
            attr = ENTITIES[entity][attr_name]
            if attr.values and schema_field.choices:
                value_maps[attr_name] = propose_value_map(attr, schema_field)
        entities[entity] = EntityMapping(
            entity=entity,
            table_id=table.id,
            table_name=table.name,
            fields={attr: f.id for attr, f in matched.items()},
            value_maps=value_maps,
            field_names={attr: f.name for attr, f in matched.items()},
        )
    return Mapping(entities=entities)


def candidate_fields(
    mapping: Mapping, schema: BaseSchema, entity: str, attr_name: str
) -> list[FieldSchema]:
    """Fields of the entity's table that can hold the attribute, best first (for pickers)."""
    entity_mapping = mapping.entities.get(entity)
    table = schema.table(entity_mapping.table_id) if entity_mapping else None
    if table is None:
        return []
    attr = ENTITIES[entity][attr_name]
    target_mapping = mapping.entities.get(attr.target) if attr.target else None
    target_id = target_mapping.table_id if target_mapping else None
    scored = []
    for index, schema_field in enumerate(table.fields):
        preference = type_preference(attr, schema_field, target_id)
        if preference is None:
            continue
        score = _field_score(attr_name, entity, table, schema_field, preference) + preference
        scored.append((-score, index, schema_field))
    scored.sort(key=lambda item: item[:2])
    return [schema_field for _, _, schema_field in scored]


# --- Checking -------------------------------------------------------------------------------


def _field_label(entity_mapping: EntityMapping, attr: str, field_id: str) -> str:
    name = entity_mapping.field_names.get(attr)
    return f"field {name!r} ({field_id})" if name else f"field {field_id}"


def check_mapping(mapping: Mapping, schema: BaseSchema) -> list[str]:
    """What makes a run impossible, each a sentence saying what to fix; [] when it can run."""
    problems: list[str] = []
    if not mapping.entities:
        return ["Nothing is mapped: map at least one table to a MissionOS entity."]
    tables_seen: dict[str, str] = {}
    for entity in sorted(mapping.entities, key=_entity_rank):
        entity_mapping = mapping.entities[entity]
        if entity not in ENTITIES:
            problems.append(f"{entity!r} is not a MissionOS entity: remove it from the mapping.")
            continue
        attrs = ENTITIES[entity]
        table = schema.table(entity_mapping.table_id)
        if table is None:
            problems.append(
                f"{entity} is mapped to table {entity_mapping.table_name!r} "
                f"({entity_mapping.table_id}), which is no longer in the base: "
                f"map {entity} to another table or unmap it."
            )
            continue
        if table.id in tables_seen:
            problems.append(
                f"Table {table.name} ({table.id}) is mapped to both {tables_seen[table.id]} and "
                f"{entity}: map each entity to its own table."
            )
        tables_seen.setdefault(table.id, entity)
        fields_seen: dict[str, str] = {}
        for attr_name, field_id in entity_mapping.fields.items():
            if attr_name not in attrs:
                problems.append(
                    f"{entity}.{attr_name} is not an attribute of {entity}: remove it "
                    f"(attributes: {', '.join(attrs)})."
                )
                continue
            attr = attrs[attr_name]
            schema_field = table.field(field_id)
            if schema_field is None:
                label = _field_label(entity_mapping, attr_name, field_id)
                problems.append(
                    f"{entity}.{attr_name} is mapped to {label}, which is no longer in table "
                    f"{table.name} ({table.id}): map {entity}.{attr_name} to another field"
                    + (" (it is required)." if attr.required else " or unmap it.")
                )
                continue
            if field_id in fields_seen:
                problems.append(
                    f"Field {schema_field.name} ({field_id}) in table {table.name} is mapped to "
                    f"both {entity}.{fields_seen[field_id]} and {entity}.{attr_name}: "
                    "map one field to one attribute."
                )
            fields_seen.setdefault(field_id, attr_name)
            if attr.kind == "link":
                target = mapping.entities.get(attr.target or "")
                reason = _link_compatible(
                    attr, schema_field, schema, target.table_id if target else None
                )
                if reason:
                    problems.append(
                        f"{entity}.{attr_name} is mapped to {schema_field.name} ({field_id}), "
                        f"which {reason}: map it to a link to the {attr.target} table"
                        + (" (it is required)." if attr.required else " or unmap it.")
                    )
        for attr_name, attr in attrs.items():
            if attr.required and attr_name not in entity_mapping.fields:
                problems.append(
                    f"{entity}.{attr_name} is required but not mapped: choose the field of "
                    f"table {table.name} ({table.id}) that holds it."
                )
            if (
                attr.required
                and attr.kind == "link"
                and attr.target != entity
                and attr.target not in mapping.entities
            ):
                problems.append(
                    f"{entity} needs its {attr_name} link, but {attr.target} is not mapped: "
                    f"map the {attr.target} table or unmap {entity}."
                )
    return problems


def _entity_rank(entity: str) -> tuple[int, str]:
    order = list(ENTITIES)
    return (order.index(entity) if entity in order else len(order), entity)


# --- Describing -----------------------------------------------------------------------------


def describe(mapping: Mapping, schema: BaseSchema) -> list[str]:
    """Human-readable lines: each entity's table and fields, value maps, what is left over."""
    lines: list[str] = []
    mapped_tables: set[str] = set()
    for entity in ENTITIES:
        entity_mapping = mapping.entities.get(entity)
        if entity_mapping is None:
            lines.append(f"{entity} ← (no table)")
            continue
        table = schema.table(entity_mapping.table_id)
        mapped_tables.add(entity_mapping.table_id)
        if table is None:
            lines.append(
                f"{entity} ← table {entity_mapping.table_name} ({entity_mapping.table_id}) "
                "MISSING from the base"
            )
            continue
        parts = []
        for attr_name in ENTITIES[entity]:
            field_id = entity_mapping.fields.get(attr_name)
            if field_id is None:
                continue
            schema_field = table.field(field_id)
            name = schema_field.name if schema_field else "MISSING"
            parts.append(f"{attr_name} ← {name} ({field_id})")
        lines.append(f"{entity} ← table {table.name} ({table.id}): " + (", ".join(parts) or "-"))
        unmapped_attrs = [a for a in ENTITIES[entity] if a not in entity_mapping.fields]
        if unmapped_attrs:
            lines.append("  not mapped: " + ", ".join(unmapped_attrs))
        for attr_name, value_map in entity_mapping.value_maps.items():
            lines.extend(_describe_values(entity, attr_name, value_map, entity_mapping, table))
        used = set(entity_mapping.fields.values())
        spare = [f"{f.name} ({f.id})" for f in table.fields if f.id not in used]
        if spare:
            lines.append("  unmapped fields: " + ", ".join(spare))
    spare_tables = [f"{t.name} ({t.id})" for t in schema.tables if t.id not in mapped_tables]
    if spare_tables:
        lines.append("unmapped tables: " + ", ".join(spare_tables))
    return lines


def _describe_values(
    entity: str,
    attr_name: str,
    value_map: dict[str, str],
    entity_mapping: EntityMapping,
    table: TableSchema,
) -> list[str]:
    schema_field = table.field(entity_mapping.fields.get(attr_name, ""))
    options = schema_field.choices if schema_field else ()
    lookup = {_compact(key): value for key, value in value_map.items()}
    pairs, unmapped, shown = [], [], set()
    attr = ENTITIES[entity][attr_name]
    for option in options:
        key = _compact(normalize_value(option))
        shown.add(key)
        built_in = match_choice(attr, option)
        if key in lookup:
            pairs.append(f"{option.strip()} → {lookup[key]}")
        elif built_in is not None:
            pairs.append(f"{option.strip()} → {built_in} (built-in)")
        else:
            unmapped.append(option.strip())
    pairs.extend(
        f"{key} → {value}" for key, value in sorted(value_map.items()) if _compact(key) not in shown
    )
    line = f"  {entity}.{attr_name} values: " + (", ".join(pairs) or "-")
    if unmapped:
        line += "; unmapped: " + ", ".join(unmapped)
    return [line]
