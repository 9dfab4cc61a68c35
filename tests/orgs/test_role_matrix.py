"""Roles, enforced on the server: every URL of an organization × every kind of visitor.

PAGES describes each URL pattern under /o/<org_slug>/ (found by walking the URLconf: a pattern
added without an entry fails test_every_organization_url_is_described): for GET and for POST,
the lowest role allowed and what an allowed request does. A page shows its own content (200);
a write redirects and has changed the database as stated. Then each URL is requested by

- an anonymous visitor: sent to log in;
- a member of another organization only: 404;
- each role below the lowest allowed: 403, with the role it needs;
- each role from it up: the page, or the change;
- the owner, with another organization's object in the URL: 404;

and whatever was refused, and every page shown, left the database exactly as it was.

The two organizations (one with a connection synced from the fake Airtable) are built once for
the module, inside a transaction rolled back at its end; each visit runs in a savepoint of its
own, rolled back after it, so every visitor finds the same data.
"""

from __future__ import annotations

import copy
import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection as db_connection
from django.db import transaction
from django.test import Client, override_settings
from django.urls import resolve, reverse

from devtools.fakeairtable import FakeAirtable
from health import services as health_services
from health.models import DigestOptOut, Finding, HealthAction, HealthSnapshot
from okrs import services as okrs_services
from okrs.models import (
    CheckIn,
    CheckInRevision,
    Comment,
    Cycle,
    KeyResult,
    Objective,
    ObjectiveReview,
    Pathway,
    Project,
    Task,
    TaskStatus,
)
from orgs.audit import CSV_HEADER
from orgs.invitations import invitation_create
from orgs.models import Invitation, Membership, Organization, Person, Role
from sync import services as sync_services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.crypto import decrypt_token
from sync.models import Connection, RunKind, RunStatus, SyncConflict, SyncRun
from tests.factories import (
    KeyResultFactory,
    MembershipFactory,
    OrganizationFactory,
    PersonFactory,
    TaskFactory,
    UserFactory,
)
from tests.orgs.test_tenancy import org_patterns
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN, build_base

pytestmark = pytest.mark.django_db

ROLES = [Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER]
SECOND_BASE_ID = "appSECONDBASE0001"
NEW_TOKEN = "patReplacement.0123456789abcdefNEW1"
# A field added in Airtable after the connection read the schema: reading it again finds it.
NEW_FIELD = {"id": "fldTNEWFIELD0001", "name": "Effort", "type": "number"}
FAST_POLICY = RetryPolicy(backoff=0.01)
# An XLSX file is a zip archive: it starts with the zip's signature.
XLSX_START = "PK\x03\x04"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Tenant:
    """One organization and one object of every kind its URLs name."""

    organization: Organization
    cycle: Cycle
    pathway: Pathway
    objective: Objective
    key_result: KeyResult
    project: Project
    task: Task  # overdue, so that it shows on the overdue list
    person: Person
    colleague: Membership  # a viewer who is none of the visitors: whose role changes, who leaves
    connection: Connection
    run: SyncRun  # finished: a new one may be queued
    conflict: SyncConflict  # on the task's title: changed here and in Airtable
    finding: Finding  # the overdue task is past due
    fix: HealthAction  # a fix from the data health page, to undo
    invitation: Invitation  # pending, to revoke
    next_cycle: Cycle  # after `cycle`: where its unfinished objective is carried over
    # Made once the members are (World): a check-in by the member, a comment by the owner.
    check_in: CheckIn | None = None
    comment: Comment | None = None

    @property
    def url_ids(self) -> dict[str, int]:
        """URL kwarg -> the id of this organization's object of that kind."""
        return {
            "cycle_id": self.cycle.pk,
            "pathway_id": self.pathway.pk,
            "objective_id": self.objective.pk,
            "key_result_id": self.key_result.pk,
            "project_id": self.project.pk,
            "task_id": self.task.pk,
            "person_id": self.person.pk,
            "membership_id": self.colleague.pk,
            "connection_id": self.connection.pk,
            "run_id": self.run.pk,
            "conflict_id": self.conflict.pk,
            "finding_id": self.finding.pk,
            "action_id": self.fix.pk,
            "invitation_id": self.invitation.pk,
            "check_in_id": self.check_in.pk,
            "comment_id": self.comment.pk,
        }


@dataclass
class World:
    home: Tenant
    away: Tenant
    members: dict[Role, AbstractBaseUser]  # one user per role in `home`
    stranger: AbstractBaseUser  # the owner of `away`, in nothing of `home`
    newcomer: AbstractBaseUser  # a user in no organization, to be invited to `home`
    # The database as built: every visit starts from it.
    state: dict = field(default_factory=dict, repr=False)


