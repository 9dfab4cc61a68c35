"""One pulled Airtable record read for its entity: cleaned attributes, model values, problems.

`convert_record` never touches the database: it cleans every mapped cell (`sync.values`),
notes what does not fit as issues, and turns attributes into the model field values a row is
written with (the entity's adapter fills what a row needs, or skips what cannot be a row).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from missionos import dates
from orgs.models import Organization
from sync.mapping.catalogue import ENTITIES
from sync.mapping.document import EntityMapping
from sync.models import SyncIssue, SyncRun
from sync.reconcile.adapters import EntityAdapter
from sync.schema import TableSchema
from sync.values import NameRef, PersonRef, convert, is_empty
from sync.writeback.outbound import COMPUTED_FIELD_TYPES


@dataclass
class Converted:
    record_id: str
    attributes: dict  # attribute -> cleaned value: what Airtable says
    values: dict  # model field -> value written
    links: dict[str, list]  # link attribute -> record ids, or {"email"/"name"} references
    extras: dict  # unmapped field id -> raw cell
    issues: list[tuple[str, str, str]]  # (kind, field id, reason)
    # Airtable's createdTime (the moment of the sync when it has none): a new row's created_at.
    created_time: datetime.datetime | None = None
    # When Airtable last changed the record, if its table has a "last modified time" field
    # over the whole record (records carry no such time otherwise): what a row's activity is.
    modified_time: datetime.datetime | None = None
    # Every mapped field a person types into is empty: a blank row, kept (archived) for
    # provenance and shown or counted nowhere.
    blank: bool = False
    skip: bool = False
    # Link attributes whose MissionOS value is kept (changed here, not yet in Airtable).
    keep_links: set[str] = field(default_factory=set)


def _without_nul(cells: dict) -> tuple[dict, list[str]]:
    """The cells without NUL characters, which no Postgres text or JSON value can hold (a
    record carrying one would fail every run), and the ids of the fields that had some."""
    touched: list[str] = []

    def clean(value: object) -> object:
        """The value itself when it holds no NUL (nearly always): nothing is copied."""
        if isinstance(value, str):
            return value.replace("\x00", "") if "\x00" in value else value
        if isinstance(value, list):
            items = [clean(item) for item in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if isinstance(value, dict):
            pairs = [(clean(key), clean(item)) for key, item in value.items()]
            same = all(
                k is key and v is item
                for (k, v), (key, item) in zip(pairs, value.items(), strict=True)
            )
            return value if same else dict(pairs)
        return value

    cleaned = {}
    for field_id, cell in cells.items():
        cleaned[field_id] = clean(cell)
        if cleaned[field_id] is not cell:
            touched.append(field_id)
    return cleaned, touched


def _link_entries(value: object) -> list:
    """A converted link cell as JSON: record ids, or a reference matched by email or name."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    entries: list = []
    for item in items:
        if isinstance(item, str):
            entries.append(item)
        elif isinstance(item, PersonRef):
            entries.append({"email": (item.email or "").lower(), "name": item.name or ""})
        elif isinstance(item, NameRef):
            entries.append({"name": item.name})
    return entries


def _modified_time(
    table: TableSchema, cells: dict, now: datetime.datetime
) -> datetime.datetime | None:
    for schema_field in table.fields:
        if schema_field.type != "lastModifiedTime":
            continue
        if schema_field.options.get("referencedFieldIds"):
            continue  # the time some fields changed, not the record
        cell = cells.get(schema_field.id)
        try:
            moment = parse_datetime(cell) if isinstance(cell, str) else None
        except ValueError:  # well formed but no real moment ("2024-13-01T00:00Z")
            moment = None
        if moment is None or dates.out_of_range(moment):
            return None  # the record's created time stands in
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        return min(moment, now)
    return None


