"""A base's schema as plain dataclasses, independent of pyairtable.

Built from the metadata API's JSON (`GET /v0/meta/bases/{baseId}/tables`) by `schema_from_api`.
Everything is keyed by id: ids never change, names do. The parser is tolerant: a field type it
does not know is kept as is, missing options become `{}`, entries that are not objects are
skipped, so a base with new or odd fields never stops a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Field types whose value is computed from other fields; their options carry a `result`.
COMPUTED_TYPES = frozenset({"formula", "rollup", "multipleLookupValues"})


@dataclass(frozen=True)
class FieldSchema:
    id: str
    name: str
    type: str
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    description: str = ""

    @property
    def linked_table_id(self) -> str | None:
        """The table a multipleRecordLinks field points to (None for other fields)."""
        if self.type != "multipleRecordLinks":
            return None
        value = self.options.get("linkedTableId")
        return value if isinstance(value, str) and value else None

    @property
    def result(self) -> dict[str, Any]:
        """The `result` options of a formula, rollup or lookup ({} when unknown)."""
        value = self.options.get("result")
        return value if isinstance(value, dict) else {}

    @property
    def result_type(self) -> str | None:
        """What a computed field yields (`number`, `date`, ...); the type itself otherwise."""
        if self.type not in COMPUTED_TYPES:
            return self.type
        value = self.result.get("type")
        return value if isinstance(value, str) and value else None

    @property
    def result_options(self) -> dict[str, Any]:
        """The options that describe the values: the result's for a computed field."""
        if self.type in COMPUTED_TYPES:
            value = self.result.get("options")
            return value if isinstance(value, dict) else {}
        return self.options

    @property
    def choices(self) -> tuple[str, ...]:
        """Option names of a (multiple) select, or of a computed field that yields one."""
        raw = self.result_options.get("choices")
        if not isinstance(raw, list):
            return ()
        names = []
        for choice in raw:
            name = choice.get("name") if isinstance(choice, dict) else choice
            if isinstance(name, str):
                names.append(name)
        return tuple(names)


@dataclass(frozen=True)
class TableSchema:
    id: str
    name: str
    primary_field_id: str
    fields: tuple[FieldSchema, ...]
    description: str = ""

    @cached_property
    def _fields_by_id(self) -> dict[str, FieldSchema]:
        return {candidate.id: candidate for candidate in self.fields}

    def field(self, field_id: str) -> FieldSchema | None:
        return self._fields_by_id.get(field_id)  # asked for every cell of every synced record

    def field_named(self, name: str) -> FieldSchema | None:
        """The field with exactly this name, else the one whose name differs only in case."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        folded = name.strip().casefold()
        for candidate in self.fields:
            if candidate.name.strip().casefold() == folded:
                return candidate
        return None

    @property
    def primary_field(self) -> FieldSchema | None:
        return self.field(self.primary_field_id)


@dataclass(frozen=True)
class BaseSchema:
    tables: tuple[TableSchema, ...]

    def table(self, table_id: str) -> TableSchema | None:
        for candidate in self.tables:
            if candidate.id == table_id:
                return candidate
        return None

    def table_named(self, name: str) -> TableSchema | None:
        for candidate in self.tables:
            if candidate.name == name:
                return candidate
        folded = name.strip().casefold()
        for candidate in self.tables:
            if candidate.name.strip().casefold() == folded:
                return candidate
        return None


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _field_from_api(raw: Mapping[str, Any]) -> FieldSchema | None:
    field_id = _text(raw.get("id"))
    if not field_id:
        return None
    options = raw.get("options")
    return FieldSchema(
        id=field_id,
        name=_text(raw.get("name"), field_id),
        type=_text(raw.get("type"), "unknown") or "unknown",
        options=dict(options) if isinstance(options, Mapping) else {},
        description=_text(raw.get("description")),
    )


def _table_from_api(raw: Mapping[str, Any]) -> TableSchema | None:
    table_id = _text(raw.get("id"))
    if not table_id:
        return None
    raw_fields = raw.get("fields")
    fields = tuple(
        parsed
        for parsed in (
            _field_from_api(item)
            for item in (raw_fields if isinstance(raw_fields, list) else [])
            if isinstance(item, Mapping)
        )
        if parsed is not None
    )
    primary = _text(raw.get("primaryFieldId")) or _text(raw.get("primary_field_id"))
    if not primary and fields:
        primary = fields[0].id
    return TableSchema(
        id=table_id,
        name=_text(raw.get("name"), table_id),
        primary_field_id=primary,
        fields=fields,
        description=_text(raw.get("description")),
    )


def schema_from_api(payload: Mapping[str, Any]) -> BaseSchema:
    """Convert the metadata API's `{"tables": [...]}` (or pyairtable's dump of it)."""
    raw_tables = payload.get("tables") if isinstance(payload, Mapping) else None
    tables = tuple(
        parsed
        for parsed in (
            _table_from_api(item)
            for item in (raw_tables if isinstance(raw_tables, list) else [])
            if isinstance(item, Mapping)
        )
        if parsed is not None
    )
    return BaseSchema(tables=tables)
