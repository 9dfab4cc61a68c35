"""A mapping in words, for people: each entity's table and fields, value maps, what is left over.

Shown by the mapping page (its summary) and by the `airtable_connect` and `airtable_mapping`
commands.
Pure: no ORM, no network.
"""

from __future__ import annotations

from sync.mapping.catalogue import ENTITIES
from sync.mapping.document import EntityMapping, Mapping
from sync.mapping.names import compact, match_choice, normalize_value
from sync.schema import BaseSchema, TableSchema


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
    lookup = {compact(key): value for key, value in value_map.items()}
    pairs, unmapped, shown = [], [], set()
    attr = ENTITIES[entity][attr_name]
    for option in options:
        key = compact(normalize_value(option))
        shown.add(key)
        built_in = match_choice(attr, option)
        if key in lookup:
            pairs.append(f"{option.strip()} → {lookup[key]}")
        elif built_in is not None:
            pairs.append(f"{option.strip()} → {built_in} (built-in)")
        else:
            unmapped.append(option.strip())
    pairs.extend(
        f"{key} → {value}" for key, value in sorted(value_map.items()) if compact(key) not in shown
    )
    line = f"  {entity}.{attr_name} values: " + (", ".join(pairs) or "-")
    if unmapped:
        line += "; unmapped: " + ", ".join(unmapped)
    return [line]


def overview(mapping: Mapping, schema: BaseSchema) -> list[dict]:
    """What the mapping page's summary shows an ops person: per MissionOS entity, the Airtable
    table and fields by name (their ids kept for a hover or a details row), what is missing
    from the base and what is not mapped. Pure: the same facts as `describe`, as data."""
    rows = []
    for entity, attrs in ENTITIES.items():
        entity_mapping = mapping.entities.get(entity)
        row = {
            "entity": entity,
            "label": entity.replace("_", " ").capitalize(),
            "table": None,
            "table_id": "",
            "missing": False,
            "fields": [],
            "unmapped": [],
        }
        if entity_mapping is not None:
            table = schema.table(entity_mapping.table_id)
            row["table_id"] = entity_mapping.table_id
            row["table"] = table.name if table else entity_mapping.table_name
            row["missing"] = table is None
            for attr_name in attrs:
                field_id = entity_mapping.fields.get(attr_name)
                if field_id is None:
                    row["unmapped"].append(attr_name.replace("_", " "))
                    continue
                field = table.field(field_id) if table else None
                row["fields"].append(
                    {
                        "attr": attr_name.replace("_", " "),
                        "name": field.name if field else "",
                        "id": field_id,
                        "missing": field is None,
                    }
                )
        rows.append(row)
    return rows