def build_tenant(organization: Organization, *, sync: bool) -> Tenant:
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    key_result = KeyResultFactory(organization=organization)
    task = TaskFactory(organization=organization, due_on=yesterday, status=TaskStatus.TODO)
    connection = sync_services.connection_create(
        organization=organization, name="Northwind plans", base_id=BASE_ID, token=TOKEN
    )
    run = sync_services.run_request(connection=connection, kind=RunKind.FULL)
    if sync:  # a real run against the fake, so its pages have something to show
        run = sync_services.run_execute(run_id=run.pk, policy=FAST_POLICY, limiter=NoRateLimiter())
        assert run.status == RunStatus.SUCCEEDED, run.error
    return Tenant(
        organization=organization,
        cycle=key_result.objective.cycle,
        pathway=key_result.objective.pathway,
        objective=key_result.objective,
        key_result=key_result,
        project=task.project,
        task=task,
        person=PersonFactory(organization=organization),
        colleague=MembershipFactory(
            organization=organization, role=Role.VIEWER, user=UserFactory(username="vera")
        ),
        connection=connection,
        run=run,
        conflict=SyncConflict.objects.create(
            organization=organization,
            connection=connection,
            entity="task",
            row_id=task.pk,
            attribute="title",
            missionos_value=task.title,
            missionos_shown=task.title,
            airtable_cell="Retitled in Airtable",
            airtable_shown="Retitled in Airtable",
        ),
        finding=_computed_finding(organization, task),
        fix=HealthAction.objects.create(
            organization=organization,
            kind=HealthAction.Kind.CLOSE_PROJECT,
            summary="Closed an old project",
        ),
        invitation=invitation_create(
            organization=organization,
            email="pending@example.org",
            role=Role.MEMBER,
            invited_by=None,
        ),
        next_cycle=Cycle.objects.create(
            organization=organization,
            name="Next quarter",
            starts_on=key_result.objective.cycle.ends_on + datetime.timedelta(days=1),
            ends_on=key_result.objective.cycle.ends_on + datetime.timedelta(days=92),
        ),
    )


