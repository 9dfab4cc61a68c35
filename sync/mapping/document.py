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
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails

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
        try:
            stored = _StoredMapping.model_validate(data)
        except ValidationError as error:
            problems = [_problem(detail) for detail in error.errors()]
            listing = "; ".join(problems)
            raise MappingError(f"The stored mapping is invalid: {listing}.", problems) from None
        assert isinstance(data, dict)  # validated above
        return cls(
            entities={  # in the stored order
                entity: getattr(stored.entities, entity).entity_mapping(entity)
                for entity in data["entities"]
            }
        )


# --- The stored form, validated by pydantic -------------------------------------------------
# One model per entity, generated from the catalogue, so an unknown attribute, a choice that is
# not one of the attribute's values, or a value map on an attribute without values is refused
# where it stands. Strict: JSON types are not coerced (5 is no table id, true is no version).


def _number_text(text: str) -> str:
    try:
        finite = Decimal(text).is_finite()
    except InvalidOperation:
        finite = False
    if not finite:
        raise ValueError("not a number")
    return text


def _normalized_keys(value_map: dict[str, str]) -> dict[str, str]:
    """Airtable values are looked up after `normalize_value`: "Done " and "done" are one."""
    return {normalize_value(source): target for source, target in value_map.items()}


TableId = Annotated[StrictStr, StringConstraints(pattern=r"^tbl")]
FieldId = Annotated[StrictStr, StringConstraints(pattern=r"^fld")]
NumberText = Annotated[StrictStr, AfterValidator(_number_text)]


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _StoredEntity(_Stored):
    table_id: TableId
    table_name: StrictStr = ""
    fields: dict[str, FieldId]  # narrowed to the entity's attributes by `_entity_model`
    field_names: dict[str, StrictStr] = Field(default_factory=dict)
    value_maps: _Stored = Field(default_factory=_Stored)

    def entity_mapping(self, entity: str) -> EntityMapping:
        return EntityMapping(
            entity=entity,
            table_id=self.table_id,
            table_name=self.table_name,
            fields=dict(self.fields),
            # Only the value maps the stored data has, even empty ones, as it had them.
            value_maps=self.value_maps.model_dump(exclude_unset=True),
            field_names=dict(self.field_names),
        )


def _value_map_type(attr: Attr) -> object:
    # Literal[("a", "b")] is Literal["a", "b"]: the attribute's values, known at import time.
    target = Literal[attr.choices] if attr.kind == "choice" else NumberText
    return Annotated[dict[StrictStr, target], AfterValidator(_normalized_keys)]


def _entity_model(entity: str, attrs: dict[str, Attr]) -> type[_StoredEntity]:
    attr_name = Literal[tuple(attrs)]
    value_maps = create_model(
        f"StoredValueMaps_{entity}",
        __base__=_Stored,
        # A default of None is never validated: an absent map stays absent (exclude_unset).
        **{name: (_value_map_type(attr), None) for name, attr in attrs.items() if attr.values},
    )
    return create_model(
        f"StoredEntity_{entity}",
        __base__=_StoredEntity,
        fields=(dict[attr_name, FieldId], ...),
        field_names=(dict[attr_name, StrictStr], Field(default_factory=dict)),
        value_maps=(value_maps, Field(default_factory=value_maps)),
    )


_StoredEntities = create_model(
    "StoredEntities",
    __base__=_Stored,
    **{entity: (_entity_model(entity, attrs), None) for entity, attrs in ENTITIES.items()},
)


class _StoredMapping(_Stored):
    version: StrictInt
    entities: _StoredEntities

    @field_validator("version")
    @classmethod
    def _understood(cls, version: int) -> int:
        if version != MAPPING_VERSION:
            raise ValueError("unknown version")
        return version


# What each part of an entity's stored form must be, for messages: (key, depth) -> words.
_EXPECTED = {
    ("table_id", 1): "a table id (tbl...)",
    ("table_name", 1): "text",
    ("fields", 1): "an object of attribute -> field id",
    ("fields", 2): "a field id (fld...)",
    ("field_names", 1): "an object of attribute -> name",
    ("field_names", 2): "text",
    ("value_maps", 1): "an object of attribute -> value map",
    ("value_maps", 2): "an object of Airtable value -> MissionOS value",
}


def _problem(error: ErrorDetails) -> str:
    """One pydantic error as a sentence naming where it is, in the stored mapping's words."""
    loc, kind, given = error["loc"], error["type"], error["input"]
    match loc:
        case ():
            return f"the mapping is a {type(given).__name__}, not an object"
        case ("version",):
            if kind == "missing":
                return f'"version" is missing (expected {MAPPING_VERSION})'
            return f'"version" is {given!r}; only {MAPPING_VERSION} is understood'
        case ("entities",):
            return '"entities" must be an object of entity -> table mapping'
        case (key,):
            return f"unknown key {key!r} at the top level"
        case ("entities", entity):
            if kind in ("extra_forbidden", "invalid_key"):
                return f"unknown entity {entity!r} (known: {', '.join(ENTITIES)})"
            return f"{entity}: must be an object, not {type(given).__name__}"
        case ("entities", entity, key) if kind == "extra_forbidden":
            return f"{entity}: unknown key {key!r}"
        case ("entities", entity, "fields" | "field_names" as part, attr, "[key]"):
            return f"{entity}.{part}: unknown attribute {attr!r} ({_known(entity)})"
        case ("entities", entity, "value_maps", attr) if kind == "extra_forbidden":
            if attr in ENTITIES[entity]:
                return f"{entity}.value_maps.{attr}: {entity}.{attr} takes no value map"
            return f"{entity}.value_maps: unknown attribute {attr!r} ({_known(entity)})"
        case ("entities", entity, "value_maps", attr, source, *key):
            where = f"{entity}.value_maps.{attr}"
            if key:  # the Airtable value itself is no text
                return f"{where}: {source!r} must map text to text"
            if kind == "literal_error":
                choices = ", ".join(ENTITIES[entity][attr].choices)
                return f"{where}: {source!r} -> {given!r} is not one of {choices}"
            if kind == "value_error":
                return f"{where}: {source!r} -> {given!r} is not a number"
            return f"{where}: {source!r} -> {given!r} must map text to text"
        case ("entities", entity, part, *rest) if (part, 1 + len(rest)) in _EXPECTED:
            where = ".".join(str(step) for step in ("entities", entity, part, *rest)[1:])
            expected = _EXPECTED[part, 1 + len(rest)]
            if kind == "missing":
                return f"{where} is missing: it must be {expected}"
            return f"{where} must be {expected}, not {given!r}"
    where = ".".join(str(step) for step in loc)
    return f"{where}: {error['msg']}"


def _known(entity: str) -> str:
    return "known: " + ", ".join(ENTITIES[entity])