def convert_record(
    adapter: EntityAdapter,
    entity_mapping: EntityMapping,
    table: TableSchema,
    record: dict,
    *,
    now: datetime.datetime,
    may_hold_nul: bool = True,
) -> Converted:
    """`may_hold_nul=False`: the caller knows no text of the record holds a NUL character (its
    JSON shows none: sync.values.NUL_IN_JSON), so its cells are not searched for one."""
    attrs = ENTITIES[adapter.entity]
    if may_hold_nul:
        cells, nul_fields = _without_nul(record.get("fields") or {})
    else:
        cells, nul_fields = record.get("fields") or {}, []
    mapped_field_ids = set(entity_mapping.fields.values())
    converted = Converted(
        record_id=record["id"],
        attributes={},
        values={},
        links={},
        extras={fid: cell for fid, cell in cells.items() if fid not in mapped_field_ids},
        issues=[
            (SyncIssue.Kind.VALUE, field_id, "NUL characters (U+0000) removed")
            for field_id in nul_fields
        ],
    )
    converted.modified_time = _modified_time(table, cells, now)
    typed_into = [
        field_id
        for field_id in mapped_field_ids
        if (schema_field := table.field(field_id)) is not None
        and schema_field.type not in COMPUTED_FIELD_TYPES
    ]
    converted.blank = bool(typed_into) and all(is_empty(cells.get(f)) for f in typed_into)
    raw_values: dict[str, object] = {}
    for attr_name, field_id in entity_mapping.fields.items():
        attr = attrs.get(attr_name)
        if attr is None:
            continue
        result = convert(
            attr,
            cells.get(field_id),
            value_map=entity_mapping.value_maps.get(attr_name),
            field=table.field(field_id),
        )
        if result.problem:
            kind = SyncIssue.Kind.LINK if attr.kind == "link" else SyncIssue.Kind.VALUE
            converted.issues.append((kind, field_id, result.problem))
        if attr.kind == "link":
            if entries := _link_entries(result.value):
                converted.links[attr_name] = entries
        else:
            raw_values[attr_name] = result.value
    for attr_name, attr in attrs.items():
        if attr.required and attr.kind != "link" and raw_values.get(attr_name) in (None, ""):
            field_id = entity_mapping.fields.get(attr_name, "")
            converted.issues.append(
                (SyncIssue.Kind.REQUIRED, field_id, f"{attr_name.replace('_', ' ')} is empty")
            )
        elif attr.required and attr.kind == "link" and attr_name not in converted.links:
            field_id = entity_mapping.fields.get(attr_name, "")
            converted.issues.append(
                (
                    SyncIssue.Kind.REQUIRED,
                    field_id,
                    f"no {attr.target.replace('_', ' ')} linked",
                )
            )
    converted.attributes = raw_values
    converted.values = _model_values(adapter, entity_mapping, record, converted, now=now)
    return converted


def _model_values(
    adapter: EntityAdapter,
    entity_mapping: EntityMapping,
    record: dict,
    converted: Converted,
    *,
    now: datetime.datetime,
) -> dict:
    """Attribute values -> model field values, with the defaults a record needs to exist."""
    model = adapter.model
    values = {
        name: value
        for name, value in converted.attributes.items()
        if name not in adapter.virtual_attributes
    }
    created_time = parse_datetime(record.get("createdTime") or "") or now
    if created_time > now:  # a clock ahead of ours: a row is never made in the future
        created_time = now
    converted.created_time = created_time
    fit_field_limits(model, values, converted, entity_mapping)
    adapter.complete(
        values,
        item=converted,
        entity_mapping=entity_mapping,
        created_time=created_time,
        now=now,
    )

    for name in ("name", "title"):
        if name in values and not values[name]:
            values[name] = f"(untitled {record['id']})"
    for name, value in list(values.items()):
        if value is not None:
            continue
        model_field = model._meta.get_field(name)
        if not model_field.null:
            values[name] = (
                "" if isinstance(model_field, models.CharField | models.TextField) else None
            )
            if values[name] is None:
                values.pop(name)
    return values