def _computed_finding(organization: Organization, task: Task) -> Finding:
    health_services.findings_compute(organization=organization)
    return Finding.objects.for_org(organization).get(
        kind="past_due", key=f"past_due:task:{task.pk}"
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with (
        FakeAirtable(rate_limit=None, seed=3) as fake,
        override_settings(AIRTABLE_API_URL=fake.url, PASSWORD_HASHERS=FAST_HASHERS),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        build_base(fake)
        fake.grant(NEW_TOKEN, BASE_ID)
        second = fake.add_base(SECOND_BASE_ID, "Second plans", tokens={TOKEN})
        second.add_table(
            "tblSECOND0000001",
            "Tasks",
            [{"id": "fldSNAME00000001", "name": "Name", "type": "singleLineText"}],
        )
        home = build_tenant(OrganizationFactory(name="Acme Health", slug="acme"), sync=True)
        away = build_tenant(OrganizationFactory(name="Borealis Labs", slug="borealis"), sync=False)
        fake.bases[BASE_ID].table(T_TASKS).add_field(**NEW_FIELD)
        members = {}
        for role in ROLES:
            members[role] = UserFactory(username=f"{role}-of-acme")
            Membership.objects.create(user=members[role], organization=home.organization, role=role)
        stranger = UserFactory(username="owner-of-borealis")
        Membership.objects.create(user=stranger, organization=away.organization, role=Role.OWNER)
        for tenant, check_in_author, comment_author in (
            (home, members[Role.MEMBER], members[Role.OWNER]),
            (away, stranger, stranger),
        ):
            tenant.check_in = okrs_services.check_in_create(
                key_result=tenant.key_result,
                value=Decimal(12),
                confidence=6,
                author=check_in_author,
            )
            tenant.comment = okrs_services.comment_create(
                author=comment_author, body="First thoughts", objective=tenant.objective
            )
        built = World(
            home=home,
            away=away,
            members=members,
            stranger=stranger,
            newcomer=UserFactory(username="newcomer"),
        )
        # Check the deferred foreign keys now, once, rather than again after every test.
        db_connection.check_constraints()
        built.state = database_state()
        yield built
        transaction.set_rollback(True)


# -- what a request may change, and how to tell it changed nothing ---------------------------

# What any visit writes besides its purpose: its session, the login time, and which
# organization the member used last (orgs.middleware).
VISIT_BOOKKEEPING = {
    "django_session": None,
    "auth_user": {"last_login"},
    "orgs_membership": {"last_used_at"},
}


def database_state() -> dict[str, object]:
    """Every row of every table (but a visit's bookkeeping), read with plain SQL: a change
    anywhere shows, whatever the models and their managers do. On Postgres each table's rows
    are digested there, in one query (the fuzz and matrix tests take this after every request:
    reading every row into Python was a large share of the suite's time)."""
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(_postgres_state_sql())
            return dict(cursor.fetchall())
    state = {}
    with db_connection.cursor() as cursor:
        for table in db_connection.introspection.table_names():
            ignored = VISIT_BOOKKEEPING.get(table, set())
            if ignored is None:
                continue
            cursor.execute(f"SELECT * FROM {db_connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            kept = [i for i, column in enumerate(columns) if column not in ignored]
            rows = [tuple(row[i] for i in kept) for row in cursor.fetchall()]
            state[table] = sorted(rows, key=repr)
    return state


@functools.cache
def _postgres_state_sql() -> str:
    """One query: per table, the md5 of its rows' text (but the ignored columns), in order."""
    quote = db_connection.ops.quote_name
    parts = []
    with db_connection.cursor() as cursor:
        cursor.execute(  # the schema's own tables: not a session's temporary ones (sync.bulk)
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " ORDER BY table_name"
        )
        for (table,) in cursor.fetchall():
            ignored = VISIT_BOOKKEEPING.get(table, set())
            if ignored is None:
                continue
            columns = [
                quote(column.name)
                for column in db_connection.introspection.get_table_description(cursor, table)
                if column.name not in ignored
            ]
            row = f"ROW({', '.join(columns)})::text"
            parts.append(
                f"SELECT '{table}', md5(COALESCE(string_agg({row}, E'\\n' ORDER BY {row}), ''))"
                f" FROM {quote(table)}"
            )
    return " UNION ALL ".join(parts)


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        table for table in before.keys() | after.keys() if before.get(table) != after.get(table)
    )


# -- the matrix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shows:
    """A page: roles from `role` up get `status` with every one of `texts(home)` in it."""

    role: Role
    texts: Callable[[Tenant], list[str]] = lambda home: []
    status: int = 200
    only: Role | None = None  # of the roles from `role` up, only the author's (see Changes)


@dataclass(frozen=True)
class Changes:
    """A write: roles from `role` up send `data` (over the form as its page shows it, when
    `edits_form`) and are redirected to the page named `then`; `changed(home, world)` then
    asserts what the request did."""

    role: Role
    data: Callable[[Tenant, World], dict]
    then: str
    changed: Callable[[Tenant, World], None]
    edits_form: bool = False
    # Of the roles from `role` up, only this one may: the record's author (a comment, by the
    # owner); the others get 403 saying so.
    only: Role | None = None


NOT_ALLOWED = "not allowed"  # the method is refused to everyone (405)

Behaviour = Shows | tuple[Changes, ...] | str


@dataclass(frozen=True)
class Url:
    get: Behaviour
    post: Behaviour


def read_page(role: Role, texts: Callable[[Tenant], list[str]]) -> Url:
    """A page that only reads: a POST to it is answered as a GET and changes nothing."""
    return Url(get=Shows(role, texts), post=Shows(role, texts))


def form_page(role: Role, heading: Callable[[Tenant], str], *writes: Changes) -> Url:
    """A create or edit page (missionos.pages.form_page): GET shows the form, POST saves."""
    return Url(get=Shows(role, lambda home: [f"<h1>{heading(home)}</h1>"]), post=writes)


def title(page: str, home: Tenant) -> str:
    return f"<title>{page} · {home.organization.name} · MissionOS</title>"


def exists(queryset, **lookups) -> None:
    assert queryset.filter(**lookups).exists(), f"no {queryset.model.__name__} with {lookups}"


def refreshed(instance):
    """The row as the database has it now (a copy: the module's objects stay as built)."""
    fresh = copy.deepcopy(instance)
    fresh.refresh_from_db()
    return fresh


VIEWER, MEMBER, ADMIN, OWNER = Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER

PAGES: dict[str, Url] = {
    # orgs/org_urls.py
    "org_events": Url(
        get=Shows(VIEWER, status=204), post=Shows(VIEWER, status=204)
    ),  # streamed by ASGI
    "people_list": read_page(VIEWER, lambda h: [title("People", h), h.person.name]),
    "person_create": form_page(
        ADMIN,
        lambda h: "Add a person",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Dana Scully", "email": "dana@example.org"},
            then="people_list",
            changed=lambda h, w: exists(Person.objects.for_org(h.organization), name="Dana Scully"),
        ),
    ),
    "person_edit": form_page(
        ADMIN,
        lambda h: f"Edit {h.person.name}",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Renamed person"},
            edits_form=True,
            then="people_list",
            changed=lambda h, w: equal(refreshed(h.person).name, "Renamed person"),
        ),
    ),
    "member_list": Url(
        get=Shows(OWNER, lambda h: [title("Members", h), h.colleague.user.username]),
        post=(
            Changes(
                OWNER,
                data=lambda h, w: {"email": w.newcomer.email, "role": "member"},
                then="member_list",
                changed=lambda h, w: invited_not_added(h.organization, w.newcomer),
            ),
        ),
    ),
    "invitation_revoke": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                OWNER,
                data=lambda h, w: {},
                then="member_list",
                changed=lambda h, w: equal(refreshed(h.invitation).revoked_at is not None, True),
            ),
        ),
    ),
    "member_role": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                OWNER,
                data=lambda h, w: {"role": "admin"},
                then="member_list",
                changed=lambda h, w: equal(refreshed(h.colleague).role, Role.ADMIN),
            ),
        ),
    ),
    "member_remove": Url(
        get=Shows(OWNER, lambda h: [f"<h1>Remove vera from {h.organization.name}?</h1>"]),
        post=(
            Changes(
                OWNER,
                data=lambda h, w: {},
                then="member_list",
                changed=lambda h, w: equal(
                    Membership.objects.unscoped().filter(pk=h.colleague.pk).exists(), False
                ),
            ),
        ),
    ),
    "audit_log": read_page(
        ADMIN, lambda h: [title("Audit log", h), "connected", f"{h.connection}", "synced"]
    ),
    "audit_csv": read_page(
        ADMIN, lambda h: [",".join(CSV_HEADER), "System,connected,Airtable connection"]
    ),
    "export_people_csv": read_page(VIEWER, lambda h: ["Name,Email,Left on,Account", h.person.name]),
    "export_people_xlsx": read_page(VIEWER, lambda h: [XLSX_START]),
    # okrs/urls.py
    "org_home": read_page(VIEWER, lambda h: [title("Dashboard", h), h.pathway.name]),
    "dashboard_report": read_page(VIEWER, lambda h: ["%PDF-"]),
    "cycle_create": form_page(
        ADMIN,
        lambda h: "New cycle",
        Changes(
            ADMIN,
            data=lambda h, w: {
                "name": "Next quarter",
                "starts_on": h.cycle.ends_on + datetime.timedelta(days=1),
                "ends_on": h.cycle.ends_on + datetime.timedelta(days=91),
            },
            then="org_home",
            changed=lambda h, w: exists(Cycle.objects.for_org(h.organization), name="Next quarter"),
        ),
    ),
    "cycle_review": read_page(
        VIEWER, lambda h: [title(f"Review of {h.cycle.name}", h), h.objective.title]
    ),
    "cycle_carry_over": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"objectives": [h.objective.pk], "next_cycle": h.next_cycle.pk},
                then="cycle_review",
                changed=lambda h, w: exists(
                    Objective.objects.for_org(h.organization),
                    cycle=h.next_cycle,
                    carried_over_from=h.objective,
                ),
            ),
        ),
    ),
    "objective_review": read_page(
        VIEWER, lambda h: [title(f"Review of {h.objective.title}", h), "Final score"]
    ),
    "objective_review_note": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"note": "Closed well."},
                then="objective_review",
                changed=lambda h, w: exists(
                    ObjectiveReview.objects.for_org(h.organization),
                    objective=h.objective,
                    note="Closed well.",
                ),
            ),
        ),
    ),
    "pathway_create": form_page(
        ADMIN,
        lambda h: "New pathway",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Reach", "position": "9"},
            then="pathway_detail",
            changed=lambda h, w: exists(Pathway.objects.for_org(h.organization), name="Reach"),
        ),
    ),
    "pathway_detail": read_page(
        VIEWER, lambda h: [f"<h1>{h.pathway.name}</h1>", h.objective.title]
    ),
    "pathway_edit": form_page(
        ADMIN,
        lambda h: f"Edit {h.pathway}",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Renamed pathway"},
            edits_form=True,
            then="pathway_detail",
            changed=lambda h, w: equal(refreshed(h.pathway).name, "Renamed pathway"),
        ),
    ),
    "objective_create": form_page(
        ADMIN,
        lambda h: "New objective",
        Changes(
            ADMIN,
            data=lambda h, w: {
                "title": "Open two clinics",
                "pathway": h.pathway.pk,
                "cycle": h.cycle.pk,
            },
            then="objective_detail",
            changed=lambda h, w: exists(
                Objective.objects.for_org(h.organization),
                title="Open two clinics",
                pathway=h.pathway,
            ),
        ),
    ),
    "objective_detail": read_page(
        VIEWER, lambda h: [f"<h1>{h.objective.title}</h1>", h.key_result.title]
    ),
    "objective_edit": form_page(
        ADMIN,
        lambda h: f"Edit {h.objective}",
        Changes(
            ADMIN,
            data=lambda h, w: {"title": "Renamed objective"},
            edits_form=True,
            then="objective_detail",
            changed=lambda h, w: equal(refreshed(h.objective).title, "Renamed objective"),
        ),
    ),
    "key_result_create": form_page(
        ADMIN,
        lambda h: f"New key result for {h.objective}",
        Changes(
            ADMIN,
            data=lambda h, w: {
                "title": "Clinics open",
                "metric_type": "number",
                "start_value": "0",
                "target_value": "2",
                "weight": "1",
            },
            then="objective_detail",
            changed=lambda h, w: exists(
                KeyResult.objects.for_org(h.organization),
                title="Clinics open",
                objective=h.objective,
            ),
        ),
    ),
    "key_result_edit": form_page(
        ADMIN,
        lambda h: f"Edit {h.key_result}",
        Changes(
            ADMIN,
            data=lambda h, w: {"title": "Renamed key result"},
            edits_form=True,
            then="objective_detail",
            changed=lambda h, w: equal(refreshed(h.key_result).title, "Renamed key result"),
        ),
    ),
    "check_in_create": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"value": "30"},
                then="objective_detail",
                changed=lambda h, w: checked_in(h.key_result, Decimal(30)),
            ),
        ),
    ),
    "check_in_edit": form_page(
        MEMBER,  # its author; admins any
        lambda h: f"Edit check-in on {h.key_result}",
        Changes(
            MEMBER,
            data=lambda h, w: {"value": "40", "confidence": "6"},
            then="objective_detail",
            changed=lambda h, w: check_in_edited(h.check_in, Decimal(40)),
        ),
    ),
    "check_in_delete": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,  # its author; admins any
                data=lambda h, w: {},
                then="objective_detail",
                changed=lambda h, w: check_in_deleted(h.check_in),
            ),
        ),
    ),
    "check_in_restore": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,  # the check-in is not deleted: refused with a message, still live
                data=lambda h, w: {},
                then="objective_detail",
                changed=lambda h, w: equal(refreshed(h.check_in).archived_at, None),
            ),
        ),
    ),
    "objective_comments": Url(  # what an open page fetches when someone comments
        get=Shows(
            VIEWER,
            lambda h: [f'id="comments-objective-{h.objective.pk}-list"', "First thoughts"],
        ),
        post=NOT_ALLOWED,
    ),
    "objective_comment_create": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"body": "Looks right"},
                then="objective_detail",
                changed=lambda h, w: exists(
                    Comment.objects.for_org(h.organization),
                    objective=h.objective,
                    body="Looks right",
                ),
            ),
        ),
    ),
    "key_result_comment_create": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"body": "Nearly there"},
                then="objective_detail",
                changed=lambda h, w: exists(
                    Comment.objects.for_org(h.organization),
                    key_result=h.key_result,
                    body="Nearly there",
                ),
            ),
        ),
    ),
    "comment_edit": Url(
        get=Shows(MEMBER, lambda h: ["<h1>Edit comment</h1>"], only=OWNER),
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"body": "Second thoughts"},
                then="objective_detail",
                changed=lambda h, w: equal(refreshed(h.comment).body, "Second thoughts"),
                only=OWNER,
            ),
        ),
    ),
    "comment_delete": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {},
                then="objective_detail",
                changed=lambda h, w: equal(
                    Comment.objects.for_org(h.organization).filter(pk=h.comment.pk).exists(), False
                ),
                only=OWNER,
            ),
        ),
    ),
    "project_list": read_page(VIEWER, lambda h: [title("Projects", h), h.project.name]),
    "objective_list": read_page(VIEWER, lambda h: [title("Objectives", h), h.objective.title]),
    "key_result_list": read_page(VIEWER, lambda h: [title("Key results", h), h.key_result.title]),
    "check_in_list": read_page(VIEWER, lambda h: [title("Check-ins", h), h.key_result.title]),
    "task_list": read_page(VIEWER, lambda h: [title("Tasks", h), h.task.title]),
    "project_create": form_page(
        ADMIN,
        lambda h: "New project",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Night clinics", "status": "planned"},
            then="project_detail",
            changed=lambda h, w: exists(
                Project.objects.for_org(h.organization), name="Night clinics"
            ),
        ),
    ),
    "project_detail": read_page(VIEWER, lambda h: [title(h.project.name, h), h.task.title]),
    "project_edit": form_page(
        ADMIN,
        lambda h: f"Edit {h.project}",
        Changes(
            ADMIN,
            data=lambda h, w: {"name": "Renamed project"},
            edits_form=True,
            then="project_detail",
            changed=lambda h, w: equal(refreshed(h.project).name, "Renamed project"),
        ),
    ),
    "task_create": form_page(
        MEMBER,
        lambda h: "New task",
        Changes(
            MEMBER,
            data=lambda h, w: {"title": "Book the room", "status": "todo"},
            then="project_detail",
            changed=lambda h, w: exists(
                Task.objects.for_org(h.organization), title="Book the room", project=h.project
            ),
        ),
    ),
    "overdue_task_list": read_page(VIEWER, lambda h: [title("Overdue tasks", h), h.task.title]),
    "task_edit": form_page(
        MEMBER,
        lambda h: f"Edit {h.task}",
        Changes(
            MEMBER,
            data=lambda h, w: {"title": "Renamed task"},
            edits_form=True,
            then="project_detail",
            changed=lambda h, w: equal(refreshed(h.task).title, "Renamed task"),
        ),
    ),
    "task_status": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"status": "done"},
                then="project_detail",
                changed=lambda h, w: equal(refreshed(h.task).status, TaskStatus.DONE),
            ),
        ),
    ),
    "objective_report": read_page(VIEWER, lambda h: ["%PDF-"]),
    # Downloads of the lists (okrs.exports): every member reads them.
    "export_projects_csv": read_page(VIEWER, lambda h: ["Name,Status,Pathway", h.project.name]),
    "export_tasks_csv": read_page(VIEWER, lambda h: ["Title,Project,Assignee", h.task.title]),
    "export_objectives_csv": read_page(VIEWER, lambda h: ["Title,Pathway", h.objective.title]),
    "export_key_results_csv": read_page(
        VIEWER, lambda h: ["Title,Objective,Pathway", h.key_result.title]
    ),
    "export_check_ins_csv": read_page(VIEWER, lambda h: ["When,Key result,Objective"]),
    **{
        f"export_{name}_xlsx": read_page(VIEWER, lambda h: [XLSX_START])
        for name in ("projects", "tasks", "objectives", "key_results", "check_ins")
    },
    # sync/urls.py
    "sync_connections": Url(
        get=Shows(ADMIN, lambda h: [title("Airtable sync", h), h.connection.name]),
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {
                    "name": "Second plans",
                    "base_id": SECOND_BASE_ID,
                    "token": TOKEN,
                },
                then="sync_mapping",
                changed=lambda h, w: exists(
                    Connection.objects.for_org(h.organization), base_id=SECOND_BASE_ID
                ),
            ),
        ),
    ),
    "sync_connection": read_page(
        ADMIN, lambda h: [f"<h1>{h.connection.name}</h1>", f"token …{TOKEN[-4:]}"]
    ),
    "sync_now": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"kind": "full"},
                then="sync_connection",
                changed=lambda h, w: exists(
                    SyncRun.objects.for_org(h.organization).exclude(pk=h.run.pk),
                    connection=h.connection,
                    kind=RunKind.FULL,
                    status=RunStatus.QUEUED,
                ),
            ),
        ),
    ),
    "sync_schedule": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"incremental_every_minutes": "15", "full_at_hour": ""},
                then="sync_connection",
                changed=lambda h, w: equal(
                    sync_services.connection_schedule_state(connection=h.connection),
                    {"incremental_every_minutes": 15, "full_at_hour": None},
                ),
            ),
        ),
    ),
    "sync_token": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"token": NEW_TOKEN},
                then="sync_connection",
                changed=lambda h, w: equal(
                    decrypt_token(refreshed(h.connection).token_encrypted), NEW_TOKEN
                ),
            ),
        ),
    ),
    "sync_mapping": Url(
        get=Shows(ADMIN, lambda h: ["<h1>Mapping</h1>", "Save mapping"]),
        post=(
            Changes(  # save the mapping, the due date no longer synced
                ADMIN,
                data=lambda h, w: {"field__task__due_on": ""},
                edits_form=True,
                then="sync_mapping",
                changed=lambda h, w: equal(
                    "due_on" in refreshed(h.connection).mapping["entities"]["task"]["fields"],
                    False,
                ),
            ),
            Changes(  # read the schema again
                ADMIN,
                data=lambda h, w: {"refresh_schema": "1"},
                then="sync_mapping",
                changed=lambda h, w: equal(NEW_FIELD["id"] in stored_field_ids(h.connection), True),
            ),
        ),
    ),
    "sync_writes": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"action": "read_only", "table_id": T_TASKS},
                then="sync_connection",
                changed=lambda h, w: equal(
                    refreshed(h.connection).write_settings[T_TASKS]["read_only"], True
                ),
            ),
        ),
    ),
    "sync_conflict_resolve": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                MEMBER,
                data=lambda h, w: {"keep": "airtable"},
                then="org_home",
                changed=lambda h, w: equal(
                    (refreshed(h.task).title, refreshed(h.conflict).resolution),
                    ("Retitled in Airtable", "airtable"),
                ),
            ),
        ),
    ),
    # health/urls.py
    "health_page": read_page(VIEWER, lambda h: [title("Data health", h), h.task.title]),
    "health_recompute": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {},
                then="health_page",
                changed=lambda h, w: equal(
                    HealthSnapshot.objects.for_org(h.organization).count(), 2
                ),
            ),
        ),
    ),
    "finding_dismiss": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {},
                then="health_page",
                changed=lambda h, w: equal(refreshed(h.finding).status, "dismissed"),
            ),
        ),
    ),
    "health_fix": Url(
        # Without a fix to preview, back to the page with a message.
        get=Shows(ADMIN, status=302),
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {
                    "action": "close_project",
                    "project": h.project.pk,
                    "status": "done",
                    "confirm": "1",
                },
                then="health_page",
                changed=lambda h, w: equal(refreshed(h.project).status, "done"),
            ),
        ),
    ),
    "health_undo": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {},
                then="health_page",
                changed=lambda h, w: equal(refreshed(h.fix).undone_at is not None, True),
            ),
        ),
    ),
    "health_digest": Url(
        get=NOT_ALLOWED,
        post=(
            Changes(
                ADMIN,
                data=lambda h, w: {"enabled": "0"},
                then="health_page",
                changed=lambda h, w: equal(DigestOptOut.objects.for_org(h.organization).count(), 1),
            ),
        ),
    ),
    "sync_run": read_page(ADMIN, lambda h: ["<title>Sync run ·", "Full sync", "Succeeded"]),
    # An htmx fragment (tests/sync/test_views.py); opened as a page, the run's page.
    "sync_run_progress": Url(get=Shows(ADMIN, status=302), post=Shows(ADMIN, status=302)),
}


