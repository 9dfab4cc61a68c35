"""Writes about check-ins: made, edited (earlier versions kept), deleted and restored; a key
result's current value follows its latest."""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from okrs import formatting
from okrs.models import (
    CheckIn,
    CheckInRevision,
    KeyResult,
)
from orgs import audit
from orgs.changes import record_written
from orgs.models import (
    DELETE_IN_AIRTABLE,
    DELETED_IN_AIRTABLE,
    Activity,
    Membership,
    Organization,
)
from orgs.roles import Action
from orgs.services import activity_record


def _check_in_detail(check_in: CheckIn, key_result: KeyResult) -> str:
    return formatting.key_result_value_text(check_in.value, key_result)


def check_ins_noted(*, organization: Organization, check_ins: list[CheckIn], by: str = "") -> None:
    """Activity lines for check-ins recorded elsewhere than `check_in_create` (brought in by
    the sync, built by the demo), dated when each was made, so the feed never reads "No
    activity yet" beside the check-ins. `by` ("Airtable") is who a line names when the
    check-in has no author (it read "Someone … from Airtable")."""
    key_results = KeyResult.objects.for_org(organization, include_archived=True).in_bulk(
        {c.key_result_id for c in check_ins if c.key_result_id}
    )
    lines = []
    for check_in in check_ins:
        key_result = key_results.get(check_in.key_result_id)
        if key_result is None:
            continue
        target, target_id, anchor = key_result.activity_target()
        lines.append(
            Activity(
                organization_id=check_in.organization_id,
                actor_id=check_in.author_id,
                actor_label="" if check_in.author_id else by[:60],
                verb="checked in on",
                subject=str(key_result)[:300],
                detail=_check_in_detail(check_in, key_result)[:200],
                target=target,
                target_id=target_id,
                anchor=anchor,
                occurred_at=check_in.checked_in_at,
            )
        )
    Activity.objects.bulk_create(lines, batch_size=500)


def check_in_create(
    *,
    key_result: KeyResult,
    value: Decimal,
    confidence: int | None,
    note: str = "",
    author: AbstractBaseUser | None,
    checked_in_at: datetime.datetime | None = None,
) -> CheckIn:
    """Record progress on a key result; its current value follows the latest check-in.

    The check-in is validated by its model (`CheckIn.clean`): a ValidationError names the
    field, e.g. a value other than 0 or 1 for a yes/no key result."""
    check_in = CheckIn(
        organization_id=key_result.organization_id,
        key_result=key_result,
        value=value,
        confidence=confidence,
        note=note.strip(),
        author=author,
        checked_in_at=checked_in_at or timezone.now(),
    )
    check_in.full_clean()
    check_in.save()
    record_written(record=check_in, actor=author)
    before = copy.copy(key_result)
    key_result_follow_latest_check_in(key_result=key_result, actor=author)
    audit.record_change(
        row=key_result,
        before=before,
        actor=author,
        action="checked in",
        fields=("current_value", "confidence"),
        extra={
            "check_in": [None, audit.shown(Decimal(check_in.value))],
            **({"note": [None, check_in.note]} if check_in.note else {}),
        },
    )
    detail = _check_in_detail(check_in, key_result)
    activity_record(record=key_result, actor=author, verb="checked in on", detail=detail)
    events.publish(key_result.organization_id, events.PLAN)
    return check_in


def check_in_changeable(*, check_in: CheckIn, membership: Membership) -> bool:
    """Its author may edit or delete a check-in; admins and owners any."""
    if membership.organization_id != check_in.organization_id:
        return False
    return membership.allows(Action.EDIT_PLAN) or (
        check_in.author_id is not None and check_in.author_id == membership.user_id
    )


def _check_in_label(check_in: CheckIn) -> str:
    return f"{check_in.key_result}: {Decimal(check_in.value).normalize():f}"


@transaction.atomic
def check_in_update(
    *,
    check_in: CheckIn,
    value: Decimal,
    confidence: int | None,
    note: str = "",
    actor: AbstractBaseUser | None,
) -> CheckIn:
    """Edit a check-in, keeping the version before as a revision (shown as "edited" in the
    history); the key result follows its latest check-in again, and a synced check-in is
    queued for write-back like any edit. Who may is `check_in_changeable` (the views ask)."""
    if check_in.archived_at is not None:
        raise ValidationError("This check-in was deleted; restore it first.")
    before = copy.copy(check_in)
    note = note.strip()
    if (Decimal(value), confidence, note) == (
        Decimal(check_in.value),
        check_in.confidence,
        check_in.note,
    ):
        return check_in  # nothing changed: no revision, no noise
    check_in.value, check_in.confidence, check_in.note = value, confidence, note
    check_in.edited_at = timezone.now()
    check_in.full_clean()
    CheckInRevision.objects.create(
        organization_id=check_in.organization_id,
        check_in=check_in,
        value=before.value,
        confidence=before.confidence,
        note=before.note,
        checked_in_at=before.checked_in_at,
        edited_by=actor if actor is not None and actor.is_authenticated else None,
        edited_at=check_in.edited_at,
    )
    check_in.save()
    record_written(record=check_in, actor=actor)
    audit.record_change(
        row=check_in,
        before=before,
        actor=actor,
        action=audit.EDITED,
        fields=("value", "confidence", "note"),
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="edited a check-in on")
    return check_in


