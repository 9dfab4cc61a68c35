"""The mapping itself (`Mapping`, one `EntityMapping` per mapped entity) and its stored form.

`Mapping.to_dict()` gives the JSON stored on the connection (`"version": 1`, entities and
attributes in catalogue order, so equal mappings store equal text); `Mapping.from_dict()` reads
it back, refusing a damaged one with a `MappingError` that lists every problem. Everything is
keyed by table and field ids, so renaming tables or fields in Airtable changes nothing here.
Pure: no ORM, no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sync.mapping.catalogue import ENTITIES, Attr, attribute_rank, entity_rank
from sync.mapping.names import normalize_value

MAPPING_VERSION = 1


class MappingError(ValueError):
    """A stored mapping that cannot be read; `errors` lists every problem found."""

    def __init__(self, message: str, errors: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors) or [message]


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
        def rank(attr: str) -> tuple[int, str]:
            return attribute_rank(self.entity, attr)

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
        return {
            "version": MAPPING_VERSION,
            "entities": {
                entity: self.entities[entity].to_dict()
                for entity in sorted(self.entities, key=entity_rank)
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