# -- archive, delete, restore (okrs/views/lifecycle.py): three URLs for every kind -------------

# Kind -> (the tenant's object, the least role, where archiving and deleting it lead, whether
# it is empty: the tenant's task, key result and person are; the rest hold something).
LIFECYCLE: dict[str, tuple[Callable[[Tenant], object], Role, str, bool]] = {
    "cycle": (lambda h: h.cycle, ADMIN, "org_home", False),
    "pathway": (lambda h: h.pathway, ADMIN, "org_home", False),
    "objective": (lambda h: h.objective, ADMIN, "pathway_detail", False),
    # The key result holds the world's check-in: deleting it is refused, archiving offered.
    "key_result": (lambda h: h.key_result, ADMIN, "objective_detail", False),
    "project": (lambda h: h.project, ADMIN, "project_list", False),
    "task": (lambda h: h.task, MEMBER, "project_detail", True),
    "person": (lambda h: h.person, ADMIN, "people_list", True),
}


def _archived(record) -> None:
    stored = type(record).objects.for_org(record.organization_id, include_archived=True)
    assert stored.get(pk=record.pk).archived_at is not None, f"{record} is not archived"


def _gone(record) -> None:
    rows = type(record).objects.for_org(record.organization_id, include_archived=True)
    equal(rows.filter(pk=record.pk).exists(), False)


