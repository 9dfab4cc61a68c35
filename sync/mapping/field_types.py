"""Which Airtable field types can hold which kinds of attribute, and how well.

`type_preference` scores a field for an attribute (the proposal prefers the best-typed field,
the mapping page lists candidates by it); `link_problem` says why a mapped link field no longer
links where it should (the checks report it). Pure: no ORM, no network.
"""

from __future__ import annotations

from sync.mapping.catalogue import Attr
from sync.schema import COMPUTED_TYPES, BaseSchema, FieldSchema

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


def link_problem(
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
