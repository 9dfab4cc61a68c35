"""What the reconciler needs to know of each entity: its model and the hooks where it differs.

One adapter per entity, registered in `ADAPTERS` by entity name in catalogue order. The base
class does what most entities need (nothing special); a subclass says only where its entity is
different: values a row needs to exist, records that cannot be represented, values kept from
the row an update replaces. Links are not per-entity code: the catalogue (`Attr.target`) and
the model's foreign keys decide them (`sync.reconcile.links`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import OrgOwned, Person
from sync.mapping.catalogue import LABEL_ATTRS
from sync.mapping.document import EntityMapping
from sync.models import SyncIssue

if TYPE_CHECKING:
    from sync.reconcile.records import Converted


class EntityAdapter:
    """One entity as the reconciler writes it. Subclasses set `entity` and `model`."""

    entity: ClassVar[str]
    model: ClassVar[type[OrgOwned]]
    # Attributes read from Airtable that are not model fields: they decide other values.
    virtual_attributes: ClassVar[frozenset[str]] = frozenset()
    # Whether a reference to a record of this entity may name it by email as well as by name.
    matched_by_email: ClassVar[bool] = False
    # The model's check constraints this adapter keeps (`keep_checks`, or `complete` where a
    # record that breaks one cannot be a row): a test fails for a constraint nobody keeps.
    checks_kept: ClassVar[frozenset[str]] = frozenset()
    # Attributes no two rows of the organization share (case ignored); a repeat is left empty
    # and listed (Reconciler._keep_unique), as the model's unique constraint requires.
    unique_attributes: ClassVar[tuple[str, ...]] = ()

    @property
    def label(self) -> str:
        """The model field a record is named by, to match references by name."""
        return LABEL_ATTRS[self.entity]

    def complete(
        self,
        values: dict,
        *,
        item: Converted,
        entity_mapping: EntityMapping,
        created_time: datetime.datetime,
        now: datetime.datetime,
    ) -> None:
        """Fill in what a row needs to exist, or mark the record `item.skip` (with an issue
        saying why) when it cannot be represented at all. `values` are model field values."""

    def before_update(self, row: OrgOwned, item: Converted) -> None:
        """Adjust Airtable's values (`item.values`) against the row they are about to replace."""

    def keep_checks(
        self, row: OrgOwned, item: Converted, entity_mapping: EntityMapping
    ) -> list[tuple[str, str, str]]:
        """Make the row (new, or stored with Airtable's values applied) meet its model's check
        constraints by leaving empty the Airtable value that breaks one, in the row and in
        `item.values`. -> the issues that says (kind, field id, reason)."""
        return []


class PersonAdapter(EntityAdapter):
    entity = "person"
    model = Person
    virtual_attributes = frozenset({"active", "status"})
    matched_by_email = True
    unique_attributes = ("email",)

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        attributes = item.attributes
        departed = attributes.get("status") == "departed" or (
            "active" in entity_mapping.fields and not attributes.get("active")
        )
        if departed and not values.get("departed_on"):
            # The base says they left but not when: the first run that noticed it dates it.
            values["departed_on"] = now.date()

    def before_update(self, row, item) -> None:
        undated_departure = not item.attributes.get("departed_on")
        if undated_departure and row.departed_on and item.values.get("departed_on"):
            item.values["departed_on"] = row.departed_on  # dated when first noticed


class CycleAdapter(EntityAdapter):
    entity = "cycle"
    model = Cycle
    # Both dates are required, so a record that breaks the order cannot be a row at all.
    checks_kept = frozenset({"cycle_ends_after_start"})

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        starts, ends = values.get("starts_on"), values.get("ends_on")
        if not starts or not ends or ends <= starts:
            item.skip = True
            item.issues.append(
                (
                    SyncIssue.Kind.VALUE,
                    entity_mapping.fields.get("ends_on", ""),
                    "a cycle needs a start date and a later end date",
                )
            )


class PathwayAdapter(EntityAdapter):
    entity = "pathway"
    model = Pathway


class ObjectiveAdapter(EntityAdapter):
    entity = "objective"
    model = Objective


class KeyResultAdapter(EntityAdapter):
    entity = "key_result"
    model = KeyResult

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        for name in ("start_value", "current_value", "target_value"):
            if values.get(name) is None:
                values[name] = Decimal(0)
        if values.get("weight") is None:
            values["weight"] = Decimal(1)
        if values.get("metric_type") is None:
            values.pop("metric_type", None)


class CheckInAdapter(EntityAdapter):
    entity = "check_in"
    model = CheckIn

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        if values.get("value") is None:
            item.skip = True
        if not values.get("checked_in_at"):
            values["checked_in_at"] = created_time


class _StatusFromModelDefault(EntityAdapter):
    """A record without a status leaves it to the model's default (for new rows)."""

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        if values.get("status") is None:
            values.pop("status", None)


class _ActivityFromAirtable(_StatusFromModelDefault):
    """Rows with a last activity time (projects, tasks): a synced one was last active when
    Airtable last changed it (or made it), not when the sync first saw it: else nothing synced
    could ever look abandoned."""

    def complete(self, values, *, item, entity_mapping, created_time, now) -> None:
        super().complete(
            values, item=item, entity_mapping=entity_mapping, created_time=created_time, now=now
        )
        values["last_activity_at"] = item.modified_time or created_time

    def before_update(self, row, item) -> None:
        # Activity only moves forward: what was done here since counts too.
        item.values["last_activity_at"] = max(row.last_activity_at, item.values["last_activity_at"])


class ProjectAdapter(_ActivityFromAirtable):
    entity = "project"
    model = Project
    checks_kept = frozenset({"project_ends_after_start"})

    def keep_checks(self, row, item, entity_mapping) -> list[tuple[str, str, str]]:
        starts, ends = row.starts_on, row.ends_on
        if starts is None or ends is None or ends >= starts:
            return []
        # Leave empty what Airtable says (the end when it says both): a date kept from
        # MissionOS met the constraint before this record arrived.
        cleared = "ends_on" if "ends_on" in item.values else "starts_on"
        setattr(row, cleared, None)
        item.values[cleared] = None
        which = "end date" if cleared == "ends_on" else "start date"
        reason = f"ends {ends:%-d %b %Y}, before it starts {starts:%-d %b %Y}; {which} left empty"
        return [(SyncIssue.Kind.VALUE, entity_mapping.fields.get(cleared, ""), reason)]


class TaskAdapter(_ActivityFromAirtable):
    entity = "task"
    model = Task


# Every entity of the catalogue, in its order (pulled linked-first).
ADAPTERS: dict[str, EntityAdapter] = {
    adapter.entity: adapter
    for adapter in (
        PersonAdapter(),
        CycleAdapter(),
        PathwayAdapter(),
        ObjectiveAdapter(),
        KeyResultAdapter(),
        CheckInAdapter(),
        ProjectAdapter(),
        TaskAdapter(),
    )
}

# The model of each entity.
ENTITY_MODELS: dict[str, type[OrgOwned]] = {
    entity: adapter.model for entity, adapter in ADAPTERS.items()
}


def model_entity(model: type[OrgOwned]) -> str | None:
    """The entity a model holds (None for models the sync does not fill)."""
    for entity, entity_model in ENTITY_MODELS.items():
        if entity_model is model:
            return entity
    return None
