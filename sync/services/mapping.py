"""Writes for a connection's mapping: replacing it after checking it against the base."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError

from sync.mapping.check import check_mapping
from sync.mapping.document import Mapping, MappingError
from sync.models import Connection
from sync.schema import BaseSchema, schema_from_api
from sync.services.auditing import audit_connection
from sync.services.feed import feed_ensure_after_commit


def connection_set_mapping(
    *, connection: Connection, mapping_data: dict, actor: AbstractBaseUser | None = None
) -> Mapping:
    """Replace the mapping (from the mapping page or an imported JSON file) after checking it
    against the stored schema. Raises ValidationError listing every problem."""
    try:
        mapping = Mapping.from_dict(mapping_data)
    except MappingError as error:
        raise ValidationError(error.errors or [str(error)]) from error
    problems = check_mapping(mapping, schema_from_api(connection.schema))
    if problems:
        raise ValidationError(problems)
    before = connection.mapping
    connection.mapping = mapping.to_dict()
    connection.save(update_fields=["mapping"])
    changes = mapping_changes(before, connection.mapping, schema_from_api(connection.schema))
    if changes:
        audit_connection(connection, actor, "changed mapping", changes)
    # The webhook follows the mapping (none while nothing is mapped), and a feed stopped by
    # mapping drift resumes from its cursor.
    feed_ensure_after_commit(connection=connection)
    return mapping


def _dict(value: object, key: str) -> dict:
    """`value[key]` when both are dicts, else {} (a stored mapping may be malformed)."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def _entities(mapping: object) -> dict[str, dict]:
    return {k: v for k, v in _dict(mapping, "entities").items() if isinstance(v, dict)}


def _table(entity: dict, schema: BaseSchema) -> str | None:
    table_id = entity.get("table_id")
    if not table_id:
        return None
    table = schema.table(str(table_id))
    return table.name if table else entity.get("table_name") or table_id


def _field(entity: dict, attr: str, schema: BaseSchema) -> str | None:
    field_id = _dict(entity, "fields").get(attr)
    if not field_id:
        return None
    table = schema.table(str(entity.get("table_id", "")))
    field = table.field(field_id) if table else None
    return field.name if field else _dict(entity, "field_names").get(attr) or field_id


def _values(value_map: object) -> str | None:
    if not isinstance(value_map, dict) or not value_map:
        return None
    return ", ".join(f"{cell} → {value}" for cell, value in value_map.items())


def mapping_changes(before: object, after: object, schema: BaseSchema) -> dict[str, list]:
    """What a new mapping changes, for the audit log: each entity's table, each attribute's
    field (by name, as the base calls it now) and value maps, before and after."""
    old, new = _entities(before), _entities(after)
    changes: dict[str, list] = {}
    for entity in sorted(old.keys() | new.keys()):
        was, now = old.get(entity, {}), new.get(entity, {})
        if was == now:
            continue
        name = entity.replace("_", " ")
        if _table(was, schema) != _table(now, schema):
            changes[f"{name} table"] = [_table(was, schema), _table(now, schema)]
        for attr in sorted(_dict(was, "fields").keys() | _dict(now, "fields").keys()):
            fields = (_field(was, attr, schema), _field(now, attr, schema))
            if fields[0] != fields[1]:
                changes[f"{name} {attr}"] = list(fields)
        maps = (_dict(was, "value_maps"), _dict(now, "value_maps"))
        for attr in sorted(maps[0].keys() | maps[1].keys()):
            if maps[0].get(attr) != maps[1].get(attr):
                changes[f"{name} {attr} values"] = [
                    _values(maps[0].get(attr)),
                    _values(maps[1].get(attr)),
                ]
    return changes