def fit_field_limits(
    model: type[models.Model], values: dict, converted: Converted, entity_mapping: EntityMapping
) -> None:
    """Make every value fit its column, so that no record can fail a run on the database's
    limits: text longer than the column is cut (and said); a number is rounded to the column's
    decimal places, and one the column cannot hold (too many digits, below or above the
    field's range: a negative weight, a position past the integer's range) is left empty with
    an issue, as is anything else the field's validators refuse."""
    limits = _text_limits(model)
    for name, value in list(values.items()):
        if value is None:
            continue
        field_id = entity_mapping.fields.get(name, "")
        original = value
        max_length, checks_only_text = limits.get(name, (None, False))
        if isinstance(value, str) and max_length and len(value) > max_length:
            converted.issues.append(
                (SyncIssue.Kind.VALUE, field_id, f"{len(value)} characters, cut to {max_length}")
            )
            values[name] = value = value[: max_length - 1] + "…"
        if type(value) is str and checks_only_text and "\x00" not in value:
            continue  # what its validators check (length, NUL) holds already: most values
        model_field = model._meta.get_field(name)
        if isinstance(model_field, models.DecimalField) and isinstance(value, Decimal):
            places = Decimal(1).scaleb(-model_field.decimal_places)
            # More digits than the context holds: the validators below refuse it.
            with contextlib.suppress(InvalidOperation):
                values[name] = value = value.quantize(places, rounding=ROUND_HALF_UP)
        try:
            model_field.run_validators(value)
            _check_integer_range(model_field, value)
        except ValidationError as refused:
            values[name] = None
            reason = " ".join(refused.messages).rstrip(".")
            reason = reason[:1].lower() + reason[1:]  # "ensure this value is at most …"
            shown = _shown(original)
            converted.issues.append(
                (SyncIssue.Kind.VALUE, field_id, f"{shown} does not fit: {reason}; left empty")
            )


@functools.cache
def _text_limits(model: type[models.Model]) -> dict[str, tuple[int | None, bool]]:
    """The model's text fields: name -> (max length, whether its validators check nothing but
    length and NUL characters), read once."""
    return {
        model_field.name: (model_field.max_length, _text_checks_only(model_field))
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, models.CharField | models.TextField)
    }


@functools.cache
def _text_checks_only(model_field: models.Field) -> bool:
    """Whether the field's validators check nothing but a text's length and NUL characters
    (a CharField's or TextField's own): a text cut to the field's length passes them."""
    return isinstance(model_field, models.CharField | models.TextField) and all(
        isinstance(check, MaxLengthValidator | ProhibitNullCharactersValidator)
        for check in model_field.validators
    )


def _check_integer_range(model_field: models.Field, value: object) -> None:
    """The integer column's range as every database Django supports holds it (Postgres'
    smallint: -32768..32767), whichever database this is: SQLite stores any integer, and a row
    it takes must also fit where the product runs."""
    if not isinstance(model_field, models.IntegerField) or not isinstance(value, int | Decimal):
        return
    low, high = BaseDatabaseOperations.integer_field_ranges[model_field.get_internal_type()]
    if not low <= value <= high:
        raise ValidationError(f"Ensure this value is between {low} and {high}")


def _shown(value: object) -> str:
    text = f"{value:f}" if isinstance(value, Decimal) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def record_issue(
    *,
    organization: Organization,
    run: SyncRun,
    table: TableSchema,
    record_id: str,
    kind: str,
    field_id: str,
    reason: str,
) -> SyncIssue:
    """A problem with one record (or one of its fields), as the run's data-health report lists
    it: with the table's and field's names as the schema has them now."""
    schema_field = table.field(field_id) if field_id else None
    return SyncIssue(
        organization=organization,
        run=run,
        kind=kind,
        table_id=table.id,
        table_name=table.name,
        record_id=record_id,
        field_id=field_id,
        field_name=schema_field.name if schema_field else "",
        reason=reason,
    )