def _live(record) -> None:
    exists(type(record).objects.for_org(record.organization_id), pk=record.pk)


def _lifecycle_pages() -> dict[str, Url]:
    pages = {}
    for kind, (record, role, then, empty) in LIFECYCLE.items():
        label = kind.replace("_", " ")
        pages[f"{kind}_archive"] = Url(
            get=Shows(role, lambda h, r=record, n=label: [f"<h1>Archive {n} “{r(h)}”?</h1>"]),
            post=(
                Changes(
                    role,
                    data=lambda h, w: {},
                    then=then,
                    changed=lambda h, w, r=record: _archived(r(h)),
                ),
            ),
        )
        if empty:
            delete_post = (
                Changes(
                    role,
                    data=lambda h, w: {},
                    then=then,
                    changed=lambda h, w, r=record: _gone(r(h)),
                ),
            )
            delete_text = lambda h, r=record, n=label: [f"<h1>Delete {n} “{r(h)}”?</h1>"]  # noqa: E731
        else:
            delete_text = lambda h, r=record: [f"“{r(h)}” cannot be deleted", "Archive instead"]  # noqa: E731
            delete_post = Shows(role, delete_text, status=400)
        pages[f"{kind}_delete"] = Url(get=Shows(role, delete_text), post=delete_post)
        # The tenant's objects are live: restoring one says so and changes nothing.
        pages[f"{kind}_restore"] = Url(
            get=NOT_ALLOWED,
            post=(
                Changes(
                    role,
                    data=lambda h, w: {},
                    then="archive",
                    changed=lambda h, w, r=record: _live(r(h)),
                ),
            ),
        )
    return pages


