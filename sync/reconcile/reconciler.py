"""The Reconciler: writes one run's pulled pages into MissionOS, in bulk, page by page.

Each page is one query to find the rows it already has, then one bulk write
(`sync.bulk.save_rows`: COPY on Postgres) for new and changed records. A record whose raw
content and mapping are unchanged (same digest) is neither converted nor written. What differs
between entities is in their adapters (`sync.reconcile.adapters`); reading a record is
`sync.reconcile.records`, links between rows `sync.reconcile.links`.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from okrs.services import check_ins_noted
from orgs.models import (
    ARCHIVED_HERE,
    DELETE_IN_AIRTABLE,
    DELETED_IN_AIRTABLE,
    Organization,
    OrgOwned,
)
from sync.bulk import KeyReserve, new_row, save_rows, take_keys
from sync.mapping.document import Mapping
from sync.models import Connection, RunKind, SyncIssue, SyncRun
from sync.reconcile.adapters import ADAPTERS, ENTITY_MODELS, model_entity
from sync.reconcile.field_pairs import PairSamples
from sync.reconcile.issues import issues_forget, issues_save
from sync.reconcile.links import Links
from sync.reconcile.records import Converted, convert_record, record_issue
from sync.reconcile.writer import PageWriter
from sync.schema import BaseSchema, TableSchema
from sync.values import NUL_IN_JSON, canonical_json, cell_error, content_hash, is_empty, record_raw
from sync.writeback.conflicts import conflict_found, conflicts_save, link_conflict_found
from sync.writeback.journal import HeldRows, queue_rows, rows_held
from sync.writeback.state import (
    BASE,
    BASE_LINKS,
    base_links_of,
    base_of,
    same_entries,
    value_attributes,
    value_key,
)

# Records listed per field whose formula gives an error, in a full run's census.
ERRORS_KEPT = 25
# The key in `source_extra` of a blank row's mark (archived, and shown nowhere).
BLANK = "blank"
# The key in `source_extra` of a row merged into another (its id): see Stored.merged_into.
MERGED_INTO = "merged_into"

# Bump when converting a cell changes, so the next run converts every record again instead of
# skipping those whose raw content is unchanged.
CONVERSION_VERSION = 3  # 2: values fit their columns, check constraints; createdTime. 3: bases
# A table with this many rows written gets its planner statistics refreshed (Postgres).
ANALYZE_AFTER_WRITES = 1000


class Stored(NamedTuple):
    """What a page needs to know of a row it already has."""

    pk: int
    source_hash: str
    archived_at: datetime.datetime | None
    issues: list | None  # problems found when it was last written, as [kind, field id, reason]
    # The row a person merged this one into (health's merges): it stays archived, and links
    # to its record resolve to the survivor, until the merge is undone.
    merged_into: int | None = None
    blank: bool = False  # a blank row, kept archived (not a row archived for being gone)
    # Archived in MissionOS on purpose (okrs.services.record_archive): it stays archived, and
    # is left as it is, while its record lives on in Airtable; restoring it here lets the next
    # pull bring what changed there meanwhile.
    archived_here: bool = False
    # Marked as gone from Airtable (deleted there while archived here), and not by a delete
    # asked for here: seen again, it was brought back there (Airtable's trash keeps the id).
    deleted_there: bool = False
    connection_id: int | None = None  # the connection that wrote it (source_connection_id)


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
    # Record ids seen per table (for archiving).
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    links: Links = field(init=False)
    _had_rows: dict[str, bool] = field(default_factory=dict)
    # Table id -> record id -> Stored: a full run's stored rows, read once per table.
    _stored: dict[str, dict[str, Stored]] = field(default_factory=dict)
    _digest_prefix: dict[str, bytes] = field(default_factory=dict)
    _written: Counter[str] = field(default_factory=Counter)  # rows written per entity
    # Conflicts found (saved with the page) and rows that keep MissionOS values to write back.
    conflicts: list = field(default_factory=list)
    queue_push: set[tuple[str, int]] = field(default_factory=set)
    # Table id -> {"records": n, "filled": Counter of field ids}: SyncRun.field_fill.
    field_fill: dict[str, dict] = field(default_factory=dict)
    # Cells of fields that look like copies of each other, for the same census.
    pair_samples: PairSamples = field(default_factory=PairSamples)
    _raw_cells: dict[str, dict] = field(default_factory=dict)
    # (entity, attribute) -> {casefolded value: (row key, label)}: who holds each value of an
    # attribute unique in the organization (EntityAdapter.unique_attributes), and the reverse.
    _holders: dict[tuple[str, str], dict[str, tuple]] = field(default_factory=dict)
    _held: dict[tuple[str, str], dict[object, str]] = field(default_factory=dict)
    _value_attributes: dict[str, list[str]] = field(default_factory=dict)  # per entity
    # Writes each page: at once by default; in a thread while the next is converted when the
    # run asks (PageWriter.threaded). Whatever reads rows a pending write may hold waits first.
    writer: PageWriter = field(default_factory=PageWriter)
    keys: KeyReserve = field(default_factory=KeyReserve)  # new rows' keys, a block at a time

    def __post_init__(self) -> None:
        self.links = Links(
            run=self.run, organization=self.organization, schema=self.schema, mapping=self.mapping
        )

    @property
    def organization(self) -> Organization:
        return self.connection.organization

    # -- writing a page --------------------------------------------------------------------

    def _count_fill(self, table_id: str, records: dict[str, dict]) -> None:
        """How many records hold a value in each field (Airtable leaves empty cells out), and
        which hold a formula's error (up to ERRORS_KEPT a field, mapped or not)."""
        census = self.field_fill.setdefault(
            table_id, {"records": 0, "filled": Counter(), "errors": {}}
        )
        filled: Counter[str] = census["filled"]
        census["records"] += len(records)
        # Every cell of every record passes here, unchanged runs included: plain types are
        # told apart by `type` (a number or a boolean is a value; a string one unless blank),
        # and only lists and objects, which may hold a formula's error, take the full checks.
        for record_id, cells in records.items():
            for field_id, cell in cells.items():
                kind = type(cell)
                if kind is str:
                    if cell and (not cell[0].isspace() or cell.strip()):
                        filled[field_id] += 1
                    continue
                if kind is not list and kind is not dict:
                    if cell is not None:
                        filled[field_id] += 1
                    continue
                if kind is list and all(type(item) is str for item in cell):
                    if any(item.strip() for item in cell):  # links, choices: no error
                        filled[field_id] += 1
                    continue
                if not is_empty(cell):
                    filled[field_id] += 1
                error = cell_error(cell)
                if error is not None:
                    found = census["errors"].setdefault(field_id, {"count": 0, "records": {}})
                    found["count"] += 1
                    if len(found["records"]) < ERRORS_KEPT:
                        found["records"][record_id] = error

    def apply_page(self, entity: str, table: TableSchema, records: list[dict]) -> None:
        adapter = ADAPTERS[entity]
        model = adapter.model
        by_id = {record["id"]: record for record in records}  # the last copy wins if sent twice
        existing = self._existing_rows(model, table, list(by_id))
        self.seen[table.id].update(by_id)
        self.counts.pulled += len(by_id)

        self._raw_cells = {rid: record.get("fields") or {} for rid, record in by_id.items()}
        if self.run.kind == RunKind.FULL:  # only a run that sees every record takes the census
            self._count_fill(table.id, self._raw_cells)
            self.pair_samples.add(table, self._raw_cells.values())
        converted: dict[str, tuple[Converted, str]] = {}
        issues: list[SyncIssue] = []
        back_there: list[int] = []
        relisted = 0  # problems of unchanged records, still problems of the base
        converted_ids: list[str] = []  # records read anew: their problems are rewritten
        for record_id, record in by_id.items():
            raw = record_raw(record)
            digest = self.record_digest(entity, table, raw)
            stored = existing.get(record_id)
            if stored and stored.merged_into:
                # Merged here into another row: left as it is; what links to it gets the row
                # it was merged into.
                self.counts.unchanged += 1
                self.links.remember(entity, record_id, stored.merged_into)
                continue
            if stored and stored.archived_here and stored.archived_at is not None:
                # Archived in MissionOS: left as it is until someone restores it here.
                if stored.deleted_there:
                    back_there.append(stored.pk)
                self.counts.unchanged += 1
                self.links.remember(entity, record_id, stored.pk)
                continue
            live = stored is not None and (stored.archived_at is None or stored.blank)
            if live and stored.source_hash == digest:
                # Same record, same mapping: nothing to convert or write. Its problems are
                # still problems of the base, so the run lists them again.
                self.counts.unchanged += 1
                self.links.remember(entity, record_id, stored.pk)
                # Its problems stand as they are (one row each, sync.reconcile.issues): the
                # run counts them and writes nothing.
                relisted += len(stored.issues or ())
                continue
            item = convert_record(
                adapter,
                self.mapping.entities[entity],
                table,
                record,
                now=self.now,
                may_hold_nul=NUL_IN_JSON in raw,
            )
            converted_ids.append(record_id)
            for kind, field_id, reason in item.issues:
                issues.append(self._issue(table, record_id, kind, field_id, reason))
            if not item.skip:
                converted[record_id] = (item, digest)

        single_links = self.links.single(entity)
        new_items = [
            (item, digest) for rid, (item, digest) in converted.items() if rid not in existing
        ]
        linked = self.links.page_links(single_links, [item for item, _ in converted.values()])
        to_create = []
        for item, digest in new_items:
            row = new_row(
                model,
                {
                    "organization": self.organization,
                    "source_table": table.id,
                    "source_record_id": item.record_id,
                    "source_connection_id": self.connection.pk,
                    "created_at": item.created_time,
                    "archived_at": self.now if item.blank else None,
                    **item.values,
                },
            )
            self._keep_checks(adapter, table, row, item, issues)
            self._stamp(row, item, digest)
            to_create.append((row, self.links.set_single(entity, row, item, single_links, linked)))
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
            | {"created_at"}
        )
        written = [row for row, _ in to_create + rows_to_update]
        if converted_ids or back_there or self.conflicts or self.queue_push:
            # A page with nothing to write (an unchanged run's) opens no transaction.
            self._write_page(
                entity,
                table,
                model,
                written,
                to_create,
                back_there,
                (issues, converted_ids),
                update_fields,
            )
        self._raw_cells = {}
        if table.id in self._stored:
            self._remember_stored(table, written)
        for row in written:
            self.links.remember(entity, row.source_record_id, row.pk)
        self.counts.created += len(to_create)
        self.counts.updated += len(rows_to_update)
        self._written[entity] += len(written)
        self.counts.issues += len(issues) + relisted
        # Rows with many-to-many links or links still dangling get the pass after the pull.
        self.links.unfinished[entity].update(
            row.pk for row, complete in to_create + rows_to_update if not complete
        )

    def _write_page(
        self, entity, table, model, written, to_create, back_there, found, update_fields
    ) -> None:
        issues, converted_ids = found
        conflicts, self.conflicts = self.conflicts, []
        queue_push, self.queue_push = self.queue_push, set()
        # Keys now, in this thread: what links to the new rows is set before they are written.
        take_keys(model, [row for row, _ in to_create], self.keys)

        def write() -> None:
            with transaction.atomic():
                save_rows(model, written, update_fields)
                if back_there:
                    self._mark_deleted_there(model, back_there, deleted=False)
                if entity == "check_in" and to_create:
                    # A check-in made in Airtable is activity too, dated when it was made.
                    check_ins_noted(
                        organization=self.organization,
                        check_ins=[row for row, _ in to_create if row.archived_at is None],
                        by="Airtable",
                    )
                # The written records' problems as they are now: kept, updated or gone.
                issues_save(
                    self.organization,
                    self.run,
                    issues,
                    table_id=table.id,
                    record_ids=converted_ids,
                )
                if conflicts:
                    conflicts_save(conflicts)
                if queue_push:
                    queue_rows(self.connection, queue_push)

        self.writer.submit(write)

    def _remember_stored(self, table: TableSchema, rows: list) -> None:
        """Keep a full run's stored rows current with what it wrote (a table listed again
        after a dropped listing sends the same records twice)."""
        stored = self._stored[table.id]
        for row in rows:
            extra = row.source_extra or {}
            stored[row.source_record_id] = Stored(
                row.pk,
                row.source_hash,
                row.archived_at,
                extra.get("issues"),
                extra.get(MERGED_INTO),
                bool(extra.get(BLANK)),
                bool(extra.get(ARCHIVED_HERE)),
                bool(extra.get(DELETED_IN_AIRTABLE)) and not extra.get(DELETE_IN_AIRTABLE),
                row.source_connection_id,
            )

    def record_digest(self, entity: str, table: TableSchema, raw: bytes) -> str:
        """Changes exactly when the Airtable record, or how it is read, does: the record's raw
        cells (`record_raw`) plus the entity's mapping and its fields' types. Comparing it with
        the stored one skips unchanged records before any conversion."""
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
            prefix = canonical_json(reading).encode() + b"|"
            self._digest_prefix[entity] = prefix
        digest = hashlib.sha256(prefix)
        digest.update(raw)
        return digest.hexdigest()

    def _existing_rows(self, model, table: TableSchema, record_ids: list[str]) -> dict[str, Stored]:
        """The rows this page already has, narrow: enough to tell unchanged records apart.

        A table with no rows when the run started has only the rows this run wrote, so the
        lookup is skipped for records not seen yet (the whole first sync of a table).
        """
        if not record_ids:  # an empty page (an incremental run's table with no change)
            return {}
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
        if table.id not in self._stored or self.run.kind != RunKind.FULL:
            self.writer.wait()  # the rows asked for may be in the page being written
        if self.run.kind == RunKind.FULL and self._had_rows[table.id]:
            # A full run reads every record of the table: one query for all the stored rows
            # (a query per page planned for longer than it ran). Rows this run writes are
            # added as it writes them; see `_remember_stored`.
            if table.id not in self._stored:
                self._stored[table.id] = self._stored_rows(model, table, None)
            stored = self._stored[table.id]
            return {rid: stored[rid] for rid in record_ids if rid in stored}
        return self._stored_rows(model, table, record_ids)

    def _stored_rows(
        self, model, table: TableSchema, record_ids: list[str] | None
    ) -> dict[str, Stored]:
        """The stored rows of the table: those of `record_ids`, or all of them (None)."""
        rows = model.objects.for_org(self.organization, include_archived=True).filter(
            source_table=table.id
        )
        if record_ids is not None:
            rows = rows.filter(source_record_id__in=record_ids)
        rows = rows.values_list(
            "pk",
            "source_record_id",
            "source_hash",
            "archived_at",
            "source_extra__issues",
            f"source_extra__{MERGED_INTO}",
            f"source_extra__{BLANK}",
            f"source_extra__{ARCHIVED_HERE}",
            f"source_extra__{DELETED_IN_AIRTABLE}",
            f"source_extra__{DELETE_IN_AIRTABLE}",
            "source_connection_id",
        )
        if record_ids is None:
            rows = rows.iterator(chunk_size=5000)
        return {
            record_id: Stored(
                pk,
                source_hash,
                archived_at,
                issues,
                merged_into,
                bool(blank),
                bool(here),
                bool(deleted_there) and not delete_asked,
                connection_id,
            )
            for (
                pk,
                record_id,
                source_hash,
                archived_at,
                issues,
                merged_into,
                blank,
                here,
                deleted_there,
                delete_asked,
                connection_id,
            ) in rows
        }

    def _prepare_updates(self, entity, table, to_update, issues, single_links, linked) -> list:
        """Full rows for the changed records only (one query), with Airtable's values applied
        and any MissionOS edit they overwrite recorded."""
        if not to_update:
            return []
        self.writer.wait()  # the rows, their pending writes and conflicts as they are now
        full = (
            ENTITY_MODELS[entity]
            .objects.for_org(self.organization, include_archived=True)
            .in_bulk([stored.pk for stored, _, _ in to_update])
        )
        held = rows_held(self.organization, entity, list(full))
        local_links = self._local_links(entity, held)
        prepared = []
        for stored, item, digest in to_update:
            row = full[stored.pk]
            if row.last_synced_at and row.last_synced_at > self.now:
                # Written back to Airtable (or brought by the change feed) after this run
                # read its page: the row is fresher than the page. The next run reads it.
                continue
            ADAPTERS[entity].before_update(row, item)
            airtable_keys = self._merge(entity, table, row, item, held, local_links)
            if airtable_keys is None:
                local = self._local_edit(row, item)
                if local:
                    issues.append(
                        self._issue(
                            table, row.source_record_id, SyncIssue.Kind.OVERWRITE, "", local
                        )
                    )
                airtable_keys = {}
            if row.archived_at is not None and not item.blank:
                self.counts.unarchived += 1
            for name, value in item.values.items():
                setattr(row, name, value)
            # Rows synced before createdTime was read took the moment of their first sync.
            row.created_at = item.created_time
            row.archived_at = (row.archived_at or self.now) if item.blank else None
            self._keep_checks(ADAPTERS[entity], table, row, item, issues)
            self._stamp(row, item, digest, airtable_keys)
            prepared.append((row, self.links.set_single(entity, row, item, single_links, linked)))
        return prepared

    def _merge(
        self, entity, table, row, item: Converted, held: HeldRows, local_links: dict
    ) -> dict | None:
        """Three-way merge of Airtable's values into a row that has a base (sync.writeback).
        A value changed only in MissionOS is kept (and goes to Airtable); one changed only in
        Airtable is taken; one changed on both sides to different values is kept as it is
        here and raised as a conflict. -> the keys of Airtable's values for the attributes
        kept, which stay the row's base; None for a row with no base (synced before bases)."""
        base = base_of(row)
        if not base:
            return None
        kept: dict[str, str] = {}
        entity_mapping = self.mapping.entities[entity]
        for name, value in list(item.values.items()):
            if name not in base:
                continue
            local = getattr(row, name)
            local_key = value_key(local)
            if local_key == base[name]:
                continue  # not changed here: Airtable's value, changed or not, is taken
            airtable_key = value_key(value)
            if airtable_key not in (base[name], local_key):
                field_id = entity_mapping.fields.get(name, "")
                cell = (self._raw_cells or {}).get(row.source_record_id, {}).get(field_id)
                self.conflicts.append(
                    conflict_found(
                        connection=self.connection,
                        entity=entity,
                        row=row,
                        attribute=name,
                        field=table.field(field_id),
                        local=local,
                        airtable_value=value,
                        airtable_cell=cell,
                    )
                )
            kept[name] = airtable_key
            item.values[name] = local
        self._merge_links(entity, table, row, item, held, local_links.get(row.pk, {}))
        if kept or row.pk in held.pending:
            self.queue_push.add((entity, row.pk))
        return kept

    def _merge_links(
        self, entity, table, row, item: Converted, held: HeldRows, local_links: dict
    ) -> None:
        """Links, merged like values once MissionOS has a side to weigh (a write waiting, a
        conflict open): a link Airtable did not change stands as the row has it; one changed
        on both sides to different records is a conflict, and the row's link stands until a
        person resolves it. Other rows take Airtable's links: theirs were not edited here."""
        open_here = held.conflicts.get(row.pk, set())
        if row.pk not in held.pending and not open_here:
            return
        base_links = base_links_of(row)
        field_ids = self.mapping.entities[entity].fields
        for name in item.links.keys() | base_links.keys():
            there, base = item.links.get(name, []), base_links.get(name, [])
            if row.pk in held.pending and same_entries(there, base):
                item.keep_links.add(name)  # unchanged in Airtable: the row's link stands
                continue
            local = local_links.get(name)
            if name not in open_here and (
                local is None or same_entries(local, base) or same_entries(local, there)
            ):
                continue  # not changed here (or not known), or both agree: Airtable's stands
            item.keep_links.add(name)
            if name in open_here and same_entries(there, base):
                continue  # the open conflict already shows Airtable's side
            self.conflicts.append(
                link_conflict_found(
                    connection=self.connection,
                    entity=entity,
                    row=row,
                    attribute=name,
                    field=table.field(field_ids.get(name, "")),
                    local_entries=local or [],
                    airtable_entries=there,
                )
            )

    def _local_links(self, entity: str, held: HeldRows) -> dict[int, dict[str, list | None]]:
        """row id -> link name -> the record ids the row links to here, for the rows `_merge`
        weighs (one query per link). None where a linked row is not in Airtable yet."""
        row_ids = held.pending | held.conflicts.keys()
        links = self.links.mapped(entity)
        if not row_ids or not links:
            return {}
        model = ENTITY_MODELS[entity]
        found: dict[int, dict[str, list | None]] = defaultdict(dict)
        for name in links:
            rows = (
                model.objects.for_org(self.organization, include_archived=True)
                .filter(pk__in=row_ids)
                .values_list("pk", name, f"{name}__source_record_id")
            )
            for pk, target_pk, record_id in rows:
                entries = found[pk].setdefault(name, [])
                if target_pk is None or entries is None:
                    continue
                if record_id:
                    entries.append(record_id)
                else:
                    found[pk][name] = None
        return found

    def _keep_checks(self, adapter, table: TableSchema, row, item: Converted, issues) -> None:
        entity_mapping = self.mapping.entities[adapter.entity]
        found = adapter.keep_checks(row, item, entity_mapping)
        found += self._keep_unique(adapter, row, item, entity_mapping)
        for kind, field_id, reason in found:
            item.issues.append((kind, field_id, reason))
            issues.append(self._issue(table, row.source_record_id, kind, field_id, reason))

    def _keep_unique(self, adapter, row, item: Converted, entity_mapping) -> list:
        """Keep the organization's unique values unique (a person's email, any case): a record
        that repeats one another row holds is kept without it, and the run says whose it is.
        The first row to hold a value keeps it; the holders are read once per run."""
        found = []
        for attribute in adapter.unique_attributes:
            label = adapter.label
            key = (adapter.entity, attribute)
            if key not in self._holders:
                rows = adapter.model.objects.for_org(self.organization, include_archived=True)
                self._holders[key], self._held[key] = {}, {}
                for pk, value, name in rows.exclude(**{attribute: ""}).values_list(
                    "pk", attribute, label
                ):
                    self._holders[key].setdefault(value.casefold(), (pk, name))
                    self._held[key][pk] = value.casefold()
            holders, held = self._holders[key], self._held[key]
            me = row.pk or ("record", row.source_record_id)
            value = (getattr(row, attribute) or "").casefold()
            holder = holders.get(value) if value else None
            if holder is not None and holder[0] != me:
                setattr(row, attribute, "")
                if attribute in item.values:
                    item.values[attribute] = ""
                found.append(
                    (
                        SyncIssue.Kind.VALUE,
                        entity_mapping.fields.get(attribute, ""),
                        f"{holder[1]} already has the {attribute} {value}: kept without it "
                        "(one person per email; merge them in data health if they are one)",
                    )
                )
                value = ""
            previous = held.pop(me, None)
            if previous and holders.get(previous, (None,))[0] == me:
                del holders[previous]
            if value:
                holders[value], held[me] = (me, getattr(row, label)), value
        return found

    def _stamp(
        self, row: OrgOwned, item: Converted, digest: str, airtable_keys: dict | None = None
    ) -> None:
        model = type(row)
        entity = model_entity(model)
        mapped = self.mapping.entities[entity].fields
        previous_links = base_links_of(row) if row.pk else {}
        row.source_hash = digest
        attributes = self._value_attributes.get(entity)
        if attributes is None:
            attributes = self._value_attributes[entity] = value_attributes(entity, mapped, model)
        airtable_keys = airtable_keys or {}
        # What Airtable has, attribute by attribute: the write-back's base.
        base = {
            name: airtable_keys.get(name) or value_key(getattr(row, name)) for name in attributes
        }
        row.source_extra = {
            "fields": item.extras,
            "links": item.links,
            BASE: base,
            BASE_LINKS: {
                name: previous_links.get(name, []) if name in item.keep_links else entries
                for name, entries in item.links.items()
            },
        }
        if not base:
            # What the sync wrote, to notice a MissionOS edit before overwriting it: a row
            # with a base is merged by it instead (`_merge`), so only a row without one.
            row.source_extra["written"] = content_hash(item.values)
        if item.blank:
            row.source_extra[BLANK] = True
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
        return record_issue(
            organization=self.organization,
            run=self.run,
            table=table,
            record_id=record_id,
            kind=kind,
            field_id=field_id,
            reason=reason,
        )

    # -- after the pull --------------------------------------------------------------------

    def table_done(self, entity: str) -> None:
        """The entity's table has been pulled whole. Tables come linked-first, so its link
        targets are usually complete too: resolve its links and refresh the planner's
        statistics now, while the next tables download, rather than all after the last page."""
        self.writer.wait()  # the table's rows are all written
        self.counts.issues += self.links.table_done(entity)
        if self._written[entity] >= ANALYZE_AFTER_WRITES:
            analyze(ENTITY_MODELS[entity])

    def resolve_links(self) -> None:
        """Point foreign keys and many-to-many links at the rows of the linked records, for
        every entity whose links `table_done` could not resolve yet."""
        self.writer.wait()
        self.counts.issues += self.links.resolve_all()

    def archive_unseen(self) -> None:
        """After a complete full pull only: archive rows whose records were not seen."""
        self.writer.wait()
        for entity, entity_mapping in self.mapping.entities.items():
            model = ENTITY_MODELS[entity]
            seen = self.seen.get(entity_mapping.table_id, set())
            live = model.objects.for_org(self.organization).filter(
                source_connection_id=self.connection.pk,
                source_table=entity_mapping.table_id,
            )
            gone = self._unseen_live(model, entity_mapping.table_id, live, seen)
            for start in range(0, len(gone), 1000):
                self.counts.archived += live.filter(pk__in=gone[start : start + 1000]).update(
                    archived_at=self.now
                )
            here = self._archived_here(model, entity_mapping.table_id)
            rows = here.values_list("pk", "source_record_id").iterator(chunk_size=5000)
            self._mark_deleted_there(model, [pk for pk, rid in rows if rid not in seen])
            # Problems of records no longer in the base go with them.
            with_issues = (
                SyncIssue.objects.for_org(self.organization)
                .filter(connection=self.connection, table_id=entity_mapping.table_id)
                .values_list("record_id", flat=True)
                .distinct()
            )
            issues_forget(
                self.organization,
                self.connection,
                entity_mapping.table_id,
                [record_id for record_id in with_issues if record_id not in seen],
            )

    def _unseen_live(self, model, table_id: str, live, seen: set[str]) -> list[int]:
        """The live rows of the connection's table whose records this full pull did not see.
        A table that had no rows when the run began has only rows this run wrote (all seen);
        one that had rows was read whole into `_stored` (kept current with what the run
        wrote), so neither needs the table read again."""
        if self._had_rows.get(table_id) is False:
            return []
        stored = self._stored.get(table_id)
        if stored is None:
            rows = live.values_list("pk", "source_record_id").iterator(chunk_size=5000)
            return [pk for pk, record_id in rows if record_id not in seen]
        return [
            row.pk
            for record_id, row in stored.items()
            if row.archived_at is None
            and row.connection_id == self.connection.pk
            and record_id not in seen
        ]

    def archive_records(self, entity: str, record_ids: Iterable[str]) -> None:
        """Archive the rows of records Airtable reports deleted (the change feed), as a
        complete full pull would archive them for not being seen."""
        self.writer.wait()
        model = ENTITY_MODELS[entity]
        live_table = self.mapping.entities[entity].table_id
        live = model.objects.for_org(self.organization).filter(
            source_connection_id=self.connection.pk, source_table=live_table
        )
        ids = sorted(set(record_ids))
        for start in range(0, len(ids), 1000):
            self.counts.archived += live.filter(
                source_record_id__in=ids[start : start + 1000]
            ).update(archived_at=self.now)
        issues_forget(self.organization, self.connection, live_table, ids)
        here = self._archived_here(model, self.mapping.entities[entity].table_id)
        self._mark_deleted_there(
            model, list(here.filter(source_record_id__in=ids).values_list("pk", flat=True))
        )

    def _archived_here(self, model, table_id: str):
        """The rows archived in MissionOS (archive_unseen leaves them: archived already) whose
        records were in Airtable when last seen, and that nobody here asked to delete there."""
        return (
            model.objects.for_org(self.organization, include_archived=True)
            .filter(
                source_connection_id=self.connection.pk,
                source_table=table_id,
                archived_at__isnull=False,
                source_extra__has_key=ARCHIVED_HERE,
            )
            .exclude(source_extra__has_key=DELETED_IN_AIRTABLE)
            .exclude(source_extra__has_key=DELETE_IN_AIRTABLE)
        )

    def _mark_deleted_there(self, model, pks: list[int], *, deleted: bool = True) -> None:
        """Mark archived rows as gone from Airtable (deleted there while archived here: the
        Archive page says so, and restoring one makes its record anew through the write-back),
        or, `deleted=False`, as back there. Rare, so row by row in chunks."""
        rows_of = model.objects.for_org(self.organization, include_archived=True)
        for start in range(0, len(pks), 1000):
            rows = list(rows_of.filter(pk__in=pks[start : start + 1000]).only("source_extra"))
            for row in rows:
                extra = dict(row.source_extra or {})
                if deleted:
                    extra[DELETED_IN_AIRTABLE] = True
                else:
                    extra.pop(DELETED_IN_AIRTABLE, None)
                row.source_extra = extra
            rows_of.bulk_update(rows, ["source_extra"])


def analyze(model: type[OrgOwned]) -> None:
    """Refresh Postgres's planner statistics after a large load, so the next run's lookups by
    record id use the index at once instead of waiting for autovacuum."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{model._meta.db_table}"')
