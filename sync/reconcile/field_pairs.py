"""Two fields of a table that hold the same information under near-identical names ("Owner" and
"Owner 2", "Status" and "Status (old)"): what a full run samples for data health's
`duplicate_fields`, and how it judges a pair.

- Candidates by name: equal once case, punctuation and a copy marker are set aside (a trailing
  number, "old", "new", "copy", "backup", "previous", "former", "legacy", "text", "typed").
  Two numbered slots ("Phone 1", "Phone 2") are two fields, not a copy: both carry a number.
- By meaning, not type: a link's record names against a text field, a date against a date typed
  as text, a select's options against text. A pair holds the same information when the values of
  each, where both are filled, read as values of the other's kind (`same_kind`, the share of
  records where they do); `agree` is the share where they say the same thing (1.0 for a copy
  kept in step, less for a stale one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.dateparse import parse_date, parse_datetime

from sync.mapping.catalogue import ENTITIES
from sync.mapping.names import match_choice
from sync.schema import FieldSchema, TableSchema
from sync.values import is_empty, parse_number

SAMPLED = 500  # records per pair
_COPY_MARKERS = {
    "old",
    "new",
    "copy",
    "backup",
    "previous",
    "former",
    "legacy",
    "prev",
    "text",
    "typed",
}
_WORD = re.compile(r"[^\W_]+")
_DATE_TEXT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})")


def _name_key(name: str) -> tuple[str, str]:
    """(the name without a copy marker, the marker's number or word)."""
    words = _WORD.findall(name.casefold())
    marker = ""
    while words and (words[-1].isdigit() or words[-1] in _COPY_MARKERS):
        marker = words.pop() + marker
    return " ".join(words), marker


def candidate_pairs(table: TableSchema) -> list[tuple[str, str]]:
    """Field id pairs of the table whose names say one is a copy of the other."""
    keyed: dict[str, list[tuple[str, FieldSchema]]] = {}
    for schema_field in table.fields:
        base, marker = _name_key(schema_field.name)
        if base:
            keyed.setdefault(base, []).append((marker, schema_field))
    pairs = []
    for fields in keyed.values():
        for i, (marker_a, a) in enumerate(fields):
            for marker_b, b in fields[i + 1 :]:
                numbered = marker_a.isdigit() and marker_b.isdigit()
                if marker_a != marker_b and not numbered:
                    pairs.append((a.id, b.id))
    return pairs


@dataclass
class PairSamples:
    """Cells of candidate pairs, where both are filled, for up to SAMPLED records each."""

    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # table id -> pairs
    cells: dict[tuple[str, str, str], list[tuple[object, object]]] = field(default_factory=dict)

    def add(self, table: TableSchema, records: Iterable[dict]) -> None:
        if table.id not in self.pairs:
            self.pairs[table.id] = candidate_pairs(table)
        for a, b in self.pairs[table.id]:
            kept = self.cells.setdefault((table.id, a, b), [])
            for cells in records:
                if len(kept) >= SAMPLED:
                    break
                if not is_empty(cells.get(a)) and not is_empty(cells.get(b)):
                    kept.append((cells[a], cells[b]))


def _text(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("name") or value.get("email") or ""
    return " ".join(str(value).split()).casefold()


def _values(cell: object, schema_field: FieldSchema, names: Callable[[str], str | None]):
    """A cell as a set of comparable values (record names for links, ISO days for dates)."""
    items = cell if isinstance(cell, list) else [cell]
    if schema_field.type == "multipleRecordLinks":
        return frozenset(_text(names(item) or item) for item in items if isinstance(item, str))
    if schema_field.type in ("date", "dateTime"):
        return frozenset(_day(item) or _text(item) for item in items)
    return frozenset(_text(item) for item in items if not is_empty(item))


def _day(value: object) -> str | None:
    text = str(value).strip()
    moment = parse_datetime(text)
    if moment is not None:
        return moment.date().isoformat()
    day = parse_date(text[:10]) if _DATE_TEXT.match(text) else None
    if day is None and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        month, day_of_month, year = (int(part) for part in text.split("/"))
        try:
            return f"{year:04d}-{month:02d}-{day_of_month:02d}"
        except ValueError:
            return None
    return day.isoformat() if day else None


def _fits(
    values: frozenset,
    schema_field: FieldSchema,
    known_names: set[str],
    reads_as: Callable[[str], bool] | None = None,
) -> bool:
    """Whether values read as values of this field's kind (`reads_as`: for a field the mapping
    reads, whether a text means one of its values, e.g. "Complete" a done status)."""
    if not values:
        return False
    kind = schema_field.type
    if kind == "multipleRecordLinks":
        return values <= known_names
    if kind in ("date", "dateTime"):
        return all(_day(value) for value in values)
    if kind in ("number", "currency", "percent"):
        return all(parse_number(value) is not None for value in values)
    if kind in ("singleSelect", "multipleSelects"):
        choices = {_text(c.get("name", "")) for c in schema_field.options.get("choices", [])}
        return values <= choices or (reads_as is not None and all(map(reads_as, values)))
    return True  # text holds anything


_SELECTS = {"singleSelect", "multipleSelects"}
_DATES = {"date", "dateTime"}


def _as_days(values: frozenset, a: FieldSchema, b: FieldSchema) -> frozenset:
    """Values compared as days when either field is a date (a date typed as text: 04/02/2026)."""
    if _DATES & {a.type, b.type}:
        return frozenset(_day(value) or value for value in values)
    return values


def _options(schema_field: FieldSchema) -> set[str]:
    return {_text(c.get("name", "")) for c in schema_field.options.get("choices", [])} - {""}


def _shared_vocabulary(a: FieldSchema, b: FieldSchema, reads_a, reads_b) -> bool:
    options_a, options_b = _options(a), _options(b)
    if len(options_a & options_b) >= 2:
        return True
    for reads, options in ((reads_a, options_b), (reads_b, options_a)):
        if reads is not None and options and sum(map(reads, options)) * 2 >= len(options):
            return True
    return False


def judge(
    a: FieldSchema,
    b: FieldSchema,
    samples: list[tuple[object, object]],
    names: Callable[[str], str | None],
    known_names: Callable[[FieldSchema], set[str]],
    reads_as: Callable[[FieldSchema], Callable[[str], bool] | None] = lambda field: None,
) -> dict:
    """{"both", "same_kind", "agree"} for a pair's samples. Two selects are of one kind when
    their options share a vocabulary (two options in common, or the other's options read as the
    mapped one's values): a stale copy keeps old options nobody picks any more."""
    same_kind = agree = 0
    known_a, known_b = known_names(a), known_names(b)
    reads_a, reads_b = reads_as(a), reads_as(b)
    selects = {a.type, b.type} <= _SELECTS
    same_vocabulary = selects and _shared_vocabulary(a, b, reads_a, reads_b)
    for cell_a, cell_b in samples:
        values_a, values_b = _values(cell_a, a, names), _values(cell_b, b, names)
        if same_vocabulary or (
            _fits(values_b, a, known_a, reads_a) and _fits(values_a, b, known_b, reads_b)
        ):
            same_kind += 1
        if _as_days(values_a, a, b) == _as_days(values_b, a, b):
            agree += 1
    both = len(samples)
    return {
        "fields": [a.id, b.id],
        "both": both,
        "same_kind": round(same_kind / both, 3) if both else 0.0,
        "agree": round(agree / both, 3) if both else 0.0,
    }


def judge_all(samples: PairSamples, schema, mapping, organization) -> dict[str, list[dict]]:
    """Table id -> the judged pairs, with link cells read as the names of the records they link
    to (one query per linked entity)."""
    from sync.reconcile.adapters import ENTITY_MODELS  # adapters import the plan's models

    entity_of = {em.table_id: entity for entity, em in mapping.entities.items()}
    linked_ids: set[str] = set()
    for cells in samples.cells.values():
        for pair in cells:
            for cell in pair:
                if isinstance(cell, list):
                    linked_ids.update(item for item in cell if isinstance(item, str))
    # Only the tables a sampled pair's link field points at are read (the names of their
    # rows): reading every table's rows was a third of an unchanged run.
    linked_tables: set[str] = set()
    for table_id, a, b in samples.cells:
        table = schema.table(table_id)
        for field_id in (a, b):
            schema_field = table.field(field_id) if table is not None else None
            if schema_field is not None and schema_field.linked_table_id:
                linked_tables.add(schema_field.linked_table_id)
    names: dict[str, str] = {}
    names_by_table: dict[str, set[str]] = {}
    for table_id, entity in entity_of.items():
        if table_id not in linked_tables:
            continue
        rows = (
            ENTITY_MODELS[entity]
            .objects.for_org(organization, include_archived=True)
            .filter(source_table=table_id)
        )
        table_names: set[str] = set()
        for row in rows.defer("source_extra").iterator(chunk_size=2000):
            table_names.add(_text(str(row)))
            if row.source_record_id in linked_ids:
                names[row.source_record_id] = str(row)
        names_by_table[table_id] = table_names

    def known(schema_field: FieldSchema) -> set[str]:
        return names_by_table.get(schema_field.linked_table_id or "", set())

    mapped_attr = {
        field_id: ENTITIES[entity][name]
        for entity, em in mapping.entities.items()
        for name, field_id in em.fields.items()
        if name in ENTITIES[entity]
    }

    def reads_as(schema_field: FieldSchema) -> Callable[[str], bool] | None:
        attr = mapped_attr.get(schema_field.id)
        if attr is None or not attr.values:
            return None
        return lambda text: match_choice(attr, text) is not None

    judged: dict[str, list[dict]] = {}
    for (table_id, a, b), cells in samples.cells.items():
        table = schema.table(table_id)
        if table is None or not cells or table.field(a) is None or table.field(b) is None:
            continue
        judged.setdefault(table_id, []).append(
            judge(table.field(a), table.field(b), cells, names.get, known, reads_as)
        )
    return judged
