"""The mapping proposal: which tables and fields of a base hold what, guessed from its schema.

`propose_mapping(schema)` matches tables by name (and, for tables whose name says nothing, by
what they link to and what links to them), fields by name *and* type, and select options to
MissionOS choices. It is a proposal for a person to review on the mapping page, never applied
blindly. `candidate_fields` ranks the fields the page offers for one attribute the same way.
Pure: no ORM, no network.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sync.mapping.catalogue import ENTITIES, ENTITY_TABLE_NAMES, LABEL_ATTRS, Attr
from sync.mapping.document import EntityMapping, Mapping
from sync.mapping.field_types import type_preference
from sync.mapping.names import (
    compact,
    contains_words,
    match_choice,
    normalize_name,
    normalize_value,
    without_noise,
)
from sync.schema import BaseSchema, FieldSchema, TableSchema


def _ranked(synonyms: Iterable[str]) -> tuple[tuple[int, str], ...]:
    return tuple(
        (min(index, 10), normalize_name(synonym)) for index, synonym in enumerate(synonyms)
    )


@cache
def _attr_synonyms(entity: str, attr_name: str) -> tuple[tuple[int, str], ...]:
    return _ranked([attr_name.replace("_", " "), *ENTITIES[entity][attr_name].synonyms])


@cache
def _table_synonyms(entity: str) -> tuple[tuple[int, str], ...]:
    return _ranked(ENTITY_TABLE_NAMES[entity])


@cache
def _own_words(entity: str, table_name: str) -> tuple[str, ...]:
    """Words naming the entity itself in its table: "project", "initiative", the table's name."""
    words = {synonym for _, synonym in _table_synonyms(entity)}
    normalized = normalize_name(table_name)
    words.add(normalized)
    words.add(without_noise(normalized)[0])
    return tuple(sorted((word for word in words if word), key=len, reverse=True))


def _field_name_score(name: str, attr_name: str, entity: str, table: TableSchema) -> int:
    """0-100: how strongly a field's name says it holds this attribute."""
    return _name_score(name, attr_name, entity, table.name)


@cache
def _name_score(name: str, attr_name: str, entity: str, table_name: str) -> int:
    normalized = normalize_name(name)
    own = _own_words(entity, table_name)
    variants: list[tuple[str, int]] = [(normalized, 0)]
    for word in own:  # "Project Name" in the projects table is its name
        if normalized.startswith(word + " "):
            variants.append((normalized[len(word) + 1 :], 10))
            break
    core, noisy = without_noise(normalized)
    if noisy and core:
        variants.append((core, 40))
        for word in own:
            if core.startswith(word + " "):
                variants.append((core[len(word) + 1 :], 45))
                break
    synonyms = _attr_synonyms(entity, attr_name)
    best = 0
    for variant, penalty in variants:
        for rank, synonym in synonyms:
            if compact(variant) == compact(synonym):
                best = max(best, 100 - penalty - rank)
            elif " " in synonym and contains_words(variant, synonym):
                best = max(best, 50 - penalty - rank)
    if LABEL_ATTRS.get(entity) == attr_name and (
        normalized in own or (noisy and core in own)
    ):  # a field called "Project" in the projects table
        best = max(best, 85 - (40 if noisy and normalized not in own else 0))
    return max(best, 0)


@cache
def _head_word_score(name: str, attr_name: str, entity: str) -> int:
    """A weak match: the name starts with a one-word synonym ("Status (manual)", "Due (hard)").

    Only worth anything when the field's type fits well: "Current quarter" (text) is no
    current value, "Status (manual)" (a select) may well be the status.
    """
    first = normalize_name(name).split()[:1]
    if not first:
        return 0
    best = 0
    for rank, synonym in _attr_synonyms(entity, attr_name):
        if " " not in synonym and first[0] == synonym:
            best = max(best, 40 - rank)
    return best


def _table_name_score(name: str, entity: str) -> int:
    normalized = normalize_name(name)
    core, noisy = without_noise(normalized)
    best = 0
    variants = [(normalized, 0)]
    if noisy and core:
        variants.append((core, 40))
    for variant, penalty in variants:
        words = variant.split()
        for rank, synonym in _table_synonyms(entity):
            synonym_words = synonym.split()
            if compact(variant) == compact(synonym):
                score = 100
            elif words[-len(synonym_words) :] == synonym_words:
                score = 70  # the head noun: "Q3 Projects", "Team Members"
            elif contains_words(variant, synonym):
                score = 50
            else:
                continue
            best = max(best, score - penalty - rank)
    return best


def _match_tables(schema: BaseSchema) -> dict[str, TableSchema]:
    entity_order = list(ENTITIES)
    candidates = []
    for table_index, table in enumerate(schema.tables):
        for entity in ENTITIES:
            score = _table_name_score(table.name, entity)
            if score >= 45:
                candidates.append((-score, table_index, entity_order.index(entity), entity, table))
    candidates.sort(key=lambda item: item[:3])
    matched: dict[str, TableSchema] = {}
    used: set[str] = set()
    for _, _, _, entity, table in candidates:
        if entity not in matched and table.id not in used:
            matched[entity] = table
            used.add(table.id)

    # Tables whose names say nothing: judge them by what they link to and what links to them.
    while True:
        best: tuple[int, int, int, str, TableSchema] | None = None
        for entity_index, entity in enumerate(entity_order):
            if entity in matched:
                continue
            for table_index, table in enumerate(schema.tables):
                if table.id in used:
                    continue
                score = _structural_score(entity, table, matched)
                if score < 35:
                    continue
                key = (-score, entity_index, table_index, entity, table)
                if best is None or key[:3] < best[:3]:
                    best = key
        if best is None:
            break
        matched[best[3]] = best[4]
        used.add(best[4].id)
    return matched