PAGES.update(_lifecycle_pages())
PAGES["archive"] = read_page(VIEWER, lambda h: [title("Archive", h), "Nothing is archived."])
PAGES["search"] = read_page(
    VIEWER, lambda h: [title("Search", h), "Type what you are looking for."]
)
PAGES["cycle_edit"] = form_page(
    ADMIN,
    lambda h: f"Edit {h.cycle}",
    Changes(
        ADMIN,
        data=lambda h, w: {"name": "Renamed cycle"},
        edits_form=True,
        then="org_home",
        changed=lambda h, w: equal(refreshed(h.cycle).name, "Renamed cycle"),
    ),
)


def equal(actual, expected) -> None:
    assert actual == expected, f"{actual!r} != {expected!r}"


def invited_not_added(organization: Organization, user) -> None:
    """An invitation to the user's address, and no membership until they accept it."""
    exists(Invitation.objects.for_org(organization), email=user.email, role="member")
    equal(Membership.objects.for_org(organization).filter(user=user).exists(), False)


def stored_field_ids(connection: Connection) -> set[str]:
    """The fields of the base's schema as the connection last read it."""
    schema = refreshed(connection).schema
    return {field["id"] for table in schema["tables"] for field in table["fields"]}


def checked_in(key_result: KeyResult, value: Decimal) -> None:
    exists(CheckIn.objects.for_org(key_result.organization), key_result=key_result, value=value)
    equal(refreshed(key_result).current_value, value)


