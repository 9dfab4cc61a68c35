"""`manage.py seed_demo`: the demo users, their memberships, and which organization goes which way.

Called by the command inside a transaction. The organizations are specified in demo/data/
(demo.specs) and planned by demo.builder:
- The main organization, Northwind Health, goes through the real sync: its plan is written
  into an Airtable base with the mess of a real one (`demo.airtable_base`), served by a fake
  Airtable inside the process and synced like any connected base. Its rows carry provenance
  (source table and record id) and its first sync run lists the issues the mess causes.
- Northwind Labs, the second organization, is saved straight from its plan (`OrgBuilder.save()`).

Idempotent: an organization whose slug already exists is left exactly as it is (it is never
duplicated or reset; `resync=True` syncs the main one again from today's base instead); the
demo users, their memberships and their directory entries are made sure of on every run.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils import timezone

from demo import airtable_base
from demo.builder import OrgBuilder
from demo.specs import NORTHWIND, NORTHWIND_LABS, USERS, DemoUser, OrgSpec
from health import services as health_services
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import Membership, Organization, Person

URL = "http://127.0.0.1:8000"  # where `make run` serves the app
DEMO_PASSWORD = "missionos-demo"  # published on purpose: it is the demo login

ORGANIZATIONS = (NORTHWIND, NORTHWIND_LABS)


# --------------------------------------------------------------------------------------------
# What a run reports
# --------------------------------------------------------------------------------------------


@dataclass
class OrgReport:
    organization: Organization
    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    # Northwind Health: the sync that loaded it in this run, or notes on how it was loaded before.
    sync: airtable_base.DemoSync | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class UserReport:
    username: str
    created: bool
    roles: list[tuple[str, str]] = field(default_factory=list)  # (organization name, role)


@dataclass
class SeedReport:
    organizations: list[OrgReport] = field(default_factory=list)
    users: list[UserReport] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = []
        for org in self.organizations:
            if org.created:
                state = "created"
            elif org.sync is not None:
                state = "already there, synced again from today's demo base"
            else:
                state = "already there, left as it was"
            counts = ", ".join(f"{name}: {n}" for name, n in org.counts.items())
            lines.append(f"{org.organization.name} ({org.organization.slug}): {state}")
            lines.append(f"    {counts}")
            if org.sync is not None:
                lines.extend(org.sync.lines(site=URL))
            lines.extend(f"    {note}" for note in org.notes)
        lines.append("")
        lines.append(f"Open {URL} and sign in with one of these (password {DEMO_PASSWORD}):")
        width = max(len(user.username) for user in self.users)
        for user in self.users:
            roles = ", ".join(f"{role} in {name}" for name, role in user.roles)
            lines.append(
                f"    username {user.username:<{width}}  password {DEMO_PASSWORD}  {roles}"
            )
        return lines


def organization_counts(organization: Organization) -> dict[str, int]:
    scoped = {
        "people": Person,
        "cycles": Cycle,
        "pathways": Pathway,
        "objectives": Objective,
        "key results": KeyResult,
        "check-ins": CheckIn,
        "projects": Project,
        "tasks": Task,
    }
    return {
        name: model.objects.for_org(organization, include_archived=True).count()
        for name, model in scoped.items()
    }


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def seed_demo(
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    resync: bool = False,
    served=None,
) -> SeedReport:
    """Create the demo organizations that do not exist yet, and make sure of the demo users.

    The main organization is loaded by syncing its demo base (demo.airtable_base); with `resync`,
    an existing one is synced again from today's base. Call inside `transaction.atomic()`:
    a failed sync raises (demo.airtable_base.DemoSyncError) and nothing is kept. `served`: the
    fake of `airtable_base.seeding_base()` around that transaction (else the sync serves its own).
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    report = SeedReport()
    users = {spec.username: ensure_user(spec, report) for spec in USERS}
    for spec in ORGANIZATIONS:
        organization = Organization.objects.filter(slug=spec.slug).first()
        created = organization is None
        synced, notes = None, []
        if spec is NORTHWIND and (created or resync):
            if created:
                organization = Organization.objects.create(name=spec.name, slug=spec.slug)
            synced = airtable_base.sync_demo_base(
                organization, today=today, existing=not created, served=served
            )
        elif created:
            organization = OrgBuilder(spec, users=users, today=today, now=now).build()
        elif spec is NORTHWIND:
            notes = airtable_base.loaded_before(organization)
        ensure_members(spec, organization, users, now=now)
        if synced is not None:
            airtable_base.after_sync(organization)
        if created or synced is not None:
            # The data health page has the demo's mess to show from the first visit, and a
            # trend: the same plan judged as of three earlier weeks (what was not yet overdue
            # or stale then), then now.
            for weeks_ago in (3, 2, 1, 0):
                moment = now - datetime.timedelta(weeks=weeks_ago)
                health_services.findings_compute(organization=organization, now=moment)
        report.organizations.append(
            OrgReport(organization, created, organization_counts(organization), synced, notes)
        )
    # The demo users' memberships, in whichever organizations they are.
    roles = (
        Membership.objects.unscoped()
        .filter(user__in=users.values())
        .select_related("organization", "user")
    )
    by_user = {user.username: user for user in report.users}
    for membership in roles.order_by("user__username", "organization__name"):
        by_user[membership.user.username].roles.append(
            (membership.organization.name, membership.get_role_display().lower())
        )
    return report


def ensure_user(spec: DemoUser, report: SeedReport):
    """The user exists, is active and signs in with the demo password."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=spec.username,
        defaults={"first_name": spec.first_name, "last_name": spec.last_name, "email": spec.email},
    )
    if created or not user.is_active or not user.check_password(DEMO_PASSWORD):
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
    report.users.append(UserReport(spec.username, created))
    return user


def ensure_members(spec: OrgSpec, organization: Organization, users: dict, *, now) -> None:
    """Each demo user is a member (an existing role is kept) and has a directory entry."""
    for username, role in spec.members.items():
        user = users[username]
        membership, created = Membership.objects.for_org(organization).get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        # Login lands in the organization used last: make that the main one for the demo user.
        if created and username == "demo" and spec is NORTHWIND:
            Membership.objects.for_org(organization).filter(pk=membership.pk).update(
                last_used_at=now
            )
        people = Person.objects.for_org(organization, include_archived=True)
        if people.filter(user=user).exists():
            continue
        person = (
            people.filter(user__isnull=True, email__iexact=user.email).order_by("pk").first()
            or people.filter(user__isnull=True, name=user.get_full_name()).order_by("pk").first()
        )
        if person is None:
            person = Person(organization=organization, name=user.get_full_name(), email=user.email)
        person.user = user
        person.save()
