"""One MissionOS value back into the Airtable cell the mapping reads it from.

`to_cell(attr, value, field=…, value_map=…, previous=…)` is the pull's `sync.values.convert`
run backwards, for the same attribute and field: select options by the names the base uses
(the option the record had when it still means the same value, else the value map's, else the
option whose name the catalogue's synonyms read as that value), percentages as Airtable's
fractions, confidence on the field's scale, dates and numbers as the field holds them, links as
record ids, collaborators by email.

Every cell is checked by reading it back through `convert`: a cell that would not come back as
the value it was made from is refused (`NotWritable`, with a reason a person can act on), so a
write of ours that the pull or the change feed brings back always reads as unchanged.
Fields Airtable computes are never written. Pure: no ORM, no network.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sync.mapping.catalogue import Attr
from sync.mapping.names import normalize_value
from sync.schema import FieldSchema
from sync.values import NameRef, PersonRef, content_hash, convert

# Field types whose values Airtable makes itself: writing one is a 422.
COMPUTED_FIELD_TYPES = frozenset(
    {
        "formula",
        "rollup",
        "multipleLookupValues",
        "count",
        "autoNumber",
        "createdTime",
        "lastModifiedTime",
        "createdBy",
        "lastModifiedBy",
        "button",
        "externalSyncSource",
        "aiText",
    }
)
TEXT_FIELD_TYPES = frozenset(
    {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"}
)
NUMBER_FIELD_TYPES = frozenset({"number", "currency", "percent", "rating", "duration"})


class NotWritable(Exception):
    """This value cannot be written to this field; the message says why, for a person."""


def writable(field: FieldSchema | None) -> bool:
    return field is not None and field.type not in COMPUTED_FIELD_TYPES


def to_cell(
    attr: Attr,
    value: object,
    *,
    field: FieldSchema,
    value_map: Mapping[str, str] | None = None,
    previous: object = None,
) -> object:
    """The cell to send for `value` (None clears the cell). `previous`: the cell as last
    pulled, so a select keeps the option the record had when it still means the value.

    Raises NotWritable. Link values are given as what to send already (record ids, a
    PersonRef, a NameRef): the caller knows the linked rows; this checks the field's shape."""
    if not writable(field):
        raise NotWritable(f"{field.name} is computed by Airtable ({field.type})")
    if value is None or value == "" or value == []:
        if attr.kind == "bool":
            return False
        return None
    if attr.kind == "link":
        return _link_cell(attr, value, field)
    cell = _cell(attr, value, field, value_map, previous)
    back = convert(attr, cell, value_map=value_map, field=field).value
    if isinstance(value, datetime.datetime):  # Airtable keeps milliseconds
        value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    if not _same(back, value):
        raise NotWritable(
            f"{_shown(value)} would be stored in {field.name} as {_shown(cell)}, "
            f"which reads back as {_shown(back)}"
        )
    return cell


def _same(left: object, right: object) -> bool:
    return content_hash({"v": left}) == content_hash({"v": right})


