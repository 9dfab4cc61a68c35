"""Record and field writes as the REST API takes them: bodies, cell values, refusals.

Used by the server (source "publicApi") and the control API (source "client"); every function
here runs inside the caller's ``model.transaction()``, so a request is one transaction and one
webhook payload. A request is checked whole before anything changes: a refusal leaves the base
as it was.

Cell values are stored as Airtable stores them (what a read returns): an empty value (``""``,
``[]``, ``False``, ``None``) clears the cell. Per field type:

- text types (singleLineText, multilineText, richText, email, url, phoneNumber): a string
  (``typecast``: numbers and booleans become text);
- number, percent, currency, rating, duration: a JSON number (``typecast``: a numeric string);
- checkbox: ``true``/``false``; date: ``YYYY-MM-DD`` (a date-time keeps its date); dateTime:
  any ISO 8601 date-time, stored as ``2024-03-01T09:00:00.000Z``;
- singleSelect / multipleSelects: option names; an unknown name is 422
  INVALID_MULTIPLE_CHOICE_OPTIONS unless ``typecast``, which adds the option to the field;
- multipleRecordLinks: a list of ids of records of the linked table (``typecast``: one id);
- collaborators ``{id}``/``{email}``, attachments ``[{url, filename?}]`` (given an ``att`` id);
- computed types (COMPUTED_TYPES) refuse any value: 422 INVALID_VALUE_FOR_COLUMN;
- any other type (one this fake does not know) takes the value as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import MSG_TOO_MANY_RECORDS, ApiError, bad_request, record_not_found
from .model import FakeTable, is_empty, ms_to_iso, parse_iso, random_id, render_record, to_ms

MAX_RECORDS_PER_REQUEST = 10
COMPUTED_TYPES = frozenset(
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
        "aiText",
        "externalSyncSource",
    }
)
TEXT_TYPES = frozenset(
    {"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"}
)
NUMBER_TYPES = frozenset({"number", "percent", "currency", "rating", "duration"})
CHOICE_COLORS = ("blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2")
RECORD_ID_RE = re.compile(r"rec[A-Za-z0-9]{14}")

_CREATE_KEYS = {"records", "fields", "typecast", "returnFieldsByFieldId"}
_UPDATE_KEYS = {"records", "typecast", "returnFieldsByFieldId", "performUpsert"}
_UPDATE_ONE_KEYS = {"fields", "typecast", "returnFieldsByFieldId"}


# ---------------------------------------------------------------------------------------------
# Refusals


def unknown_field(key: str) -> ApiError:
    return ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{key}"')


def _invalid_value(field: Mapping[str, Any], detail: str | None = None) -> ApiError:
    message = f'Field "{field["name"]}" cannot accept the provided value'
    return ApiError(422, "INVALID_VALUE_FOR_COLUMN", f"{message}: {detail}" if detail else message)


def _cannot_parse(field: Mapping[str, Any], value: Any) -> ApiError:
    shown = value if isinstance(value, str) else repr(value)
    return ApiError(
        422, "INVALID_VALUE_FOR_COLUMN", f'Cannot parse value "{shown}" for field {field["name"]}'
    )


def _missing_fields() -> ApiError:
    return ApiError(
        422, "INVALID_REQUEST_MISSING_FIELDS", 'Could not find field "fields" in the request body'
    )


# ---------------------------------------------------------------------------------------------
# Cell values


class _NewChoices:
    """Select options a typecast write adds, applied only once the whole request passed."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field_id: str, name: str) -> None:
        names = self.by_field.setdefault(field_id, [])
        if name not in names:
            names.append(name)

    def has(self, field_id: str, name: str) -> bool:
        return name in self.by_field.get(field_id, ())

    def apply(self, table: FakeTable) -> None:
        for field_id, names in self.by_field.items():
            options = dict(table.field(field_id).get("options") or {})
            choices = list(options.get("choices") or [])
            for name in names:
                color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
                choices.append({"id": random_id(table._rng, "sel"), "name": name, "color": color})
            options["choices"] = choices
            table.set_field_options(field_id, options)


def resolve_write_field(table: FakeTable, key: Any) -> dict[str, Any]:
    """A key of a written ``fields`` object: a field name, else a field id."""
    if not isinstance(key, str):
        raise unknown_field(str(key))
    field = table.field_by_name(key)
    if field is None:
        field = table._fields.get(key)
    if field is None:
        raise unknown_field(key)
    return field