@transaction.atomic
def check_in_delete(*, check_in: CheckIn, actor: AbstractBaseUser | None) -> CheckIn:
    """Delete a check-in: it is archived and kept (admins see it as deleted and may restore
    it), out of every figure; the key result follows its latest check-in left (its start value
    when none is). A synced check-in's Airtable record is deleted by the write-back."""
    if check_in.archived_at is not None:
        return check_in
    check_in.archived_at = timezone.now()
    check_in.deleted_by = actor if actor is not None and actor.is_authenticated else None
    fields = ["archived_at", "deleted_by", "updated_at"]
    if check_in.source_record_id:
        check_in.source_extra = {**(check_in.source_extra or {}), DELETE_IN_AIRTABLE: True}
        fields.append("source_extra")
    check_in.save(update_fields=fields)
    record_written(record=check_in, actor=actor)
    audit.record(
        organization_id=check_in.organization_id,
        action="deleted",
        kind="check_in",
        target_id=check_in.pk,
        label=_check_in_label(check_in),
        changes={"deleted": [None, "yes"]},
        actor=actor,
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="deleted a check-in on")
    return check_in


@transaction.atomic
def check_in_restore(*, check_in: CheckIn, actor: AbstractBaseUser | None) -> CheckIn:
    """Bring back a check-in a person deleted (admins: the views ask). A synced one whose
    Airtable record is already gone is made anew there by the write-back."""
    if check_in.archived_at is None or (
        check_in.deleted_by_id is None
        and not ((check_in.source_extra or {}).get(DELETE_IN_AIRTABLE))
    ):
        raise ValidationError("Only a check-in someone deleted here can be restored.")
    check_in.archived_at = None
    check_in.deleted_by = None
    extra = dict(check_in.source_extra or {})
    extra.pop(DELETE_IN_AIRTABLE, None)
    if extra.pop(DELETED_IN_AIRTABLE, None):
        check_in.source_record_id = None
        check_in.source_hash = ""
    check_in.source_extra = extra
    check_in.save()
    record_written(record=check_in, actor=actor)
    audit.record(
        organization_id=check_in.organization_id,
        action=audit.RESTORED,
        kind="check_in",
        target_id=check_in.pk,
        label=_check_in_label(check_in),
        changes={"deleted": ["yes", None]},
        actor=actor,
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="restored a check-in on")
    return check_in


def _key_result_after_check_in_change(
    *, check_in: CheckIn, actor: AbstractBaseUser | None, verb: str
) -> None:
    key_result = KeyResult.objects.for_org(check_in.organization_id, include_archived=True).get(
        pk=check_in.key_result_id
    )
    before = copy.copy(key_result)
    if key_result.check_ins.live().exists():
        key_result_follow_latest_check_in(key_result=key_result, actor=actor)
    else:
        # Its only check-in is gone: back where it started, not started again.
        key_result.current_value, key_result.confidence = key_result.start_value, None
        key_result.save(update_fields=["current_value", "confidence", "updated_at"])
        record_written(record=key_result, actor=actor)
    audit.record_change(
        row=key_result, before=before, actor=actor, fields=("current_value", "confidence")
    )
    activity_record(record=key_result, actor=actor, verb=verb)
    events.publish(key_result.organization_id, events.PLAN)


@transaction.atomic
def key_result_follow_latest_check_in(
    *, key_result: KeyResult, actor: AbstractBaseUser | None = None
) -> KeyResult:
    """Make the key result's current value, and its confidence when that check-in gives one,
    those of its latest live check-in: after a check-in is recorded, edited, moved, archived or
    deleted, whoever did it (this module, the admin).

    "Latest" is by `checked_in_at`, ties to the later row: the order in which the dashboard
    (`okrs.rollups.key_result_value`) and the charts (`okrs.history`) read history. Archived
    (deleted-in-Airtable) check-ins do not count. With no live check-in left, the values stay
    as they are: there is nothing to follow, and the admin lets them be edited by hand again.
    """
    # The key result is already scoped, and so are its check-ins (a related manager).
    latest = key_result.check_ins.live().order_by("-checked_in_at", "-pk").first()
    if latest is None:
        return key_result
    key_result.current_value = latest.value
    if latest.confidence is not None:
        key_result.confidence = latest.confidence
    key_result.save(update_fields=["current_value", "confidence", "updated_at"])
    record_written(record=key_result, actor=actor)
    return key_result
