"""Reads about organizations, memberships and people."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.utils import timezone

from orgs.models import OPEN_INVITATION, AuditEntry, Invitation, Membership, Organization, Person
from orgs.roles import LEAST_ROLE, Action, Role


def memberships_of(*, user: AbstractBaseUser) -> list[Membership]:
    """All of a signed-in user's memberships with their organizations, by organization name:
    loaded with the user by orgs.auth.MembershipsBackend, else here, once per user object.
    The organization in a URL is found among them, and the switcher lists them."""
    loaded = getattr(user, "loaded_memberships", None)
    if loaded is None:
        loaded = user.loaded_memberships = list(user_memberships(user=user))
    return loaded


def header_key(*, user: AbstractBaseUser, membership: Membership) -> tuple:
    """All that a page's header shows of its viewer (name, staff link, role, the organization
    switcher): part of the key of a page cached for many viewers
    (missionos.page_cache.plan_page)."""
    return (
        user.pk,
        user.get_username(),
        user.is_staff,
        membership.role,
        # The switcher's links depend on the role in each organization (orgs.context_processors).
        tuple(
            (m.organization.slug, m.organization.name, m.role) for m in memberships_of(user=user)
        ),
    )


def membership_for_slug(*, user: AbstractBaseUser, slug: str) -> Membership | None:
    return next((m for m in memberships_of(user=user) if m.organization.slug == slug), None)


def user_memberships(*, user: AbstractBaseUser) -> QuerySet[Membership]:
    return Membership.objects.for_user(user).select_related("organization")


def memberships_with_user(*, user_id: int | str) -> list[Membership]:
    """A user's memberships with the user and each organization, in one query (for
    orgs.auth.MembershipsBackend), by organization name. Every request runs it: sorting the
    few rows here spares building an ORDER BY each time, a tenth of the request's CPU."""
    memberships = Membership.objects.for_user(user_id).select_related("organization", "user")
    return sorted(memberships.order_by(), key=lambda m: (m.organization.name, m.organization_id))


def user_landing_organization(*, user: AbstractBaseUser) -> Organization | None:
    """The organization a user lands in after login: the one they used last, else the first."""
    membership = (
        user_memberships(user=user)
        .order_by(F("last_used_at").desc(nulls_last=True), "organization__name")
        .first()
    )
    return membership.organization if membership else None


def organization_members(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(organization).select_related("user").order_by("user__username")
    )


def organization_people(
    *, organization: Organization, include_departed: bool = True
) -> QuerySet[Person]:
    people = Person.objects.for_org(organization).select_related("user")
    if not include_departed:
        people = people.filter(departed_on__isnull=True)
    return people


def organization_open_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too: they can be sent again)."""
    return (
        Invitation.objects.for_org(organization)
        .filter(OPEN_INVITATION)
        .select_related("invited_by")
        .order_by("expires_at", "id")
    )


def invitation_for_token_hash(*, token_hash: str, lock: bool = False) -> Invitation | None:
    """The invitation an emailed link names, whatever its organization (the link is the
    capability; orgs.invitations.invitation_standing says what it allows). `lock`: held until
    the transaction ends, for accepting it."""
    invitations = Invitation.objects.unscoped()
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    return (
        invitations.select_related("organization", "invited_by")
        .filter(token_hash=token_hash)
        .first()
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to (empty: everything). Days are the current time
    zone's, both included."""

    actor: str = ""  # an actor's name as the log keeps it (AuditEntry.actor_label)
    kind: str = ""
    action: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def audit_entries(*, organization: Organization, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The organization's audit entries that match `filters`, newest first."""
    entries = AuditEntry.objects.for_org(organization)
    if filters.actor:
        entries = entries.filter(actor_label=filters.actor)
    if filters.kind:
        entries = entries.filter(target_kind=filters.kind)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.since is not None:
        entries = entries.filter(created_at__gte=_midnight(filters.since))
    if filters.until is not None:
        entries = entries.filter(created_at__lt=_midnight(filters.until + datetime.timedelta(1)))
    return entries.order_by("-created_at", "-id")


def audit_filter_choices(*, organization: Organization) -> dict[str, list[str]]:
    """Who has acted and which actions were taken in the organization's log, for the filters
    (two queries, whatever the size of the log)."""
    entries = AuditEntry.objects.for_org(organization)
    return {
        name: list(entries.order_by(name).values_list(name, flat=True).distinct())
        for name in ("actor_label", "action")
    }


def own_people(*, user: AbstractBaseUser) -> QuerySet[Person]:
    """The user's own directory entries (Person.user), one at most per organization they
    belong to, not departed, with each organization, by its name: whose check-in cadence the
    user sets for themselves (Notifications)."""
    return (
        Person.objects.for_member(user)
        .filter(user=user, departed_on__isnull=True)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def person_with_email(
    *, organization: Organization, email: str, other_than: int | None = None
) -> Person | None:
    """The directory entry (departed or archived too) that has `email` in any case, but for
    the person `other_than` (the one being edited)."""
    if not email.strip():
        return None
    return (
        Person.objects.for_org(organization, include_archived=True)
        .filter(email__iexact=email.strip())
        .exclude(pk=other_than)
        .order_by("pk")
        .first()
    )


def email_taken_message(person: Person) -> str:
    where = " (departed)" if person.departed_on else ""
    return f"{person.name}{where} already has the email {person.email}: edit that person instead."


ACTION_TEXT = {
    "check_in": "Check in on key results (and edit or delete their own check-ins)",
    "comment": "Comment on objectives and key results, mentioning people",
    "edit_tasks": "Add, edit and move tasks",
    "edit_plan": "Change the plan: cycles, pathways, objectives, key results, projects",
    "manage_people": "Keep the people directory",
    "manage_sync": "Connect Airtable, map its tables, run and schedule the sync",
    "manage_members": "Invite members and change their roles",
    "view_audit": "Read and export the audit log",
}


def role_table() -> list[dict]:
    """Each role with what it may do, as orgs.roles decides it (for the help page)."""
    table = []
    for role in Role:
        allowed = ["See every page of the organization's plan"] + [
            ACTION_TEXT.get(str(action), str(action))
            for action in Action
            if role.allows(LEAST_ROLE[action])
        ]
        table.append({"role": role, "allows": allowed})
    return table