def _number(field: Mapping[str, Any], value: Any, typecast: bool) -> int | float:
    if isinstance(value, bool):
        raise _cannot_parse(field, value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _cannot_parse(field, value)
        return value
    if typecast and isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            raise _cannot_parse(field, value) from None
        if math.isfinite(number):
            return int(number) if number.is_integer() else number
    raise _cannot_parse(field, value)


def _choice(
    table: FakeTable, field: Mapping[str, Any], value: Any, typecast: bool, new: _NewChoices
) -> str:
    if not isinstance(value, str):
        if not typecast or isinstance(value, dict | list):
            raise _cannot_parse(field, value)
        value = str(value)
    names = {c.get("name") for c in (field.get("options") or {}).get("choices") or []}
    if value in names or new.has(field["id"], value):
        return value
    if not typecast:
        raise ApiError(
            422,
            "INVALID_MULTIPLE_CHOICE_OPTIONS",
            f'Insufficient permissions to create new select option ""{value}""',
        )
    new.add(field["id"], value)
    return value


def _links(table: FakeTable, field: Mapping[str, Any], value: Any, typecast: bool) -> list[str]:
    if isinstance(value, str) and typecast:
        value = [value]
    if not isinstance(value, list):
        raise _invalid_value(field, "a list of record ids is expected")
    linked_id = (field.get("options") or {}).get("linkedTableId") or table.id
    linked = table.base.find_table(linked_id)
    ids: list[str] = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            item = item["id"]
        if not isinstance(item, str) or RECORD_ID_RE.fullmatch(item) is None:
            raise _invalid_value(field, f"{item!r} is not a record id")
        if linked is not None and item not in linked._records:
            raise _invalid_value(field, f"record {item} does not exist in table {linked.name}")
        if item not in ids:
            ids.append(item)
    return ids


def _collaborator(field: Mapping[str, Any], value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not (
        isinstance(value.get("id"), str) or isinstance(value.get("email"), str)
    ):
        raise _invalid_value(field, "a collaborator is {id} or {email}")
    return {k: value[k] for k in ("id", "email", "name") if isinstance(value.get(k), str)}


def _attachments(table: FakeTable, field: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid_value(field, "a list of attachments is expected")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("url") or item.get("id"), str):
            raise _invalid_value(field, "an attachment is {url, filename?}")
        url = item.get("url") or ""
        out.append(
            {
                "id": item.get("id") or random_id(table._rng, "att"),
                "url": url,
                "filename": item.get("filename") or url.rstrip("/").rsplit("/", 1)[-1],
            }
        )
    return out


def cell_value(
    table: FakeTable, field: Mapping[str, Any], value: Any, typecast: bool, new: _NewChoices
) -> Any:
    """The value to store for ``value`` written to ``field`` (None: clear the cell)."""
    kind = field["type"]
    if kind in COMPUTED_TYPES:
        raise ApiError(
            422,
            "INVALID_VALUE_FOR_COLUMN",
            f'Field "{field["name"]}" cannot accept a value because the field is computed',
        )
    if is_empty(value):
        return None
    if kind in TEXT_TYPES:
        if isinstance(value, str):
            return value
        if typecast and isinstance(value, bool | int | float):
            return str(value).lower() if isinstance(value, bool) else str(value)
        raise _cannot_parse(field, value)
    if kind in NUMBER_TYPES:
        return _number(field, value, typecast)
    if kind == "checkbox":
        if value is True:
            return True
        if typecast and isinstance(value, str):
            return True if value.strip().lower() in ("true", "1", "yes", "checked", "x") else None
        raise _cannot_parse(field, value)
    if kind in ("date", "dateTime"):
        if not isinstance(value, str):
            raise _cannot_parse(field, value)
        try:
            parsed = parse_iso(value)
        except ValueError:
            raise _cannot_parse(field, value) from None
        if kind == "date":
            return parsed.date().isoformat() if "T" in value else value.strip()[:10]
        return ms_to_iso(to_ms(parsed))
    if kind == "singleSelect":
        return _choice(table, field, value, typecast, new)
    if kind == "multipleSelects":
        if isinstance(value, str) and typecast:
            value = [value]
        if not isinstance(value, list):
            raise _cannot_parse(field, value)
        names: list[str] = []
        for item in value:
            name = _choice(table, field, item, typecast, new)
            if name not in names:
                names.append(name)
        return names
    if kind == "multipleRecordLinks":
        return _links(table, field, value, typecast) or None
    if kind == "singleCollaborator":
        return _collaborator(field, value)
    if kind == "multipleCollaborators":
        if not isinstance(value, list):
            raise _invalid_value(field, "a list of collaborators is expected")
        return [_collaborator(field, item) for item in value]
    if kind == "multipleAttachments":
        return _attachments(table, field, value)
    return value


def fields_for_write(
    table: FakeTable, fields: Any, typecast: bool, new: _NewChoices
) -> dict[str, Any]:
    """A request's ``fields`` object (keys: names or ids) -> values to store, by field id."""
    if not isinstance(fields, dict):
        raise bad_request()
    out: dict[str, Any] = {}
    for key, value in fields.items():
        field = resolve_write_field(table, key)
        out[field["id"]] = cell_value(table, field, value, typecast, new)
    return out


# ---------------------------------------------------------------------------------------------
# Requests


def _flags(body: Mapping[str, Any]) -> tuple[bool, bool]:
    """(typecast, returnFieldsByFieldId) from a body."""
    flags = []
    for key in ("typecast", "returnFieldsByFieldId"):
        value = body.get(key, False)
        if value is None:
            value = False
        if not isinstance(value, bool):
            raise bad_request()
        flags.append(value)
    return flags[0], flags[1]


def _body(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) - allowed:
        raise bad_request()
    return body


def _record_list(body: Mapping[str, Any]) -> list[Any]:
    records = body.get("records")
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS_PER_REQUEST:
        raise ApiError(422, "INVALID_RECORDS", MSG_TOO_MANY_RECORDS)
    for record in records:
        if not isinstance(record, dict):
            raise ApiError(422, "INVALID_RECORDS", MSG_TOO_MANY_RECORDS)
    return records


def _render(table: FakeTable, record_id: str, by_id: bool) -> dict[str, Any]:
    return render_record(table._records[record_id], table.field_names(), by_id)


def create_records(table: FakeTable, body: Any) -> dict[str, Any]:
    """``POST /v0/{base}/{table}``: ``{"records": [{"fields"}]}`` (≤ 10) or ``{"fields"}``."""
    body = _body(body, _CREATE_KEYS)
    typecast, by_id = _flags(body)
    single = "records" not in body
    if single:
        if "fields" not in body:
            raise _missing_fields()
        rows = [{"fields": body["fields"]}]
    elif "fields" in body:
        raise bad_request()
    else:
        rows = _record_list(body)
    new = _NewChoices()
    values = []
    for row in rows:
        if set(row) - {"fields"}:
            raise bad_request()
        values.append(fields_for_write(table, row.get("fields", {}), typecast, new))
    new.apply(table)
    ids = [table.create(v) for v in values]
    if single:
        return _render(table, ids[0], by_id)
    return {"records": [_render(table, i, by_id) for i in ids]}


def _merge_fields(table: FakeTable, perform: Any) -> list[str]:
    if not isinstance(perform, dict) or set(perform) != {"fieldsToMergeOn"}:
        raise bad_request()
    keys = perform["fieldsToMergeOn"]
    if not isinstance(keys, list) or not 1 <= len(keys) <= 3:
        raise bad_request("Invalid request: fieldsToMergeOn must list 1 to 3 fields")
    field_ids = []
    for key in keys:
        field = resolve_write_field(table, key)
        if field["type"] in COMPUTED_TYPES:
            raise ApiError(
                422,
                "INVALID_VALUE_FOR_COLUMN",
                f'Field "{field["name"]}" is computed and cannot be used in fieldsToMergeOn',
            )
        field_ids.append(field["id"])
    return field_ids


def update_records(table: FakeTable, body: Any, *, replace: bool) -> dict[str, Any]:
    """``PATCH`` (merge) / ``PUT`` (replace) ``/v0/{base}/{table}``, with or without
    ``performUpsert``: records without ``id`` are matched on the merge fields' values (none:
    created, one: updated, several: 422); the response then adds createdRecords and
    updatedRecords."""
    body = _body(body, _UPDATE_KEYS)
    typecast, by_id = _flags(body)
    rows = _record_list(body)
    merge_on = _merge_fields(table, body["performUpsert"]) if "performUpsert" in body else None
    new = _NewChoices()
    # [record id, or None for a create; values]: a planned create can match a later row
    plan: list[list[Any]] = []
    planned_by_key: dict[tuple, int] = {}
    for row in rows:
        if set(row) - {"id", "fields"}:
            raise bad_request()
        if "fields" not in row:
            raise _missing_fields()
        values = fields_for_write(table, row["fields"], typecast, new)
        record_id = row.get("id")
        if record_id is not None:
            if not isinstance(record_id, str) or record_id not in table._records:
                raise record_not_found(str(record_id))
            plan.append([record_id, values])
            continue
        if merge_on is None:
            raise ApiError(
                422, "INVALID_RECORDS", "Each record needs an id unless performUpsert is given"
            )
        missing = [f for f in merge_on if f not in values]
        if missing:
            names = ", ".join(table._fields[f]["name"] for f in missing)
            raise ApiError(
                422,
                "INVALID_VALUE_FOR_COLUMN",
                f"Records to upsert must include the fields to merge on: {names}",
            )
        key = tuple(_comparable(values[f]) for f in merge_on)
        if key in planned_by_key:  # matches a record this request creates: one record
            plan[planned_by_key[key]][1].update(values)
            continue
        matches = [
            r.id
            for r in table._records.values()
            if tuple(_comparable(r.fields.get(f)) for f in merge_on) == key
        ]
        if len(matches) > 1:
            raise ApiError(
                422,
                "INVALID_VALUE_FOR_COLUMN",
                f"Cannot upsert: {len(matches)} records match the values of the fields to merge "
                "on; at most one may",
            )
        if matches:
            plan.append([matches[0], values])
        else:
            planned_by_key[key] = len(plan)
            plan.append([None, values])

    new.apply(table)
    created, updated, order = [], [], []
    for record_id, values in plan:
        if record_id is None:
            record_id = table.create(values)
            created.append(record_id)
        else:
            (table.replace if replace else table.update)(record_id, values)
            updated.append(record_id)
        order.append(record_id)
    out: dict[str, Any] = {"records": [_render(table, i, by_id) for i in order]}
    if merge_on is not None:
        out["createdRecords"] = created
        out["updatedRecords"] = updated
    return out


def _comparable(value: Any) -> Any:
    return repr(value) if isinstance(value, list | dict) else value


def update_record(table: FakeTable, record_id: str, body: Any, *, replace: bool) -> dict[str, Any]:
    """``PATCH`` / ``PUT /v0/{base}/{table}/{recordId}`` ``{"fields"}`` -> the record."""
    body = _body(body, _UPDATE_ONE_KEYS)
    typecast, by_id = _flags(body)
    if "fields" not in body:
        raise _missing_fields()
    new = _NewChoices()
    values = fields_for_write(table, body["fields"], typecast, new)
    if record_id not in table._records:
        raise record_not_found(record_id)
    new.apply(table)
    (table.replace if replace else table.update)(record_id, values)
    return _render(table, record_id, by_id)


def delete_records(table: FakeTable, record_ids: Iterable[str]) -> dict[str, Any]:
    """``DELETE /v0/{base}/{table}?records[]=…`` (≤ 10)."""
    ids = list(dict.fromkeys(record_ids))
    if not 1 <= len(ids) <= MAX_RECORDS_PER_REQUEST:
        raise ApiError(422, "INVALID_RECORDS", MSG_TOO_MANY_RECORDS)
    for record_id in ids:
        if record_id not in table._records:
            raise record_not_found(record_id)
    table.delete_many(ids)
    return {"records": [{"id": i, "deleted": True} for i in ids]}


def delete_record(table: FakeTable, record_id: str) -> dict[str, Any]:
    """``DELETE /v0/{base}/{table}/{recordId}``."""
    if record_id not in table._records:
        raise record_not_found(record_id)
    table.delete(record_id)
    return {"id": record_id, "deleted": True}


def create_field(table: FakeTable, body: Any) -> dict[str, Any]:
    """``POST /v0/meta/bases/{base}/tables/{table}/fields`` -> the field's schema JSON."""
    body = _body(body, {"name", "type", "description", "options"})
    name = body.get("name")
    kind = body.get("type")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", "Field names must be non-empty")
    name = name.strip()
    if any(f["name"].lower() == name.lower() for f in table._fields.values()):
        raise ApiError(
            422,
            "DUPLICATE_OR_EMPTY_FIELD_NAME",
            f'Field names must be unique: a field named "{name}" already exists',
        )
    if not isinstance(kind, str) or not kind:
        raise bad_request("Invalid request: a field needs a type")
    description = body.get("description")
    options = body.get("options")
    if description is not None and not isinstance(description, str):
        raise bad_request()
    if options is not None and not isinstance(options, dict):
        raise bad_request()
    if options and isinstance(options.get("choices"), list):  # new choices get ids
        options = dict(options)
        options["choices"] = [
            {"id": random_id(table._rng, "sel"), **c}
            if isinstance(c, dict) and "id" not in c
            else c
            for c in options["choices"]
        ]
    field_id = table.add_field(name, kind, options=options, description=description)
    return dict(table.field(field_id))