def check_in_edited(check_in: CheckIn, value: Decimal) -> None:
    fresh = refreshed(check_in)
    equal(fresh.value, value)
    equal(refreshed(fresh.key_result).current_value, value)
    exists(CheckInRevision.objects.for_org(check_in.organization), check_in=check_in, value=12)


def check_in_deleted(check_in: CheckIn) -> None:
    fresh = CheckIn.objects.for_org(check_in.organization, include_archived=True).get(
        pk=check_in.pk
    )
    assert fresh.archived_at is not None and fresh.deleted_by_id is not None


# -- visiting --------------------------------------------------------------------------------


def url_of(name: str, *, slug: str, ids: dict[str, int]) -> str:
    """The URL named `name` in the organization `slug`, naming the objects in `ids`."""
    params = next(params for pattern, params in org_patterns() if pattern == name) - {"org_slug"}
    unknown = params - set(ids)
    assert not unknown, f"{name}: add the object {unknown} names to Tenant.url_ids"
    return reverse(name, kwargs={"org_slug": slug, **{param: ids[param] for param in params}})


def form_as_shown(url: str, user) -> dict:
    """What the form on `url` sends when submitted untouched (as `user` sees it)."""
    browser = Client()
    browser.force_login(user)
    form = browser.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None and value is not False:  # an unchecked box sends nothing
            data[name] = value
    return data


