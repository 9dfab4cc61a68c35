"""What MissionOS can map: its entities, their attributes, and the names real bases use for them.

`ENTITIES` is the catalogue of what the sync fills, attribute by attribute (an `Attr`), with the
kind of value each holds and the field names real bases use for it. `ENTITY_TABLE_NAMES` holds
the table names that propose each entity, `LABEL_ATTRS` the attribute each entity is named by.
The catalogue's order is the order entities are pulled in (linked tables first) and listed in.
Pure data: no ORM, no network.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def entity_rank(entity: str) -> tuple[int, str]:
    """Sort key: catalogue order, then anything unknown by name."""
    order = list(ENTITIES)
    return (order.index(entity) if entity in order else len(order), entity)


def attribute_rank(entity: str, attr: str) -> tuple[int, str]:
    """Sort key for an entity's attributes: catalogue order, then anything unknown by name."""
    order = list(ENTITIES.get(entity, {}))
    return (order.index(attr) if attr in order else len(order), attr)
