"""Writing pulled Airtable records into MissionOS, in bulk, page by page.

Rules (the README's "Reconciling" section says the same for users):
- A record is keyed by (organization, source table id, record id). Each page is one query to
  find the rows it already has, then one bulk write (`sync.bulk.save_rows`: COPY on Postgres)
  for new and changed records. A record whose raw content and mapping are unchanged (same
  digest) is neither converted nor written.
- Links (objective -> pathway, task -> project, ...) are stored as Airtable record ids while
  pulling and resolved to rows after the whole pull, so the order of tables does not matter.
- A value that does not fit (wrong type, bad date, unknown status, link to a missing record,
  empty required field) never fails the run: the record is kept as well as it can be and the
  problem becomes a SyncIssue of the run with table, record, field and reason. Records that
  cannot be represented at all (a check-in without a value, a cycle without dates) are
  skipped, and that is an issue too.
- Airtable wins on synced fields when its record changes. If someone edited the same row in
  MissionOS since the last sync, the run records what it overwrote (an "overwrite" issue). A
  local edit to a record Airtable has not changed is left alone.
- Only a complete full pull archives: rows of the connection's tables that the pull did not
  see get `archived_at`; a row whose record comes back is unarchived. Nothing is hard-deleted.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import Organization, OrgOwned, Person
from sync.bulk import save_rows
from sync.mapping.catalogue import ENTITIES, Attr
from sync.mapping.document import Mapping
from sync.models import Connection, SyncIssue, SyncRun
from sync.schema import BaseSchema, TableSchema
from sync.values import NameRef, PersonRef, canonical_json, content_hash, convert

ENTITY_MODELS: dict[str, type[OrgOwned]] = {
    "person": Person,
    "cycle": Cycle,
    "pathway": Pathway,
    "objective": Objective,
    "key_result": KeyResult,
    "check_in": CheckIn,
    "project": Project,
    "task": Task,
}
# Attributes that are not model fields: they decide `departed_on` (person) or are links.
VIRTUAL_ATTRIBUTES = {"person": {"active", "status"}}
# The key in `source_extra` naming a row's links that did not resolve, so the next run tries
# them again even if Airtable's record is unchanged.
UNRESOLVED = "unresolved"
# Rows the link pass after the pull reads and writes at a time.
LINK_CHUNK = 2000
# Entities other records link to.
LINK_TARGETS = {
    attr.target for attrs in ENTITIES.values() for attr in attrs.values() if attr.kind == "link"
}
# Bump when converting a cell changes, so the next run converts every record again instead of
# skipping those whose raw content is unchanged.
CONVERSION_VERSION = 1
# A table with this many rows written gets its planner statistics refreshed (Postgres).
ANALYZE_AFTER_WRITES = 1000


class Stored(NamedTuple):
    """What a page needs to know of a row it already has."""

    pk: int
    source_hash: str
    archived_at: datetime.datetime | None
    issues: list | None  # problems found when it was last written, as [kind, field id, reason]


def _points_at(model: type[OrgOwned], name: str, target: type[OrgOwned]) -> bool:
    """Whether the model's field of that name links to the target model. A check-in's author
    is a user, not a directory person: such a link stays in `source_extra` only."""
    try:
        return model._meta.get_field(name).related_model is target
    except Exception:
        return False


def link_attributes(entity: str) -> dict[str, Attr]:
    return {name: attr for name, attr in ENTITIES[entity].items() if attr.kind == "link"}


@dataclass
class Converted:
    record_id: str
    attributes: dict  # attribute -> cleaned value: what Airtable says
    values: dict  # model field -> value written
    links: dict[str, list]  # link attribute -> record ids, or {"email"/"name"} references
    extras: dict  # unmapped field id -> raw cell
    issues: list[tuple[str, str, str]]  # (kind, field id, reason)
    skip: bool = False


def _link_entries(value: object) -> list:
    """A converted link cell as JSON: record ids, or a reference matched by email or name."""
    items = value if isinstance(value, list) else [] if value is None else [value]
    entries: list = []
    for item in items:
        if isinstance(item, str):
            entries.append(item)
        elif isinstance(item, PersonRef):
            entries.append({"email": (item.email or "").lower(), "name": item.name or ""})
        elif isinstance(item, NameRef):
            entries.append({"name": item.name})
    return entries


@dataclass
class Counts:
    pulled: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    unarchived: int = 0
    issues: int = 0


@dataclass
class Reconciler:
    """Applies the pages of one run. Create one per run; call `apply_page` for every page and
    `table_done` at the end of each table, then `resolve_links` for what is left, then
    (complete full pulls only) `archive_unseen`."""

    run: SyncRun
    connection: Connection
    schema: BaseSchema
    mapping: Mapping
    now: datetime.datetime = field(default_factory=timezone.now)
    counts: Counts = field(default_factory=Counts)
    # Record ids seen per table (for archiving) and row ids written per entity (for links).
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    touched: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _had_rows: dict[str, bool] = field(default_factory=dict)
    _digest_prefix: dict[str, str] = field(default_factory=dict)
    # Row ids by record id of every link target written or found unchanged in this run: most
    # links resolve from here instead of a query per page.
    _row_ids: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    _name_index: dict[str, dict[str, int]] = field(default_factory=dict)
    _tables_done: set[str] = field(default_factory=set)  # entities pulled whole
    _links_done: set[str] = field(default_factory=set)  # entities whose link pass has run
    _written: Counter[str] = field(default_factory=Counter)  # rows written per entity

    @property
    def organization(self) -> Organization:
        return self.connection.organization

    # -- converting ------------------------------------------------------------------------

    def convert_record(self, entity: str, table: TableSchema, record: dict) -> Converted:
        entity_mapping = self.mapping.entities[entity]
        attrs = ENTITIES[entity]
        cells: dict = record.get("fields") or {}
        mapped_field_ids = set(entity_mapping.fields.values())
        converted = Converted(
            record_id=record["id"],
            attributes={},
            values={},
            links={},
            extras={fid: cell for fid, cell in cells.items() if fid not in mapped_field_ids},
            issues=[],
        )
        raw_values: dict[str, object] = {}
        for attr_name, field_id in entity_mapping.fields.items():
            attr = attrs.get(attr_name)
            if attr is None:
                continue
            result = convert(
                attr,
                cells.get(field_id),
                value_map=entity_mapping.value_maps.get(attr_name),
                field=table.field(field_id),
            )
            if result.problem:
                kind = SyncIssue.Kind.LINK if attr.kind == "link" else SyncIssue.Kind.VALUE
                converted.issues.append((kind, field_id, result.problem))
            if attr.kind == "link":
                if entries := _link_entries(result.value):
                    converted.links[attr_name] = entries
            else:
                raw_values[attr_name] = result.value
        for attr_name, attr in attrs.items():
            if attr.required and attr.kind != "link" and raw_values.get(attr_name) in (None, ""):
                field_id = entity_mapping.fields.get(attr_name, "")
                converted.issues.append(
                    (SyncIssue.Kind.REQUIRED, field_id, f"{attr_name.replace('_', ' ')} is empty")
                )
            elif attr.required and attr.kind == "link" and attr_name not in converted.links:
                field_id = entity_mapping.fields.get(attr_name, "")
                converted.issues.append(
                    (
                        SyncIssue.Kind.REQUIRED,
                        field_id,
                        f"no {attr.target.replace('_', ' ')} linked",
                    )
                )
        converted.attributes = raw_values
        converted.values = self._model_values(entity, raw_values, record, converted)
        return converted

    def _model_values(self, entity: str, raw: dict, record: dict, converted: Converted) -> dict:
        """Attribute values -> model field values, with the defaults a record needs to exist."""
        model = ENTITY_MODELS[entity]
        virtual = VIRTUAL_ATTRIBUTES.get(entity, set())
        values = {name: value for name, value in raw.items() if name not in virtual}
        created_time = parse_datetime(record.get("createdTime") or "") or self.now

        if entity == "person":
            departed = raw.get("status") == "departed" or (
                "active" in self.mapping.entities[entity].fields and not raw.get("active")
            )
            if departed and not values.get("departed_on"):
                # The base says they left but not when: the first run that noticed it dates it.
                values["departed_on"] = self.now.date()
        elif entity == "key_result":
            for name in ("start_value", "current_value", "target_value"):
                if values.get(name) is None:
                    values[name] = Decimal(0)
            if values.get("weight") is None:
                values["weight"] = Decimal(1)
            if values.get("metric_type") is None:
                values.pop("metric_type", None)
        elif entity == "check_in":
            if values.get("value") is None:
                converted.skip = True
            if not values.get("checked_in_at"):
                values["checked_in_at"] = created_time
        elif entity == "cycle":
            starts, ends = values.get("starts_on"), values.get("ends_on")
            if not starts or not ends or ends <= starts:
                converted.skip = True
                converted.issues.append(
                    (
                        SyncIssue.Kind.VALUE,
                        self.mapping.entities[entity].fields.get("ends_on", ""),
                        "a cycle needs a start date and a later end date",
                    )
                )
        elif entity in ("project", "task") and values.get("status") is None:
            values.pop("status", None)  # the model's default for new rows

        for name in ("name", "title"):
            if name in values and not values[name]:
                values[name] = f"(untitled {record['id']})"
        for name, value in list(values.items()):
            model_field = model._meta.get_field(name)
            max_length = getattr(model_field, "max_length", None)
            if isinstance(value, str) and max_length and len(value) > max_length:
                values[name] = value[: max_length - 1] + "…"
                converted.issues.append(
                    (
                        SyncIssue.Kind.VALUE,
                        self.mapping.entities[entity].fields.get(name, ""),
                        f"{len(value)} characters, cut to {max_length}",
                    )
                )
            if value is None and not model_field.null:
                values[name] = (
                    "" if isinstance(model_field, models.CharField | models.TextField) else None
                )
                if values[name] is None:
                    values.pop(name)
        return values

    # -- writing a page --------------------------------------------------------------------

    def apply_page(self, entity: str, table: TableSchema, records: list[dict]) -> None:
        model = ENTITY_MODELS[entity]
        by_id = {record["id"]: record for record in records}  # the last copy wins if sent twice
        existing = self._existing_rows(model, table, list(by_id))
        self.seen[table.id].update(by_id)
        self.counts.pulled += len(by_id)

        converted: dict[str, tuple[Converted, str]] = {}
        issues: list[SyncIssue] = []
        for record_id, record in by_id.items():
            digest = self.record_digest(entity, table, record)
            stored = existing.get(record_id)
            if stored and stored.source_hash == digest and stored.archived_at is None:
                # Same record, same mapping: nothing to convert or write. Its problems are
                # still problems of the base, so the run lists them again.
                self.counts.unchanged += 1
                self._remember(entity, record_id, stored.pk)
                for kind, field_id, reason in stored.issues or ():
                    issues.append(self._issue(table, record_id, kind, field_id, reason))
                continue
            item = self.convert_record(entity, table, record)
            for kind, field_id, reason in item.issues:
                issues.append(self._issue(table, record_id, kind, field_id, reason))
            if not item.skip:
                converted[record_id] = (item, digest)

        single_links = self._single_links(entity)
        new_items = [
            (item, digest) for rid, (item, digest) in converted.items() if rid not in existing
        ]
        linked = self._page_links(single_links, [item for item, _ in converted.values()])
        to_create = []
        for item, digest in new_items:
            row = model(
                organization=self.organization,
                source_table=table.id,
                source_record_id=item.record_id,
                source_connection_id=self.connection.pk,
                **item.values,
            )
            self._stamp(row, item, digest)
            to_create.append((row, self._set_links(entity, row, item, single_links, linked)))
        to_update = [
            (existing[rid], item, digest)
            for rid, (item, digest) in converted.items()
            if rid in existing
        ]
        rows_to_update = self._prepare_updates(
            entity, table, to_update, issues, single_links, linked
        )
        update_fields = sorted(
            {name for item, _ in converted.values() for name in item.values}
            | set(single_links)
            | {"source_hash", "source_extra", "last_synced_at", "archived_at", "updated_at"}
        )
        with transaction.atomic():
            save_rows(model, [row for row, _ in to_create + rows_to_update], update_fields)
            if issues:
                SyncIssue.objects.bulk_create(issues, batch_size=500)
        for row, _ in to_create + rows_to_update:
            self._remember(entity, row.source_record_id, row.pk)
        self.counts.created += len(to_create)
        self.counts.updated += len(rows_to_update)
        self._written[entity] += len(to_create) + len(rows_to_update)
        self.counts.issues += len(issues)
        # Rows with many-to-many links or links still dangling get the pass after the pull.
        self.touched[entity].update(
            row.pk for row, complete in to_create + rows_to_update if not complete
        )

    def record_digest(self, entity: str, table: TableSchema, record: dict) -> str:
        """Changes exactly when the Airtable record, or how it is read, does: the record's raw
        cells plus the entity's mapping and its fields' types. Comparing it with the stored one
        skips unchanged records before any conversion."""
        prefix = self._digest_prefix.get(entity)
        if prefix is None:
            entity_mapping = self.mapping.entities[entity]
            reading = {
                "version": CONVERSION_VERSION,
                "entity": entity,
                "fields": entity_mapping.fields,
                "value_maps": entity_mapping.value_maps,
                "schema": {
                    field_id: [schema_field.type, schema_field.options]
                    for field_id in sorted(entity_mapping.fields.values())
                    if (schema_field := table.field(field_id)) is not None
                },
            }
            prefix = canonical_json(reading)
            self._digest_prefix[entity] = prefix
        raw = canonical_json([record.get("createdTime"), record.get("fields") or {}])
        return hashlib.sha256(f"{prefix}|{raw}".encode()).hexdigest()

    def _existing_rows(self, model, table: TableSchema, record_ids: list[str]) -> dict[str, Stored]:
        """The rows this page already has, narrow: enough to tell unchanged records apart.

        A table with no rows when the run started has only the rows this run wrote, so the
        lookup is skipped for records not seen yet (the whole first sync of a table).
        """
        if table.id not in self._had_rows:
            self._had_rows[table.id] = (
                model.objects.for_org(self.organization, include_archived=True)
                .filter(source_table=table.id)
                .exists()
            )
        if not self._had_rows[table.id]:
            record_ids = [rid for rid in record_ids if rid in self.seen[table.id]]
            if not record_ids:
                return {}
        rows = (
            model.objects.for_org(self.organization, include_archived=True)
            .filter(source_table=table.id, source_record_id__in=record_ids)
            .values_list(
                "pk", "source_record_id", "source_hash", "archived_at", "source_extra__issues"
            )
        )
        return {
            record_id: Stored(pk, source_hash, archived_at, issues)
            for pk, record_id, source_hash, archived_at, issues in rows
        }

    def _prepare_updates(self, entity, table, to_update, issues, single_links, linked) -> list:
        """Full rows for the changed records only (one query), with Airtable's values applied
        and any MissionOS edit they overwrite recorded."""
        if not to_update:
            return []
        full = (
            ENTITY_MODELS[entity]
            .objects.for_org(self.organization, include_archived=True)
            .in_bulk([stored.pk for stored, _, _ in to_update])
        )
        prepared = []
        for stored, item, digest in to_update:
            row = full[stored.pk]
            undated_departure = entity == "person" and not item.attributes.get("departed_on")
            if undated_departure and row.departed_on and item.values.get("departed_on"):
                item.values["departed_on"] = row.departed_on  # dated when first noticed
            local = self._local_edit(row, item)
            if local:
                issues.append(
                    self._issue(table, row.source_record_id, SyncIssue.Kind.OVERWRITE, "", local)
                )
            if row.archived_at is not None:
                self.counts.unarchived += 1
            for name, value in item.values.items():
                setattr(row, name, value)
            row.archived_at = None
            self._stamp(row, item, digest)
            prepared.append((row, self._set_links(entity, row, item, single_links, linked)))
        return prepared

    def _mapped_links(self, entity: str) -> dict[str, Attr]:
        """Mapped link attributes held in a foreign key or many-to-many field of the model
        that points at the linked entity's model."""
        mapped = self.mapping.entities[entity].fields
        return {
            name: attr
            for name, attr in link_attributes(entity).items()
            if name in mapped
            and attr.target in self.mapping.entities
            and _points_at(ENTITY_MODELS[entity], name, ENTITY_MODELS[attr.target])
        }

    def _single_links(self, entity: str) -> dict[str, Attr]:
        """Link attributes held in a foreign key to the linked entity's model."""
        return {name: attr for name, attr in self._mapped_links(entity).items() if not attr.many}

    def _page_links(self, links: dict[str, Attr], items: Iterable[Converted]) -> dict:
        """Rows for the page's linked record ids, one query per linked entity. The sync pulls
        linked tables first, so most links resolve here; the rest wait for `resolve_links`."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in items:
            for name, attr in links.items():
                wanted[attr.target].update(
                    e for e in item.links.get(name, []) if isinstance(e, str)
                )
        return {
            target: self._rows_by_record_id(target, ids) for target, ids in wanted.items() if ids
        }

    def _set_links(self, entity, row, item: Converted, links: dict[str, Attr], linked) -> bool:
        """Set the row's single links. False when the pass after the pull must see the row:
        a link still unresolved (missing, by name, several) or a many-to-many link to set."""
        complete = True
        for name, attr in links.items():
            entries = item.links.get(name, [])
            found = next(
                (
                    linked[attr.target][entry]
                    for entry in entries
                    if isinstance(entry, str) and entry in linked.get(attr.target, {})
                ),
                None,
            )
            setattr(row, f"{name}_id", found)
            if entries and (found is None or len(entries) > 1):
                complete = False
        mapped = self.mapping.entities[entity].fields
        has_many = any(
            attr.many and name in mapped and name in item.links
            for name, attr in link_attributes(entity).items()
        )
        return complete and not has_many

    def _stamp(self, row: OrgOwned, item: Converted, digest: str) -> None:
        row.source_hash = digest
        row.source_extra = {
            "fields": item.extras,
            "links": item.links,
            # What the sync wrote, to notice a MissionOS edit before overwriting it.
            "written": content_hash(item.values),
        }
        if item.issues:  # listed again by runs that find the record unchanged
            row.source_extra["issues"] = [list(issue) for issue in item.issues]
        row.last_synced_at = self.now
        row.updated_at = self.now

    def _local_edit(self, row: OrgOwned, item: Converted) -> str:
        """If the row was edited in MissionOS since the last sync, say what is overwritten."""
        written = (row.source_extra or {}).get("written")
        current = {name: getattr(row, name) for name in item.values}
        if not written or content_hash(current) == written:
            return ""
        replaced = [
            f"{name} {current[name]!s} → {item.values[name]!s}"
            for name in item.values
            if content_hash({"v": current[name]}) != content_hash({"v": item.values[name]})
        ]
        return "edited in MissionOS since the last sync; Airtable's values replace it: " + (
            "; ".join(replaced) or "(no field differs now)"
        )

    def _issue(self, table: TableSchema, record_id: str, kind: str, field_id: str, reason: str):
        schema_field = table.field(field_id) if field_id else None
        return SyncIssue(
            organization=self.organization,
            run=self.run,
            kind=kind,
            table_id=table.id,
            table_name=table.name,
            record_id=record_id,
            field_id=field_id,
            field_name=schema_field.name if schema_field else "",
            reason=reason,
        )

    # -- after the pull --------------------------------------------------------------------

    def table_done(self, entity: str) -> None:
        """The entity's table has been pulled whole. Tables come linked-first, so its link
        targets are usually complete too: resolve its links and refresh the planner's
        statistics now, while the next tables download, rather than all after the last page."""
        self._tables_done.add(entity)
        targets = {attr.target for attr in self._mapped_links(entity).values()} - {entity}
        if all(t in self._tables_done or t not in self.mapping.entities for t in targets):
            self._resolve_entity_links(entity)
        if self._written[entity] >= ANALYZE_AFTER_WRITES:
            analyze(ENTITY_MODELS[entity])

    def resolve_links(self) -> None:
        """Point foreign keys and many-to-many links at the rows of the linked records, for
        every entity whose links `table_done` could not resolve yet."""
        for entity in self.mapping.entities:
            if entity not in self._links_done:
                self._resolve_entity_links(entity)

    def _resolve_entity_links(self, entity: str) -> None:
        """Covers rows written by this run and rows whose links were still dangling, a chunk at
        a time: a few queries per 2,000 rows, never one per record."""
        self._links_done.add(entity)
        links = self._mapped_links(entity)
        if not links:
            return
        entity_mapping = self.mapping.entities[entity]
        for chunk in self._rows_to_link(entity, entity_mapping, links):
            self._link_chunk(entity, entity_mapping, links, chunk)

    def _rows_to_link(self, entity, entity_mapping, links) -> Iterator[list[OrgOwned]]:
        model = ENTITY_MODELS[entity]
        base = model.objects.for_org(self.organization, include_archived=True).filter(
            source_table=entity_mapping.table_id,
            archived_at__isnull=True,
        )
        # Rows this run wrote with links to set, and rows whose links did not all resolve last
        # time (unchanged in Airtable, so not written): the records they name may exist now.
        ids = set(self.touched.get(entity, set()))
        ids.update(base.filter(source_extra__has_key=UNRESOLVED).values_list("pk", flat=True))
        ordered = sorted(ids)
        single = [name for name, attr in links.items() if not attr.many]
        for start in range(0, len(ordered), LINK_CHUNK):
            chunk = base.filter(pk__in=ordered[start : start + LINK_CHUNK])
            yield list(chunk.only("pk", "source_record_id", "source_extra", *single))

    def _link_chunk(self, entity, entity_mapping, links, rows: list[OrgOwned]) -> None:
        model = ENTITY_MODELS[entity]
        wanted: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            for name, attr in links.items():
                entries = (row.source_extra or {}).get("links", {}).get(name, [])
                wanted[attr.target].update(e for e in entries if isinstance(e, str))
        by_record = {target: self._rows_by_record_id(target, ids) for target, ids in wanted.items()}
        by_name = {
            attr.target: self._rows_by_name(attr.target)
            for name, attr in links.items()
            if any(
                not isinstance(e, str)
                for row in rows
                for e in (row.source_extra or {}).get("links", {}).get(name, [])
            )
        }
        table = self.schema.table(entity_mapping.table_id)
        changed, issues, many_links = [], [], defaultdict(list)
        for row in rows:
            row_links = (row.source_extra or {}).get("links", {})
            row_changed = False
            unresolved = []
            for name, attr in links.items():
                found, missing = [], []
                for entry in row_links.get(name, []):
                    pk = self._find(entry, by_record.get(attr.target, {}), by_name.get(attr.target))
                    (found if pk is not None else missing).append(pk if pk is not None else entry)
                if missing:
                    unresolved.append(name)
                if missing and table is not None:
                    shown = ", ".join(m if isinstance(m, str) else repr(m) for m in missing)
                    issues.append(
                        self._issue(
                            table,
                            row.source_record_id,
                            SyncIssue.Kind.LINK,
                            entity_mapping.fields[name],
                            f"links to {shown}, not found among the "
                            f"{attr.target.replace('_', ' ')} records (deleted or unmapped)",
                        )
                    )
                if attr.many:
                    many_links[name].append((row.pk, found))
                elif getattr(row, f"{name}_id") != (found[0] if found else None):
                    setattr(row, f"{name}_id", found[0] if found else None)
                    row_changed = True
            if unresolved != row.source_extra.get(UNRESOLVED, []):
                row.source_extra = {**row.source_extra, UNRESOLVED: unresolved}
                if not unresolved:
                    del row.source_extra[UNRESOLVED]
                row_changed = True
            if row_changed:
                changed.append(row)
        with transaction.atomic():
            single = [name for name, attr in links.items() if not attr.many]
            if changed:
                save_rows(model, changed, [*single, "source_extra"])
            for name, pairs in many_links.items():
                self._set_many(model, name, pairs)
            if issues:
                SyncIssue.objects.bulk_create(issues, batch_size=500)
        self.counts.issues += len(issues)

    def _remember(self, entity: str, record_id: str, pk: int) -> None:
        if entity in LINK_TARGETS:
            self._row_ids[entity][record_id] = pk

    def _rows_by_record_id(self, target: str, record_ids: set[str]) -> dict[str, int]:
        """Live rows of the linked records, from this run's writes where it can."""
        known = self._row_ids.get(target, {})
        found = {rid: known[rid] for rid in record_ids if rid in known}
        missing = [rid for rid in record_ids if rid not in found]
        if not missing:
            return found
        return found | dict(
            ENTITY_MODELS[target]
            .objects.for_org(self.organization, include_archived=True)
            .filter(
                source_table=self.mapping.entities[target].table_id,
                source_record_id__in=missing,
                archived_at__isnull=True,
            )
            .values_list("source_record_id", "pk")
        )

    def _rows_by_name(self, target: str) -> dict[str, int]:
        """Match references by email (people) or name, case and spacing ignored. Built once per
        run: only the pass after the pull asks, when names no longer change."""
        if target not in self._name_index:
            self._name_index[target] = self._build_name_index(target)
        return self._name_index[target]

    def _build_name_index(self, target: str) -> dict[str, int]:
        model = ENTITY_MODELS[target]
        label = "title" if target in ("objective", "key_result", "task") else "name"
        index: dict[str, int] = {}
        rows = model.objects.for_org(self.organization)
        columns = ["pk", label, "email"] if target == "person" else ["pk", label]
        for pk, text, *email in rows.values_list(*columns):
            index.setdefault(" ".join(str(text).casefold().split()), pk)
            if email and email[0]:
                index.setdefault(f"email:{email[0].casefold()}", pk)
        return index

    @staticmethod
    def _find(entry, record_ids: dict[str, int], names: dict[str, int] | None) -> int | None:
        if isinstance(entry, str):
            return record_ids.get(entry)
        if not names:
            return None
        email = entry.get("email")
        if email and (pk := names.get(f"email:{email.casefold()}")) is not None:
            return pk
        return names.get(" ".join((entry.get("name") or "").casefold().split()))

    def _set_many(self, model, name: str, pairs: list[tuple[int, list[int]]]) -> None:
        through = getattr(model, name).through
        source = f"{model._meta.model_name}_id"
        target = f"{getattr(model, name).field.related_model._meta.model_name}_id"
        row_ids = [pk for pk, _ in pairs]
        current = defaultdict(set)
        for source_id, target_id in through.objects.filter(
            **{f"{source}__in": row_ids}
        ).values_list(source, target):
            current[source_id].add(target_id)
        stale = [pk for pk, found in pairs if current[pk] != set(found)]
        if not stale:
            return
        through.objects.filter(**{f"{source}__in": stale}).delete()
        wanted = dict(pairs)
        save_rows(
            through,
            [through(**{source: pk, target: tid}) for pk in stale for tid in set(wanted[pk])],
            (),
        )

    def archive_unseen(self) -> None:
        """After a complete full pull only: archive rows whose records were not seen."""
        for entity, entity_mapping in self.mapping.entities.items():
            model = ENTITY_MODELS[entity]
            seen = self.seen.get(entity_mapping.table_id, set())
            live = model.objects.for_org(self.organization, include_archived=True).filter(
                source_connection_id=self.connection.pk,
                source_table=entity_mapping.table_id,
                archived_at__isnull=True,
            )
            rows = live.values_list("pk", "source_record_id").iterator(chunk_size=5000)
            gone = [pk for pk, record_id in rows if record_id not in seen]
            for start in range(0, len(gone), 1000):
                self.counts.archived += live.filter(pk__in=gone[start : start + 1000]).update(
                    archived_at=self.now
                )


def analyze(model: type[OrgOwned]) -> None:
    """Refresh Postgres's planner statistics after a large load, so the next run's lookups by
    record id use the index at once instead of waiting for autovacuum."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{model._meta.db_table}"')