def _structural_score(entity: str, table: TableSchema, matched: dict[str, TableSchema]) -> int:
    evidence = 0
    for attr_name, attr in ENTITIES[entity].items():
        if attr.kind != "link" or attr.target == entity or attr.target not in matched:
            continue
        target_id = matched[attr.target].id
        links = [f for f in table.fields if f.linked_table_id == target_id]
        if links:
            evidence += 30 if attr.required else 15
            if any(_field_name_score(f.name, attr_name, entity, table) >= 60 for f in links):
                evidence += 10
    for source, source_table in matched.items():
        for attr_name, attr in ENTITIES[source].items():
            if attr.kind != "link" or attr.target != entity:
                continue
            links = [f for f in source_table.fields if f.linked_table_id == table.id]
            if links:
                evidence += 15
                if any(
                    _field_name_score(f.name, attr_name, source, source_table) >= 60 for f in links
                ):
                    evidence += 10
    if not evidence:
        return 0
    coverage = 0
    for attr_name, attr in ENTITIES[entity].items():
        if attr.kind == "link":
            continue
        if any(
            _field_name_score(f.name, attr_name, entity, table) >= 90
            and type_preference(attr, f, None) is not None
            for f in table.fields
        ):
            coverage += 1
    return evidence + 5 * coverage


def _field_candidates(
    entity: str, table: TableSchema, table_ids: dict[str, str]
) -> list[tuple[int, int, int, str, FieldSchema]]:
    """(score, attribute order, field order, attribute, field) for every plausible pair."""
    attrs = ENTITIES[entity]
    candidates = []
    for attr_index, (attr_name, attr) in enumerate(attrs.items()):
        target_id = table_ids.get(attr.target) if attr.target else None
        link_fields = [
            f for f in table.fields if target_id is not None and f.linked_table_id == target_id
        ]
        for field_index, schema_field in enumerate(table.fields):
            preference = type_preference(attr, schema_field, target_id)
            if preference is None:
                continue
            base = _field_score(attr_name, entity, table, schema_field, preference)
            if (
                base < 35
                and attr.kind == "link"
                and attr.target != entity
                and link_fields == [schema_field]
            ):
                base = 35  # the one link to the target's table, whatever it is called
            if base < 35:
                continue
            candidates.append((base + preference, attr_index, field_index, attr_name, schema_field))
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    return candidates


def _field_score(
    attr_name: str, entity: str, table: TableSchema, schema_field: FieldSchema, preference: int
) -> int:
    """How strongly the name (and, for the label, being the primary field) says it fits."""
    base = _field_name_score(schema_field.name, attr_name, entity, table)
    if preference >= 10 and base < 40:
        base = max(base, _head_word_score(schema_field.name, attr_name, entity))
    if LABEL_ATTRS.get(entity) == attr_name and schema_field.id == table.primary_field_id:
        base = max(base, 55) + 30
    return base


def _match_fields(
    entity: str, table: TableSchema, table_ids: dict[str, str]
) -> dict[str, FieldSchema]:
    chosen: dict[str, FieldSchema] = {}
    used: set[str] = set()
    for _, _, _, attr_name, schema_field in _field_candidates(entity, table, table_ids):
        if attr_name in chosen or schema_field.id in used:
            continue
        chosen[attr_name] = schema_field
        used.add(schema_field.id)
    order = list(ENTITIES[entity])
    return {attr: chosen[attr] for attr in sorted(chosen, key=order.index)}


def propose_mapping(schema: BaseSchema) -> Mapping:
    """Guess which tables and fields hold what; a proposal for a person to review."""
    tables = _match_tables(schema)
    table_ids = {entity: table.id for entity, table in tables.items()}
    entities: dict[str, EntityMapping] = {}
    for entity in ENTITIES:
        table = tables.get(entity)
        if table is None:
            continue
        matched = _match_fields(entity, table, table_ids)
        value_maps = {}
        for attr_name, schema_field in matched.items():
            attr = ENTITIES[entity][attr_name]
            if attr.values and schema_field.choices:
                value_maps[attr_name] = propose_value_map(attr, schema_field)
        entities[entity] = EntityMapping(
            entity=entity,
            table_id=table.id,
            table_name=table.name,
            fields={attr: f.id for attr, f in matched.items()},
            value_maps=value_maps,
            field_names={attr: f.name for attr, f in matched.items()},
        )
    return Mapping(entities=entities)


def candidate_fields(
    mapping: Mapping, schema: BaseSchema, entity: str, attr_name: str
) -> list[FieldSchema]:
    """Fields of the entity's table that can hold the attribute, best first (for pickers)."""
    entity_mapping = mapping.entities.get(entity)
    table = schema.table(entity_mapping.table_id) if entity_mapping else None
    if table is None:
        return []
    attr = ENTITIES[entity][attr_name]
    target_mapping = mapping.entities.get(attr.target) if attr.target else None
    target_id = target_mapping.table_id if target_mapping else None
    scored = []
    for index, schema_field in enumerate(table.fields):
        preference = type_preference(attr, schema_field, target_id)
        if preference is None:
            continue
        score = _field_score(attr_name, entity, table, schema_field, preference) + preference
        scored.append((-score, index, schema_field))
    scored.sort(key=lambda item: item[:2])
    return [schema_field for _, _, schema_field in scored]


def propose_value_map(attr: Attr, schema_field: FieldSchema) -> dict[str, str]:
    """{normalized option -> MissionOS value} for every option of a select the synonyms know."""
    if not attr.values:
        return {}
    proposed: dict[str, str] = {}
    for choice in schema_field.choices:
        value = match_choice(attr, choice)
        if value is not None:
            proposed[normalize_value(choice)] = value
    return dict(sorted(proposed.items()))
