"""The audit log: who changed what, when, and each value before and after.

Services write it, in the transaction of the change and after it: `record(...)` for an entry
they describe themselves (a role changed, a token replaced, a fix applied), `record_change(...)`
for a row saved through them, comparing the row as stored before (`stored(row)`, or a copy
taken before the change) with the row as saved. Reads go through `orgs.selectors`
(`audit_entries`); the page and its CSV export are in `orgs.views`.

What each entry names is a *kind* of target ("task", "membership", "connection"). The kinds
belong to the apps that own those records and `orgs` sits below them, so each app registers its
own in its `AppConfig.ready()` (`register_audit_kind`), as they do the activity feed's targets.

Why a model of our own (`orgs.models.AuditEntry`) rather than the activity feed or a library:

- The activity feed (`orgs.models.Activity`) is a different record: a short, curated line for
  everyone on the dashboard ("checked in on X, 42%"), pointing at the page to open (a task's line
  points at its project). The audit log is complete, admin-only, names the record itself and
  keeps every field's before and after; extending Activity would have put both jobs, and their
  different readers, on one table.
- django-pghistory records changes with Postgres triggers: nothing would be recorded in the
  SQLite mode MissionOS also runs in, and a trigger sees rows, not who asked (that needs its
  context set around every request and task) nor what a change meant.
- django-simple-history adds a history table per audited model (a copy of every column) and
  records from model signals. The sync writes with Postgres COPY and bulk updates
  (`sync.bulk`: no signals), so the largest source of changes would be missing or, wrapped in
  its bulk helpers, cost a history row per row pulled; and "what did anyone do this week"
  would be a union over a dozen tables.
- What only the services know is what the log is for: memberships, invitations, a token
  replaced (never the token itself), a mapping changed, a data-health fix applied. They already
  are the one place every write passes (STYLE.md, practice 4), so they write the entry.

Cost: one entry per change a person makes (and, for a save through `record_change`, one read
of the row as stored). The sync pulling from Airtable writes thousands of rows in bulk; it
records one entry per run (and per change-feed batch) that changed anything, attributed to
"Airtable" with the counts, not one per row: its own run page lists what it did, row by row
where it matters (issues, archives).

Values are stored as they are shown (`shown`): the related record's name for a foreign key,
a choice's label, dates in ISO form, long texts cut. Nothing secret is ever passed here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from missionos import exports
from orgs.models import AuditEntry, OrgScoped

# Who to name when nobody signed in made the change (a command, a rule of MissionOS).
SYSTEM_ACTOR = "System"
# Verbs of `record_change`; the services' own entries use their own ("changed role").
CREATED, EDITED, ARCHIVED, RESTORED = "created", "edited", "archived", "restored"
TEXT_MAX = 1000  # a value longer than this is cut (descriptions run to 5,000 characters)
# Bookkeeping, not what anyone changed: derived, or the sync's provenance.
NOT_AUDITED = frozenset(
    {"id", "organization", "created_at", "updated_at", "last_activity_at", "last_synced_at"}
)

Changes = dict[str, list]  # {field: [before, after]}


@dataclass(frozen=True)
class AuditKind:
    """A kind of record the audit log names."""

    name: str  # stored in AuditEntry.target_kind
    label: str


_kinds: dict[str, AuditKind] = {}
_kind_of_model: dict[type[models.Model], str] = {}


def register_audit_kind(kind: AuditKind, model: type[models.Model] | None = None) -> None:
    """Called from an app's ready(); `model`: the rows `record_change` names with this kind.
    Registering one name twice with other values is a programming error."""
    existing = _kinds.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"audit kind {kind.name!r} is already registered as {existing}")
    _kinds[kind.name] = kind
    if model is not None:
        _kind_of_model[model] = kind.name


def audit_kind(name: str) -> AuditKind | None:
    return _kinds.get(name)


def audit_kind_choices() -> list[tuple[str, str]]:
    return sorted(((kind.name, kind.label) for kind in _kinds.values()), key=lambda c: c[1])


def kind_of(record: models.Model) -> str:
    try:
        return _kind_of_model[type(record)]
    except KeyError:
        raise ValueError(f"no audit kind is registered for {type(record).__name__}") from None


# -- values as the log shows them ----------------------------------------------------------


def shown(value: object) -> object:
    """A value as the log keeps it: JSON, readable, short."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value.is_finite() else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [shown(item) for item in value]
    if isinstance(value, dict):
        return {str(key): shown(item) for key, item in value.items()}
    text = str(value)
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


@cache
def audited_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    """The fields of `model` whose changes are logged: what a person (or a rule) edits, not
    the bookkeeping (timestamps, the sync's provenance, the id)."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in NOT_AUDITED
    )


def _raw(instance: models.Model, field: models.Field) -> object:
    return getattr(instance, field.attname)


def field_shown(instance: models.Model, field: models.Field) -> object:
    """The field's value on `instance` as the log shows it (a related row by its name)."""
    if _raw(instance, field) is None:
        return None
    if field.is_relation:
        related = getattr(instance, field.name)
        if isinstance(related, AbstractBaseUser):
            return related.get_username()
        return shown(related)
    if field.choices:
        value = _raw(instance, field)
        return shown(dict(field.flatchoices).get(value, value))
    return shown(_raw(instance, field))


