"""The checks of a mapping against the base's schema: what stops a run, and what to do about it.

`check_mapping(mapping, schema)` lists every problem as a sentence saying what to fix (a table
or field gone, a link that now points elsewhere, a required attribute unmapped); `[]` means a
run can start. Everything is keyed by id, so renaming tables or fields is never a problem.
Pure: no ORM, no network.
"""

from __future__ import annotations

from sync.mapping.catalogue import ENTITIES, entity_rank
from sync.mapping.document import EntityMapping, Mapping
from sync.mapping.field_types import link_problem
from sync.schema import BaseSchema


def _field_label(entity_mapping: EntityMapping, attr: str, field_id: str) -> str:
    name = entity_mapping.field_names.get(attr)
    return f"field {name!r} ({field_id})" if name else f"field {field_id}"


def check_mapping(mapping: Mapping, schema: BaseSchema) -> list[str]:
    """What makes a run impossible, each a sentence saying what to fix; [] when it can run."""
    problems: list[str] = []
    if not mapping.entities:
        return ["Nothing is mapped: map at least one table to a MissionOS entity."]
    tables_seen: dict[str, str] = {}
    for entity in sorted(mapping.entities, key=entity_rank):
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
                reason = link_problem(
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
