"""Writes about organizations, memberships and people."""

from __future__ import annotations

from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from orgs import audit, selectors
from orgs.changes import record_written
from orgs.models import (
    Activity,
    CheckInCadence,
    Membership,
    Organization,
    OrgOwned,
    Person,
    Role,
)


def membership_mark_used(*, membership: Membership) -> None:
    membership.last_used_at = timezone.now()
    Membership.objects.for_user(membership.user_id).filter(pk=membership.pk).update(
        last_used_at=membership.last_used_at
    )


def membership_create(
    *, organization: Organization, user: AbstractBaseUser, role: Role
) -> Membership:
    """Make `user` a member. No page calls this but through an accepted invitation
    (orgs.invitations.invitation_accept): nobody is added without their consent."""
    return Membership.objects.create(organization=organization, user=user, role=role)


@transaction.atomic
def membership_change_role(
    *, membership: Membership, role: Role, actor: AbstractBaseUser | None = None
) -> Membership:
    stored = (
        Membership.objects.for_org(membership.organization_id)
        .select_for_update()
        .select_related("user")
        .get(pk=membership.pk)
    )
    if stored.role == Role.OWNER and role != Role.OWNER:
        _ensure_not_last_owner(stored)
    before = stored.get_role_display()
    stored.role = role
    stored.save(update_fields=["role"])
    if stored.get_role_display() != before:
        _audit_membership(stored, actor, "changed role", [before, stored.get_role_display()])
    events.publish_membership(stored.organization_id, stored.user_id)  # their open streams
    return stored


@transaction.atomic
def membership_remove(*, membership: Membership, actor: AbstractBaseUser | None = None) -> None:
    stored = (
        Membership.objects.for_org(membership.organization_id)
        .select_for_update()
        .select_related("user")
        .get(pk=membership.pk)
    )
    if stored.role == Role.OWNER:
        _ensure_not_last_owner(stored)
    _audit_membership(stored, actor, "removed", [stored.get_role_display(), None])
    stored.delete()
    events.publish_membership(stored.organization_id, stored.user_id)  # their open streams end


def _audit_membership(membership: Membership, actor, action: str, role: list) -> None:
    audit.record(
        organization_id=membership.organization_id,
        action=action,
        kind="membership",
        target_id=membership.pk,
        label=membership.user.get_username(),
        changes={"role": role},
        actor=actor,
    )


def _ensure_not_last_owner(membership: Membership) -> None:
    # Lock the owners' rows so two concurrent demotions cannot both pass the check.
    owners = (
        Membership.objects.for_org(membership.organization_id)
        .select_for_update()
        .filter(role=Role.OWNER)
    )
    if len(owners) <= 1:
        raise ValidationError("An organization needs at least one owner.")


def _locked(membership: Membership) -> Membership:
    """The membership as stored, locked until the transaction ends."""
    memberships = Membership.objects.for_org(membership.organization_id)
    return memberships.select_for_update().get(pk=membership.pk)


class ActivitySubject(Protocol):
    """A record the activity feed can name and link to."""

    organization_id: int

    def activity_target(self) -> tuple[str, int | None, str]: ...


def activity_record(
    *,
    record: ActivitySubject,
    actor: AbstractBaseUser | None,
    verb: str,
    detail: str = "",
    subject: str = "",
) -> Activity:
    """Add a line to the organization's activity feed (call inside the change's transaction).
    The subject is the record's name unless given."""
    target, target_id, anchor = record.activity_target()
    return Activity.objects.create(
        organization_id=record.organization_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        subject=(subject or str(record))[:300],
        detail=detail[:200],
        target=target,
        target_id=target_id,
        anchor=anchor,
    )


@transaction.atomic
def record_save(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> OrgOwned:
    """Validate and save a plan record built by a form (pathway, objective, key result, cycle,
    person), log each field's change in the audit log (orgs.audit), note it in the activity
    feed and announce it to the organization's open pages."""
    created = record.pk is None
    record.full_clean()
    before = audit.stored(record)
    record.save()
    record_written(record=record, actor=actor)
    changed = audit.record_change(row=record, before=before, actor=actor)
    if created or changed:  # a form saved untouched is no activity
        activity_record(record=record, actor=actor, verb="added" if created else "edited")
    events.publish(record.organization_id, events.PLAN)
    return record


def person_save(*, person: Person, actor: AbstractBaseUser | None = None) -> Person:
    """Validate and save a directory entry built by a form (new or edited)."""
    person.name = " ".join(person.name.split())
    person.email = person.email.strip().lower()
    holder = selectors.person_with_email(
        organization=person.organization, email=person.email, other_than=person.pk
    )
    if holder is not None:
        raise ValidationError({"email": selectors.email_taken_message(holder)})
    return record_save(record=person, actor=actor)


@transaction.atomic
def own_cadences_save(*, user: AbstractBaseUser, cadences: dict[int, str]) -> list[Person]:
    """Set the check-in cadence of the user's own directory entries (person id -> cadence),
    saved as an admin's edit of the person is (person_save: audit log, write-back, live
    pages). -> the people whose cadence changed. Raises Person.DoesNotExist when an id is not
    one of the user's own (someone else's, another organization's, departed) and
    ValidationError for an unknown cadence: then nothing is changed."""
    own = selectors.own_people(user=user).filter(pk__in=list(cadences))
    people = {person.pk: person for person in own}
    if set(cadences) - set(people):
        raise Person.DoesNotExist("Only your own check-in cadence can be set.")
    if any(value not in CheckInCadence.values for value in cadences.values()):
        raise ValidationError("Choose weekly, every two weeks or monthly.")
    changed = []
    for person_id, value in sorted(cadences.items()):
        person = people[person_id]
        if person.check_in_cadence != value:
            person.check_in_cadence = value
            changed.append(person_save(person=person, actor=user))
    return changed