def _shown(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _cell(
    attr: Attr,
    value: object,
    field: FieldSchema,
    value_map: Mapping[str, str] | None,
    previous: object,
) -> object:
    kind, ftype = attr.kind, field.type
    if kind in ("text", "long_text", "email"):
        if ftype == "singleSelect":
            return _option_named(field, str(value))
        if ftype in TEXT_FIELD_TYPES:
            return str(value)
        raise NotWritable(f"{field.name} is a {ftype} field, not text")
    if kind in ("number", "percent", "integer"):
        return _number_cell(attr, value, field, value_map, previous)
    if kind == "bool":
        if ftype == "checkbox":
            return bool(value)
        if ftype in TEXT_FIELD_TYPES:
            return "Yes" if value else "No"
        raise NotWritable(f"{field.name} is a {ftype} field, not a checkbox")
    if kind in ("date", "datetime"):
        return _date_cell(kind, value, field)
    if kind == "choice":
        return _choice_cell(attr, str(value), field, value_map, previous)
    raise NotWritable(f"{attr.kind} values are not written back")


def _option_named(field: FieldSchema, text: str) -> str:
    """An existing option of a select (never a new one: typecast would grow the base)."""
    for choice in field.choices:
        if choice == text:
            return choice
    key = normalize_value(text)
    for choice in field.choices:
        if normalize_value(choice) == key:
            return choice
    raise NotWritable(f"{text!r} is not an option of {field.name}")


def _number_cell(attr, value, field, value_map, previous) -> object:
    number = Decimal(value) if not isinstance(value, Decimal) else value
    ftype = field.type
    if ftype == "singleSelect" and attr.values:  # a confidence chosen from words
        return _choice_cell(attr, format(number.normalize(), "f"), field, value_map, previous)
    if ftype in TEXT_FIELD_TYPES:
        return format(number.normalize(), "f")
    if ftype not in NUMBER_FIELD_TYPES:
        raise NotWritable(f"{field.name} is a {ftype} field, not a number")
    if attr.scale is not None:  # confidence 0..scale
        if ftype == "percent":
            number = number / attr.scale
        elif ftype == "rating":
            maximum = field.options.get("max")
            maximum = maximum if isinstance(maximum, int) and maximum > 0 else 5
            rating = number * maximum / attr.scale
            if rating != rating.to_integral_value():
                raise NotWritable(
                    f"{_shown(value)} of {attr.scale} has no star on {field.name}'s "
                    f"{maximum}-star scale"
                )
            number = rating
    elif ftype == "percent":
        number = number / 100  # MissionOS holds points, Airtable fractions
    if number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    return float(number)


def _date_cell(kind: str, value: object, field: FieldSchema) -> str:
    ftype = field.type
    if isinstance(value, datetime.datetime):
        moment = value.astimezone(datetime.UTC)
        if ftype == "date":
            return moment.date().isoformat()
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, datetime.date):
        if ftype == "dateTime":
            return f"{value.isoformat()}T00:00:00.000Z"
        if ftype == "date" or ftype in TEXT_FIELD_TYPES:
            return value.isoformat()
    raise NotWritable(f"{field.name} is a {ftype} field, not a date")


def _choice_cell(attr, value, field, value_map, previous) -> object:
    """The option of the base that reads as `value`: the record's own when it still does."""
    choices = list(field.choices)
    if field.type not in ("singleSelect", "multipleSelects") and field.type not in (
        TEXT_FIELD_TYPES
    ):
        raise NotWritable(f"{field.name} is a {field.type} field, not a choice")

    def reads_as(option: str) -> bool:
        return convert(attr, option, value_map=value_map, field=field).value == value

    previous_texts = previous if isinstance(previous, list) else [previous]
    for option in previous_texts:
        if isinstance(option, str) and reads_as(option):
            return [option] if field.type == "multipleSelects" else option
    candidates = [source for source, target in (value_map or {}).items() if target == value]
    candidates += choices
    for candidate in candidates:
        matching = next((c for c in choices if normalize_value(c) == candidate), candidate)
        if (field.type in TEXT_FIELD_TYPES or matching in choices) and reads_as(matching):
            return [matching] if field.type == "multipleSelects" else matching
    if field.type in TEXT_FIELD_TYPES:
        label = value.replace("_", " ").capitalize()
        if reads_as(label):
            return label
    raise NotWritable(
        f"no option of {field.name} means {value.replace('_', ' ')!r}: add one in Airtable "
        "or map an option to it on the mapping page"
    )


def _link_cell(attr: Attr, value: object, field: FieldSchema) -> Any:
    items = value if isinstance(value, list) else [value]
    if field.type == "multipleRecordLinks":
        ids = [item for item in items if isinstance(item, str)]
        if len(ids) != len(items):
            raise NotWritable(f"{field.name} links records; one of them has no Airtable record")
        return ids
    if field.type in ("singleCollaborator", "multipleCollaborators"):
        emails = [item.email for item in items if isinstance(item, PersonRef) and item.email]
        if len(emails) != len(items):
            raise NotWritable(f"{field.name} holds Airtable users; a person has no email")
        people = [{"email": email} for email in emails]
        return people[0] if field.type == "singleCollaborator" else people
    names = [item.name for item in items if isinstance(item, NameRef | PersonRef) and item.name]
    if field.type == "singleSelect" and len(names) == 1:
        return _option_named(field, names[0])
    if field.type in TEXT_FIELD_TYPES and names:
        return ", ".join(names)
    raise NotWritable(f"{field.name} is a {field.type} field, which cannot hold this link")
