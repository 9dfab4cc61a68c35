"""Draining one connection's outbox into its Airtable base.

For each entity in catalogue order (linked records first, so a new task's project has its
record id before the task is sent), the push loads the queued rows, works out what changed in
MissionOS since Airtable last agreed (sync.writeback.state), and:

- for records Airtable has, reads them first (one request per 100) to catch a field changed
  there too: such a field is not written but raised as a conflict; a field already holding our
  value is just acknowledged; the rest goes out as PATCH, 10 records a request;
- for rows made in MissionOS, creates them. Exactly once: with a MissionOS ID field in the
  table (the connection page adds it), creates are upserts merged on that field, so a request
  sent twice after a lost answer updates the record the first made. Without it, a create is
  never sent twice blindly: a lost answer is followed, next time, by a lookup of records
  created since the attempt with the same primary field value, and only then a new create.

A write done is acknowledged in one transaction: the row's base takes the values written,
its record id is stored (creates), its content hash is cleared so the next pull reads the
record again, and the outbox entry is removed only if no change came in meanwhile.
Refusals (422 values, deleted records, missing scope, read-only base or table) leave the entry
failed with the reason a person can act on; transient trouble backs off and retries.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from pyairtable.formulas import AND, CREATED_TIME, DATETIME_PARSE, EQ, IS_AFTER, Field

from orgs.models import OrgOwned, Person
from sync.airtable.client import AirtableClient, SyncError, WriteRefused, WriteUnsure
from sync.mapping.catalogue import ENTITIES, Attr
from sync.mapping.document import EntityMapping, Mapping
from sync.models import Connection, PendingWrite
from sync.reconcile.adapters import ADAPTERS, ENTITY_MODELS
from sync.reconcile.links import points_at
from sync.reconcile.records import convert_record
from sync.schema import BaseSchema, TableSchema
from sync.values import NameRef, PersonRef
from sync.writeback.conflicts import (
    conflict_found,
    conflicts_save,
    link_conflict_found,
    open_conflict_attributes,
)
from sync.writeback.outbound import NotWritable, to_cell, writable
from sync.writeback.state import (
    DELETED_IN_AIRTABLE,
    base_links_of,
    base_of,
    changed_here,
    same_entries,
    stamp_base,
    to_delete,
    value_attributes,
    value_key,
)

logger = logging.getLogger(__name__)

BATCH = 10  # Airtable's limit of records per write
MISSIONOS_ID_FIELD = "MissionOS ID"
ROUND_SIZE = 500
WRITE_SCOPE = "data.records:write"
READ_ONLY_TABLE = "The connection keeps this table read-only: the change stays in MissionOS."
NO_WRITE_SCOPE = (
    "The token cannot write (it lacks the data.records:write scope, or edit access to the "
    "base): the change stays queued until a token that can is saved on the connection page."
)


def missionos_id(connection: Connection, entity: str, row_id: int) -> str:
    return f"mos-{connection.pk}-{entity}-{row_id}"


def retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


@dataclass
class PushReport:
    written: int = 0  # records updated in Airtable
    created: int = 0
    deleted: int = 0  # records deleted in Airtable, as a person asked
    acknowledged: int = 0  # rows whose values Airtable already had
    conflicts: int = 0
    failed: int = 0
    waiting: int = 0
    retrying: int = 0
    requests: int = 0
    left: int = 0  # entries still queued at the end (failed, waiting or due later)

    def line(self) -> str:
        return (
            f"{self.written} updated, {self.created} created, "
            + (f"{self.deleted} deleted, " if self.deleted else "")
            + f"{self.conflicts} conflicts, "
            f"{self.failed} failed, {self.left} left; {self.requests} requests"
        )


@dataclass
class _Plan:
    entry: PendingWrite
    row: OrgOwned
    fields: dict[str, object] = field(default_factory=dict)  # field id -> cell
    keys: dict[str, str] = field(default_factory=dict)  # attribute -> base key once written
    links: dict[str, list] = field(default_factory=dict)  # link attribute -> base entries
    problems: list[str] = field(default_factory=list)
    waiting: str = ""
    conflicts: list = field(default_factory=list)

    @property
    def record_id(self) -> str | None:
        return self.row.source_record_id


@dataclass
class Push:
    connection: Connection
    client: AirtableClient
    schema: BaseSchema
    mapping: Mapping
    now: Callable[[], datetime.datetime] = timezone.now
    report: PushReport = field(default_factory=PushReport)
    on_progress: Callable[[PushReport], None] | None = None

    @property
    def organization_id(self) -> int:
        return self.connection.organization_id

    def entries(self):
        return PendingWrite.objects.for_org(self.organization_id).filter(connection=self.connection)

    def run(self) -> PushReport:
        while True:
            due = list(
                self.entries()
                .filter(
                    state__in=[PendingWrite.State.PENDING, PendingWrite.State.WAITING],
                    next_attempt_at__lte=self.now(),
                )
                .order_by("queued_at", "pk")[:ROUND_SIZE]
            )
            if not due:
                break
            before = self._progress()
            # Deletes last: what still links to a record is moved off it first (Airtable
            # clears links to a record it deletes, which would read as a change there).
            for deleting in (False, True):
                if deleting:  # what the first pass left pending: the rows to delete
                    due = list(
                        self.entries().filter(
                            pk__in=[entry.pk for entry in due],
                            state=PendingWrite.State.PENDING,
                            next_attempt_at__lte=self.now(),
                        )
                    )
                for entity in ENTITIES:
                    entries = [entry for entry in due if entry.entity == entity]
                    if entries:
                        self._push_entity(entity, entries, deleting=deleting)
            progressed = before != self._progress()
            if not progressed:
                break  # only waiting or failing entries: a later change or retry moves them
        self.report.left = self.entries().count()
        return self.report

    def _progress(self) -> tuple[int, ...]:
        report = self.report
        return (report.written, report.created, report.deleted, report.acknowledged)

    # -- one entity ------------------------------------------------------------------------

    def _push_entity(self, entity: str, entries: list[PendingWrite], *, deleting: bool) -> None:
        """Write the entity's queued rows (`deleting`: only delete those marked for it)."""
        entity_mapping = self.mapping.entities.get(entity)
        if entity_mapping is None:  # no longer mapped: nothing to write it to
            self.entries().filter(pk__in=[e.pk for e in entries]).delete()
            return
        table = self.schema.table(entity_mapping.table_id)
        if table is None:
            self._fail(entries, f"The table {entity_mapping.table_name} is gone from the base.")
            return
        if (self.connection.write_settings or {}).get(table.id, {}).get("read_only"):
            self._fail(entries, READ_ONLY_TABLE)
            return
        scopes = self.connection.token_scopes or []
        if scopes and WRITE_SCOPE not in scopes:
            self._fail(entries, NO_WRITE_SCOPE)
            self._block(NO_WRITE_SCOPE)
            return
        rows = self._rows(entity, entity_mapping, [entry.row_id for entry in entries])
        gone = [entry.pk for entry in entries if entry.row_id not in rows]
        if gone:
            self.entries().filter(pk__in=gone).delete()
        entries = [entry for entry in entries if entry.row_id in rows]
        foreign = [
            e
            for e in entries
            if rows[e.row_id].source_record_id and rows[e.row_id].source_table != table.id
        ]
        if foreign:
            self._fail(foreign, "The record is in a table the mapping no longer uses.")
            entries = [e for e in entries if e not in foreign]
        doomed = [entry for entry in entries if to_delete(rows[entry.row_id])]
        if deleting:
            if doomed:
                self._delete(table, doomed, rows)
            return
        entries = [entry for entry in entries if entry not in doomed]
        if not entries:
            return
        updates = [entry for entry in entries if rows[entry.row_id].source_record_id]
        current = {}
        if updates:
            try:
                found = self.client.records_by_id(
                    table.id, [rows[e.row_id].source_record_id for e in updates]
                )
            except SyncError as error:
                self._retry(updates, str(error))
                entries = [e for e in entries if e not in updates]
                updates = []
            else:
                current = {record["id"]: record for record in found}
        open_conflicts = open_conflict_attributes(
            self.organization_id, entity, [entry.row_id for entry in entries]
        )
        plans = []
        for entry in entries:
            row = rows[entry.row_id]
            if row.source_record_id and row.source_record_id not in current:
                self._fail([entry], "The record was deleted in Airtable.")
                continue
            plans.append(
                self._plan(
                    entity,
                    entity_mapping,
                    table,
                    entry,
                    row,
                    current.get(row.source_record_id or ""),
                    open_conflicts.get(row.pk, set()),
                )
            )
        for plan in plans:
            if plan.conflicts:
                conflicts_save(plan.conflicts)
                self.report.conflicts += len(plan.conflicts)
        ready = [plan for plan in plans if not plan.waiting]
        for plan in plans:
            if plan.waiting:
                self._wait(plan)
        self._send_updates(table, [p for p in ready if p.record_id])
        self._send_creates(entity, entity_mapping, table, [p for p in ready if not p.record_id])

    def _rows(self, entity: str, entity_mapping: EntityMapping, row_ids: list[int]) -> dict:
        model = ENTITY_MODELS[entity]
        singles, many = [], []
        for name, attr in _links(entity, entity_mapping).items():
            if attr.many:
                many.append(name)
            elif points_at(model, name, ENTITY_MODELS[attr.target]):
                singles.append(name)
        queryset = model.objects.for_org(self.organization_id, include_archived=True)
        return queryset.select_related(*singles).prefetch_related(*many).in_bulk(row_ids)

    # -- what to send ----------------------------------------------------------------------

    def _plan(self, entity, entity_mapping, table, entry, row, record, conflicted) -> _Plan:
        plan = _Plan(entry=entry, row=row)
        creating = not row.source_record_id
        model = ENTITY_MODELS[entity]
        base = base_of(row)
        cells = (record or {}).get("fields") or {}
        airtable = None
        if record is not None and base:
            # Airtable's values now, read as the pull reads them, to compare with the base.
            airtable = convert_record(
                ADAPTERS[entity], entity_mapping, table, record, now=self.now()
            )
        attrs = ENTITIES[entity]
        for name in value_attributes(entity, entity_mapping.fields, model):
            schema_field = table.field(entity_mapping.fields[name])
            if name in conflicted or not writable(schema_field):
                continue
            local = getattr(row, name)
            if creating:
                if local is None or local == "":
                    continue
            elif not changed_here(row, name):
                continue
            if airtable is not None and name in base:
                there = value_key(airtable.values.get(name))
                if there == value_key(local):
                    plan.keys[name] = there  # Airtable has it already
                    continue
                if there != base[name]:
                    plan.conflicts.append(
                        conflict_found(
                            connection=self.connection,
                            entity=entity,
                            row=row,
                            attribute=name,
                            field=schema_field,
                            local=local,
                            airtable_value=airtable.values.get(name),
                            airtable_cell=cells.get(schema_field.id),
                        )
                    )
                    continue
            try:
                cell = to_cell(
                    attrs[name],
                    local,
                    field=schema_field,
                    value_map=entity_mapping.value_maps.get(name),
                    previous=cells.get(schema_field.id),
                )
            except NotWritable as refused:
                plan.problems.append(str(refused))
                continue
            plan.fields[schema_field.id] = cell
            plan.keys[name] = value_key(local)
        if entity == "person" and "departed_on" in plan.keys:
            self._person_status(row, entity_mapping, table, plan)
        self._plan_links(entity, entity_mapping, table, row, plan, creating, airtable, conflicted)
        return plan

    def _person_status(self, row: Person, entity_mapping, table, plan: _Plan) -> None:
        """A departure dated here also ticks off the base's active box / status select."""
        attrs = ENTITIES["person"]
        virtual = {"active": row.departed_on is None}
        virtual["status"] = "active" if row.departed_on is None else "departed"
        for name, value in virtual.items():
            field_id = entity_mapping.fields.get(name)
            schema_field = table.field(field_id) if field_id else None
            if not writable(schema_field):
                continue
            try:
                plan.fields[schema_field.id] = to_cell(
                    attrs[name],
                    value,
                    field=schema_field,
                    value_map=entity_mapping.value_maps.get(name),
                )
            except NotWritable as refused:
                plan.problems.append(str(refused))

    def _plan_links(self, entity, entity_mapping, table, row, plan, creating, airtable, conflicted):
        base_links = base_links_of(row)
        model = ENTITY_MODELS[entity]
        for name, attr in _links(entity, entity_mapping).items():
            schema_field = table.field(entity_mapping.fields[name])
            if name in conflicted or not writable(schema_field):
                continue
            local = self._local_link(model, row, name, attr, schema_field.type)
            if local is None:
                continue  # not held in a column MissionOS edits
            values, entries, missing = local
            if missing:
                waiting_for = PendingWrite.objects.for_org(self.organization_id).filter(
                    entity=attr.target, row_id__in=missing
                )
                if waiting_for.exists():
                    plan.waiting = (
                        f"Waiting for its {attr.target.replace('_', ' ')} to reach Airtable."
                    )
                else:
                    plan.problems.append(
                        f"{schema_field.name}: the linked {attr.target.replace('_', ' ')} "
                        "is not in Airtable"
                    )
                continue
            if creating and not entries:
                continue
            if not creating and same_entries(entries, base_links.get(name, [])):
                continue
            if airtable is not None and not creating:
                there = airtable.links.get(name, [])
                if same_entries(there, entries):
                    plan.links[name] = entries
                    continue
                if not same_entries(
                    there, base_links.get(name, [])
                ) and not self._only_deleted_dropped(attr, base_links.get(name, []), there):
                    plan.conflicts.append(  # changed in Airtable too, to other records
                        link_conflict_found(
                            connection=self.connection,
                            entity=entity,
                            row=row,
                            attribute=name,
                            field=schema_field,
                            local_entries=entries,
                            airtable_entries=there,
                        )
                    )
                    continue
            try:
                plan.fields[schema_field.id] = to_cell(attr, values, field=schema_field)
            except NotWritable as refused:
                plan.problems.append(str(refused))
                continue
            plan.links[name] = entries

    def _only_deleted_dropped(self, attr: Attr, base: list, there: list) -> bool:
        """Whether Airtable's link differs from the base only by records deleted there (it
        takes them out of the cells linking to them): no person changed it, so it is not a
        conflict (a record archived here, deleted there, restored and made anew). One read."""
        if not all(isinstance(entry, str) for entry in [*base, *there]):
            return False
        dropped = sorted(set(base) - set(there))
        target = self.mapping.entities.get(attr.target)
        if not dropped or not set(there) <= set(base) or target is None:
            return False
        try:
            return not self.client.records_by_id(target.table_id, dropped)
        except SyncError:
            return False

    def _local_link(self, model, row, name, attr: Attr, field_type: str):
        """(what to_cell takes, the pull's entries for it, row ids of linked rows not in
        Airtable yet) for the row's link, or None when no column of the row holds it."""
        target_model = ENTITY_MODELS[attr.target]
        if attr.many:
            if not hasattr(row, name):
                return None
            targets = list(getattr(row, name).all())
        elif points_at(model, name, target_model):
            target = getattr(row, name)
            targets = [target] if target is not None else []
        elif entity_is_check_in_author(model, name):
            author = getattr(row, "author", None)
            person = (
                Person.objects.for_org(self.organization_id).filter(user=author).first()
                if author is not None
                else None
            )
            targets = [person] if person is not None else []
        else:
            return None
        collaborators = field_type in ("singleCollaborator", "multipleCollaborators")
        if collaborators:
            refs = [PersonRef(email=t.email, name=t.name) for t in targets if t.email]
            entries = [{"email": t.email.lower(), "name": t.name} for t in targets if t.email]
            return refs, entries, []
        if field_type not in ("multipleRecordLinks",):
            names = [NameRef(str(t)) for t in targets]
            return names, [{"name": str(t)} for t in targets], []
        missing = [t.pk for t in targets if not t.source_record_id]
        ids = [t.source_record_id for t in targets if t.source_record_id]
        return ids, ids, missing

    # -- sending ---------------------------------------------------------------------------

    def _send_updates(self, table: TableSchema, plans: list[_Plan]) -> None:
        nothing = [plan for plan in plans if not plan.fields]
        for plan in nothing:
            self._done(plan, None)
        plans = [plan for plan in plans if plan.fields]
        for start in range(0, len(plans), BATCH):
            batch = plans[start : start + BATCH]
            body = {"records": [{"id": p.record_id, "fields": p.fields} for p in batch]}
            self._send(table, "PATCH", body, batch, resend=True, creating=False)

    def _send_creates(self, entity, entity_mapping, table: TableSchema, plans: list[_Plan]):
        id_field = (self.connection.write_settings or {}).get(table.id, {}).get("id_field")
        if id_field and table.field(id_field) is None:
            id_field = None  # deleted in Airtable: back to creates with a lookup
        if id_field:
            for plan in plans:
                plan.fields[id_field] = missionos_id(self.connection, entity, plan.row.pk)
            for start in range(0, len(plans), BATCH):
                batch = plans[start : start + BATCH]
                body = {
                    "records": [{"fields": p.fields} for p in batch],
                    "performUpsert": {"fieldsToMergeOn": [id_field]},
                }
                self._send(table, "PATCH", body, batch, resend=True, creating=True)
            return
        fresh = []
        for plan in plans:
            if plan.entry.create_sent_at is not None:
                found = self._find_created(table, plan)
                if found is not None:
                    self._done(plan, found)
                    self.report.acknowledged += 1
                    continue
            fresh.append(plan)
        for start in range(0, len(fresh), BATCH):
            batch = fresh[start : start + BATCH]
            self.entries().filter(pk__in=[p.entry.pk for p in batch]).update(
                create_sent_at=self.now()
            )
            body = {"records": [{"fields": p.fields} for p in batch]}
            self._send(table, "POST", body, batch, resend=False, creating=True)

    def _find_created(self, table: TableSchema, plan: _Plan) -> dict | None:
        """A record a lost create may have made: same primary value, created since."""
        primary = table.primary_field
        value = plan.fields.get(primary.id) if primary else None
        if primary is None or not isinstance(value, str):
            return None
        since = (plan.entry.create_sent_at - datetime.timedelta(minutes=1)).astimezone(datetime.UTC)
        formula = AND(
            EQ(Field(primary.name), value),
            IS_AFTER(CREATED_TIME(), DATETIME_PARSE(since.strftime("%Y-%m-%dT%H:%M:%S.000Z"))),
        )
        try:
            pages = self.client.pages_matching(table.id, str(formula))
        except SyncError:
            return None
        return pages[0] if pages else None

    def _send(self, table, method, body, batch: list[_Plan], *, resend: bool, creating: bool):
        try:
            answer = self.client.write_records(method, table.id, body, resend_when_unsure=resend)
        except WriteRefused as refused:
            if refused.status == 422 and len(batch) > 1:
                # Airtable refuses the whole batch for one bad record: find which.
                for plan in batch:
                    one = {**body, "records": [r for r in body["records"] if _is(r, plan)]}
                    self._send(table, method, one, [plan], resend=resend, creating=creating)
                return
            self._refused(batch, refused)
            return
        except WriteUnsure as unsure:
            self._retry([p.entry for p in batch], f"Airtable did not answer ({unsure})")
            return
        except SyncError as error:
            self._retry([p.entry for p in batch], str(error))
            return
        records = answer.get("records") if isinstance(answer, dict) else None
        if not isinstance(records, list) or len(records) != len(batch):
            self._retry([p.entry for p in batch], "Airtable sent an unexpected answer")
            return
        if self.connection.write_blocked:
            self._block("")
        for plan, record in zip(batch, records, strict=True):
            self._done(plan, record if creating else None)
            if creating:
                self.report.created += 1
            else:
                self.report.written += 1
        if self.on_progress:
            self.on_progress(self.report)

    def _delete(self, table: TableSchema, entries: list[PendingWrite], rows: dict) -> None:
        """Delete the records of rows marked for it, 10 a request; those already gone from
        Airtable count as deleted (read first, so a retry after a lost answer is harmless)."""
        for start in range(0, len(entries), BATCH):
            batch = entries[start : start + BATCH]
            record_ids = [rows[entry.row_id].source_record_id for entry in batch]
            try:
                present = {r["id"] for r in self.client.records_by_id(table.id, record_ids)}
                if present:
                    self.client.delete_records(table.id, sorted(present))
            except WriteRefused as refused:
                self._fail(batch, f"Airtable refused to delete it: {refused}")
                continue
            except (WriteUnsure, SyncError) as error:
                self._retry(batch, f"Not deleted yet ({error})")
                continue
            for entry in batch:
                self._deleted(rows[entry.row_id], entry)

    def _deleted(self, row, entry: PendingWrite) -> None:
        model = type(row)
        with transaction.atomic():
            fresh = model.objects.for_org(self.organization_id, include_archived=True).filter(
                pk=row.pk
            )
            extra = dict(fresh.values_list("source_extra", flat=True).first() or {})
            extra[DELETED_IN_AIRTABLE] = True
            fresh.update(source_extra=extra, last_synced_at=self.now())
            self.entries().filter(pk=entry.pk, version=entry.version).delete()
        self.report.deleted += 1

    # -- outcomes --------------------------------------------------------------------------

    def _done(self, plan: _Plan, created: dict | None) -> None:
        row, entry = plan.row, plan.entry
        model = type(row)
        with transaction.atomic():
            fresh = model.objects.for_org(self.organization_id, include_archived=True).filter(
                pk=row.pk
            )
            current = fresh.values_list("source_extra", flat=True).first()
            row.source_extra = current or {}
            stamp_base(row, plan.keys, plan.links)
            changes = {
                "source_extra": row.source_extra,
                "source_hash": "",  # the next pull reads the record again
                "last_synced_at": self.now(),
            }
            if created is not None:
                changes.update(
                    source_record_id=created["id"],
                    source_table=self.mapping.entities[entry.entity].table_id,
                    source_connection_id=self.connection.pk,
                )
            fresh.update(**changes)
            entries = self.entries().filter(pk=entry.pk)
            if plan.problems:
                entries.update(
                    state=PendingWrite.State.FAILED,
                    reason="Not written: " + "; ".join(plan.problems) + ".",
                    attempts=entry.attempts + 1,
                )
                self.report.failed += 1
            elif not entries.filter(version=entry.version).delete()[0]:
                entries.update(create_sent_at=None)  # changed meanwhile: pushed again next
        if not plan.fields and created is None:
            self.report.acknowledged += 1

    def _wait(self, plan: _Plan) -> None:
        self.entries().filter(pk=plan.entry.pk).update(
            state=PendingWrite.State.WAITING, reason=plan.waiting
        )
        self.report.waiting += 1

    def _fail(self, entries: list[PendingWrite], reason: str) -> None:
        self.entries().filter(pk__in=[e.pk for e in entries]).update(
            state=PendingWrite.State.FAILED, reason=reason
        )
        self.report.failed += len(entries)

    def _retry(self, entries: list[PendingWrite], reason: str) -> None:
        now = self.now()
        for entry in entries:
            attempts = entry.attempts + 1
            when = now + retry_delay(attempts)
            self.entries().filter(pk=entry.pk).update(
                state=PendingWrite.State.PENDING,
                attempts=attempts,
                next_attempt_at=when,
                reason=f"{reason}; trying again at {timezone.localtime(when):%H:%M:%S}.",
            )
        self.report.retrying += len(entries)

    def _refused(self, batch: list[_Plan], refused: WriteRefused) -> None:
        entries = [plan.entry for plan in batch]
        if refused.status in (401, 403) and refused.kind != "MODEL_ID_NOT_FOUND":
            if len(batch) == 1 and batch[0].record_id and refused.status == 403:
                # Newer answers for a deleted record are 403 too: ask whether it is there.
                try:
                    still = self.client.records_by_id(
                        self.mapping.entities[batch[0].entry.entity].table_id,
                        [batch[0].record_id],
                    )
                except SyncError:
                    still = [None]
                if not still:
                    self._fail(entries, "The record was deleted in Airtable.")
                    return
            self._fail(entries, NO_WRITE_SCOPE if refused.status == 403 else str(refused))
            self._block(NO_WRITE_SCOPE if refused.status == 403 else str(refused))
            return
        if refused.status == 404:
            self._fail(entries, "The record was deleted in Airtable.")
            return
        detail = refused.detail or refused.kind or f"HTTP {refused.status}"
        self._fail(entries, f"Airtable refused it: {detail}")

    def _block(self, reason: str) -> None:
        Connection.objects.for_org(self.organization_id).filter(pk=self.connection.pk).update(
            write_blocked=reason
        )
        self.connection.write_blocked = reason


def entity_is_check_in_author(model, name: str) -> bool:
    return model is ENTITY_MODELS["check_in"] and name == "author"


def _links(entity: str, entity_mapping: EntityMapping) -> dict[str, Attr]:
    return {
        name: attr
        for name, attr in ENTITIES[entity].items()
        if attr.kind == "link" and name in entity_mapping.fields
    }


def _is(record: dict, plan: _Plan) -> bool:
    if "id" in record:
        return record["id"] == plan.record_id
    return record.get("fields") is plan.fields
