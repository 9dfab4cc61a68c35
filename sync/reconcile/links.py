"""Links between synced rows (objective -> pathway, task -> project, project <-> objectives).

While pulling, a record's links are kept as Airtable record ids (or, for collaborators and
cycles given by name, as references by email or name) in `source_extra["links"]`. A page sets
the foreign keys it can at once, from rows this run wrote or one query per linked entity; the
rest (links to records not pulled yet, references by name, many-to-many links) are resolved
when the linked tables are complete, a chunk of rows at a time, never a query per record. A
link that still does not resolve is an issue of the run and is tried again by the next run.
Which links exist is the catalogue's (`Attr.target`) and the models' business: no entity is
special here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction

from orgs.models import Organization, OrgOwned
from sync.bulk import save_rows
from sync.mapping.catalogue import ENTITIES, Attr
from sync.mapping.document import EntityMapping, Mapping
from sync.models import SyncIssue, SyncRun
from sync.reconcile.adapters import ADAPTERS, ENTITY_MODELS
from sync.reconcile.issues import LINK_KINDS, issues_save
from sync.reconcile.records import Converted, record_issue
from sync.schema import BaseSchema

# The key in `source_extra` naming a row's links that did not resolve, so the next run tries
# them again even if Airtable's record is unchanged.
UNRESOLVED = "unresolved"
# Rows the link pass after the pull reads and writes at a time.
LINK_CHUNK = 2000
# Entities other records link to.
LINK_TARGETS = {
    attr.target for attrs in ENTITIES.values() for attr in attrs.values() if attr.kind == "link"
}


def points_at(model: type[OrgOwned], name: str, target: type[OrgOwned]) -> bool:
    """Whether the model's field of that name links to the target model. A check-in's author
    is a user, not a directory person: such a link stays in `source_extra` only."""
    try:
        return model._meta.get_field(name).related_model is target
    except Exception:
        return False


def link_attributes(entity: str) -> dict[str, Attr]:
    return {name: attr for name, attr in ENTITIES[entity].items() if attr.kind == "link"}


@dataclass
class Links:
    """The links of one run's rows. The reconciler tells it the rows it writes (`remember`,
    `unfinished`) and when a table is complete (`table_done`); `resolve_all` does the rest."""

    run: SyncRun
    organization: Organization
    schema: BaseSchema
    mapping: Mapping
    # Row ids per entity that the pass after the pull must see: many-to-many links to set, or
    # single links still unresolved (missing, by name, several).
    unfinished: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Row ids by record id of every link target written or found unchanged in this run: most
    # links resolve from here instead of a query per page.
    _row_ids: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    _name_index: dict[str, dict[str, int]] = field(default_factory=dict)
    _tables_done: set[str] = field(default_factory=set)  # entities pulled whole
    _links_done: set[str] = field(default_factory=set)  # entities whose link pass has run

    # -- while pulling ---------------------------------------------------------------------

    def mapped(self, entity: str) -> dict[str, Attr]:
        """Mapped link attributes held in a foreign key or many-to-many field of the model
        that points at the linked entity's model."""
        mapped = self.mapping.entities[entity].fields
        return {
            name: attr
            for name, attr in link_attributes(entity).items()
            if name in mapped
            and attr.target in self.mapping.entities
            and points_at(ENTITY_MODELS[entity], name, ENTITY_MODELS[attr.target])
        }

    def single(self, entity: str) -> dict[str, Attr]:
        """Link attributes held in a foreign key to the linked entity's model."""
        return {name: attr for name, attr in self.mapped(entity).items() if not attr.many}

    def page_links(self, links: dict[str, Attr], items: Iterable[Converted]) -> dict:
        """Rows for the page's linked record ids, one query per linked entity. The sync pulls
        linked tables first, so most links resolve here; the rest wait for `resolve_all`."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in items:
            for name, attr in links.items():
                wanted[attr.target].update(
                    e for e in item.links.get(name, []) if isinstance(e, str)
                )
        return {
            target: self._rows_by_record_id(target, ids) for target, ids in wanted.items() if ids
        }

    def set_single(self, entity, row, item: Converted, links: dict[str, Attr], linked) -> bool:
        """Set the row's single links. False when the pass after the pull must see the row:
        a link still unresolved (missing, by name, several) or a many-to-many link to set."""
        complete = True
        for name, attr in links.items():
            if name in item.keep_links:
                continue
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

    def remember(self, entity: str, record_id: str, pk: int) -> None:
        if entity in LINK_TARGETS:
            self._row_ids[entity][record_id] = pk

    # -- once tables are complete ----------------------------------------------------------

    def table_done(self, entity: str) -> int:
        """The entity's table has been pulled whole. Tables come linked-first, so its link
        targets are usually complete too: resolve its links now, while the next tables
        download. Returns the number of issues recorded."""
        self._tables_done.add(entity)
        targets = {attr.target for attr in self.mapped(entity).values()} - {entity}
        if all(t in self._tables_done or t not in self.mapping.entities for t in targets):
            return self._resolve_entity_links(entity)
        return 0

    def resolve_all(self) -> int:
        """Point foreign keys and many-to-many links at the rows of the linked records, for
        every entity whose links `table_done` could not resolve yet. Returns the number of
        issues recorded."""
        issues = 0
        for entity in self.mapping.entities:
            if entity not in self._links_done:
                issues += self._resolve_entity_links(entity)
        return issues

    def _resolve_entity_links(self, entity: str) -> int:
        """Covers rows written by this run and rows whose links were still dangling, a chunk at
        a time: a few queries per 2,000 rows, never one per record."""
        self._links_done.add(entity)
        links = self.mapped(entity)
        if not links:
            return 0
        entity_mapping = self.mapping.entities[entity]
        return sum(
            self._link_chunk(entity, entity_mapping, links, chunk)
            for chunk in self._rows_to_link(entity, entity_mapping, links)
        )

    def _rows_to_link(
        self, entity: str, entity_mapping: EntityMapping, links: dict[str, Attr]
    ) -> Iterator[list[OrgOwned]]:
        model = ENTITY_MODELS[entity]
        base = model.objects.for_org(self.organization).filter(source_table=entity_mapping.table_id)
        # Rows this run wrote with links to set, and rows whose links did not all resolve last
        # time (unchanged in Airtable, so not written): the records they name may exist now.
        ids = set(self.unfinished.get(entity, set()))
        ids.update(base.filter(source_extra__has_key=UNRESOLVED).values_list("pk", flat=True))
        ordered = sorted(ids)
        single = [name for name, attr in links.items() if not attr.many]
        for start in range(0, len(ordered), LINK_CHUNK):
            chunk = base.filter(pk__in=ordered[start : start + LINK_CHUNK])
            yield list(chunk.only("pk", "source_record_id", "source_extra", *single))

    def _link_chunk(
        self,
        entity: str,
        entity_mapping: EntityMapping,
        links: dict[str, Attr],
        rows: list[OrgOwned],
    ) -> int:
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
                        record_issue(
                            organization=self.organization,
                            run=self.run,
                            table=table,
                            record_id=row.source_record_id,
                            kind=SyncIssue.Kind.LINK,
                            field_id=entity_mapping.fields[name],
                            reason=f"links to {shown}, not found among the "
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
            # The rows' links are resolved again here: their link problems are these now.
            issues_save(
                self.organization,
                self.run,
                issues,
                table_id=entity_mapping.table_id,
                record_ids=[row.source_record_id for row in rows],
                kinds=LINK_KINDS,
            )
        return len(issues)

    # -- finding the linked rows -----------------------------------------------------------

    def _rows_by_record_id(self, target: str, record_ids: set[str]) -> dict[str, int]:
        """Live rows of the linked records, from this run's writes where it can."""
        known = self._row_ids.get(target, {})
        found = {rid: known[rid] for rid in record_ids if rid in known}
        missing = [rid for rid in record_ids if rid not in found]
        if not missing:
            return found
        return found | dict(
            ENTITY_MODELS[target]
            .objects.for_org(self.organization)
            .filter(
                source_table=self.mapping.entities[target].table_id,
                source_record_id__in=missing,
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
        adapter = ADAPTERS[target]
        model, label = adapter.model, adapter.label
        index: dict[str, int] = {}
        rows = model.objects.for_org(self.organization)
        columns = ["pk", label, "email"] if adapter.matched_by_email else ["pk", label]
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

    @staticmethod
    def _set_many(model, name: str, pairs: list[tuple[int, list[int]]]) -> None:
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