class Visit:
    """One request in a savepoint of its own, rolled back after it: whatever it did is undone
    before the next visitor comes."""

    def __init__(self, world: World, who: str, user, method: str, url: str, data: dict):
        self.world, self.who, self.user = world, who, user
        self.method, self.url, self.data = method, url, data

    def __enter__(self) -> Visit:
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        cache.clear()  # pages cached after another visitor's changes, since rolled back
        browser = Client()
        if self.user is not None:
            browser.force_login(self.user)
        self.response = getattr(browser, self.method)(self.url, self.data)
        return self

    def __exit__(self, *exc) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(*exc)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.url} by {self.who}"

    def answered(self, status: int) -> None:
        got = self.response.status_code
        assert got == status, f"{self}: {got}, not {status}"

    def changed_nothing(self) -> None:
        tables = changed_tables(self.world.state, database_state())
        assert not tables, f"{self} changed {tables}"


def behaviours(url: Url, method: str) -> tuple:
    behaviour = url.get if method == "get" else url.post
    return behaviour if isinstance(behaviour, tuple) else (behaviour,)


def data_for(behaviour: Behaviour, home: Tenant, world: World, url: str) -> dict:
    if not isinstance(behaviour, Changes):
        return {}
    data = behaviour.data(home, world)
    if behaviour.edits_form:
        data = {**form_as_shown(url, world.members[Role.OWNER]), **data}
    return data


def response_text(response) -> str:
    """The body of a response, streamed ones too (the audit log's CSV)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace")


def check_allowed(visit: Visit, behaviour: Shows | Changes, home: Tenant, world: World) -> None:
    if isinstance(behaviour, Shows):
        visit.answered(behaviour.status)
        page = response_text(visit.response)
        if behaviour.status == 204:
            assert page == "", f"{visit}: a body with its 204"
        for text in behaviour.texts(home):
            assert text in page, f"{visit}: {text!r} is not on the page"
        visit.changed_nothing()
        return
    visit.answered(302)
    then = resolve(visit.response.url.split("?")[0])
    assert (then.url_name, then.kwargs["org_slug"]) == (behaviour.then, home.organization.slug), (
        f"{visit}: redirected to {visit.response.url}, not to {behaviour.then}"
    )
    try:
        behaviour.changed(home, world)
    except AssertionError as error:
        raise AssertionError(f"{visit} did not do its change: {error}") from None


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_who_may_do_what(world, name, method):
    home, away = world.home, world.away
    slug = home.organization.slug
    url = url_of(name, slug=slug, ids=home.url_ids)
    # The same page, naming the other organization's objects (pages that name none: no such).
    foreign = url_of(name, slug=slug, ids=away.url_ids)
    visitors = [
        ("an anonymous visitor", None, None),
        ("a member of another organization", world.stranger, None),
        *((f"the {role.label.lower()}", world.members[role], role) for role in ROLES),
    ]
    for behaviour in behaviours(PAGES[name], method):
        data = data_for(behaviour, home, world, url)
        for who, user, role in visitors:
            with Visit(world, who, user, method, url, data) as visit:
                if user is None:
                    visit.answered(302)
                    assert visit.response.url.startswith(reverse("login")), visit
                elif role is None:
                    visit.answered(404)
                elif behaviour == NOT_ALLOWED:
                    visit.answered(405)
                elif role.allows(behaviour.role) and behaviour.only in (None, role):
                    check_allowed(visit, behaviour, home, world)
                    continue
                elif role.allows(behaviour.role):
                    visit.answered(403)
                    assert "Only its author" in visit.response.content.decode(), visit
                else:
                    visit.answered(403)
                    needed = f"This needs the {behaviour.role.label.lower()} role."
                    assert needed in visit.response.content.decode(), visit
                visit.changed_nothing()
        if foreign != url:
            owner = world.members[Role.OWNER]
            who = "the owner, naming another organization's object"
            with Visit(world, who, owner, method, foreign, data) as visit:
                visit.answered(405 if behaviour == NOT_ALLOWED else 404)
                visit.changed_nothing()


def test_every_organization_url_is_described():
    """Nobody adds a page of an organization without saying who may do what on it."""
    names = {name for name, _ in org_patterns()}
    missing, stale = names - PAGES.keys(), PAGES.keys() - names
    assert not missing, f"describe these URLs' roles in PAGES ({__name__}): {sorted(missing)}"
    assert not stale, f"these PAGES entries name no URL any more: {sorted(stale)}"


def test_the_database_state_shows_a_change_in_any_table_but_a_visits_bookkeeping(db):
    """The guard every GET of the matrix and the fuzz relies on: a write shows, by table."""
    task = TaskFactory()
    membership = MembershipFactory()
    before = database_state()
    assert changed_tables(before, database_state()) == []
    Task.objects.unscoped().filter(pk=task.pk).update(title=task.title + "!")
    Membership.objects.unscoped().filter(pk=membership.pk).update(
        last_used_at=datetime.datetime.now(datetime.UTC)
    )
    assert changed_tables(before, database_state()) == ["okrs_task"]
    Membership.objects.unscoped().filter(pk=membership.pk).update(
        role=Role.VIEWER if membership.role != Role.VIEWER else Role.MEMBER
    )
    assert changed_tables(before, database_state()) == ["okrs_task", "orgs_membership"]