def stored(record: models.Model) -> models.Model | None:
    """The row as stored, before a service changes it (None for a new one), with what its
    foreign keys name: one query. Call it before saving."""
    if record.pk is None:
        return None
    model = type(record)
    if not issubclass(model, OrgScoped):
        raise TypeError(f"{model.__name__} is not organization-owned")
    related = [field.name for field in audited_fields(model) if field.is_relation]
    rows = model.objects.for_org(record.organization_id, include_archived=True)
    return rows.select_related(*related).filter(pk=record.pk).first()


def diff(
    before: models.Model | None,
    after: models.Model,
    *,
    fields: Iterable[str] | None = None,
) -> Changes:
    """{field: [before, after]} of each audited field (or of `fields`) whose value differs;
    with no `before` (a new row), every field that has a value."""
    chosen = audited_fields(type(after))
    if fields is not None:
        wanted = set(fields)
        chosen = tuple(field for field in chosen if field.name in wanted)
    changes: Changes = {}
    for field in chosen:
        if before is not None and _raw(before, field) == _raw(after, field):
            continue
        if before is None and _raw(after, field) in (None, ""):
            continue
        old = field_shown(before, field) if before is not None else None
        changes[field.name] = [old, field_shown(after, field)]
    return changes


# -- writing -----------------------------------------------------------------------------------


def actor_name(actor: AbstractBaseUser | None, unattended: str = SYSTEM_ACTOR) -> str:
    if actor is not None and actor.is_authenticated:
        return actor.get_username()
    return unattended


def record(
    *,
    organization_id: int,
    action: str,
    kind: str,
    target_id: int | None,
    label: str,
    changes: Mapping[str, Sequence[object]] | None = None,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
) -> AuditEntry:
    """Add an entry to the organization's audit log (inside the change's transaction).

    `changes`: {field: (before, after)}; `actor_label` names who acted when no signed-in user
    did (the sync: "Airtable"; else `SYSTEM_ACTOR`)."""
    if kind not in _kinds:
        raise ValueError(f"unknown audit kind {kind!r}: register it in the app's ready()")
    signed_in = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        organization_id=organization_id,
        actor=signed_in,
        actor_label=actor_name(signed_in, actor_label or SYSTEM_ACTOR)[:150],
        action=action[:40],
        target_kind=kind,
        target_id=target_id,
        target_label=str(label)[:300],
        changes={
            str(name): [shown(before), shown(after)]
            for name, (before, after) in (changes or {}).items()
        },
    )


def record_change(
    *,
    row: OrgScoped,
    before: models.Model | None,
    actor: AbstractBaseUser | None,
    action: str = "",
    fields: Iterable[str] | None = None,
    extra: Mapping[str, Sequence[object]] | None = None,
) -> AuditEntry | None:
    """Log a row saved through a service: what differs between `before` (the row as it was:
    `stored(row)`, or a copy; None when new) and `row` as saved, plus `extra` (what is
    not a field of the row: a many-to-many). The action says itself unless given: created,
    archived, restored (the archive time set or cleared), else edited. A change of an existing
    row that changed nothing (a form saved untouched) is not logged."""
    changes = {**diff(before, row, fields=fields), **(extra or {})}
    if before is not None and not changes:
        return None
    if not action:
        archived = changes.get("archived_at")
        if before is None:
            action = CREATED
        elif archived is not None:
            action = ARCHIVED if archived[1] is not None else RESTORED
        else:
            action = EDITED
    return record(
        organization_id=row.organization_id,
        action=action,
        kind=kind_of(row),
        target_id=row.pk,
        label=str(row),
        changes=changes,
        actor=actor,
    )


# -- reading it back: the page's and the CSV's text --------------------------------------------


def value_text(value: object) -> str:
    """A stored value as text: "" for none, lists joined, yes/no for booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {value_text(item)}" for key, item in value.items())
    return str(value)


def field_label(name: str) -> str:
    """ "current_value" -> "current value"."""
    return name.replace("_", " ")


CSV_HEADER = [
    "When",
    "Who",
    "Action",
    "Record kind",
    "Record id",
    "Record",
    "Field",
    "Before",
    "After",
]


def csv_cell(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs: a leading apostrophe before what
    would start a formula (OWASP's advice for CSV injection)."""
    return exports.guarded(value_text(value))


def csv_rows(entries: Iterable[AuditEntry]) -> Iterable[list[str]]:
    """The CSV export: the header, then a row per field changed (one for an entry without)."""
    yield CSV_HEADER
    for entry in entries:
        kind = audit_kind(entry.target_kind)
        start = [
            entry.created_at.astimezone(datetime.UTC).isoformat(),
            entry.actor_label,
            entry.action,
            kind.label if kind else entry.target_kind,
            "" if entry.target_id is None else str(entry.target_id),
            entry.target_label,
        ]
        changes = list(entry.changes.items()) or [("", [None, None])]
        for name, (before, after) in changes:
            yield [csv_cell(cell) for cell in (*start, field_label(name), before, after)]
