"""`manage.py seed_demo`: the demo organizations, their mess, idempotence and tenancy.

The main organization is loaded by a real sync of the demo base (demo.airtable_base) against a
fake Airtable started by the command; these tests check what that sync leaves behind.
"""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.test import override_settings
from django.utils import timezone

import devtools.fakeairtable
from demo import airtable_base as demo_base
from demo.builder import MESS
from demo.seed import DEMO_PASSWORD, URL
from devtools.fakeairtable import FakeAirtable
from okrs.models import (
    CheckIn,
    Cycle,
    KeyResult,
    MetricType,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Membership, Organization, Person, Role
from sync import services
from sync.mapping.propose import propose_mapping
from sync.models import Connection, RunKind, RunStatus, SyncIssue, SyncRun
from sync.schema import schema_from_api
from tests.rows import every_row

MODELS = (
    Organization,
    Membership,
    Person,
    Cycle,
    Pathway,
    Objective,
    KeyResult,
    CheckIn,
    Project,
    Task,
)


def snapshot() -> dict[str, int]:
    counts = {model.__name__: every_row(model).count() for model in MODELS}
    counts["User"] = get_user_model().objects.count()
    counts["ProjectObjective"] = Project.objectives.through.objects.count()
    return counts


def run_seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


# A fast hasher: the tests are about the data, not about PBKDF2's cost.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed twice, once for the module (a seed runs a whole sync: ~1 s, too much per test).

    Inside a transaction rolled back when the module is done; each test runs in a savepoint
    within it (pytest-django's `db`), so whatever a test changes is undone after it.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            api_url = django_settings.AIRTABLE_API_URL
            first = run_seed()
            after_first = snapshot()
            second = run_seed()
            yield {"first": first, "second": second, "after_first": after_first, "url": api_url}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(seeded_once, db, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS  # for the tests that seed again
    return seeded_once


@pytest.fixture
def main(seeded):
    return Organization.objects.get(slug="northwind")


@pytest.fixture
def labs(seeded):
    return Organization.objects.get(slug="northwind-labs")


def test_main_organization_matches_the_reference_shape(main):
    assert main.name == "Northwind Health"
    assert Pathway.objects.for_org(main).count() == 4
    assert Project.objects.for_org(main).count() == 44
    assert Task.objects.for_org(main).count() >= 200
    assert Person.objects.for_org(main).count() >= 25
    statuses = set(Project.objects.for_org(main).values_list("status", flat=True))
    assert statuses == set(ProjectStatus.values)
    task_statuses = set(Task.objects.for_org(main).values_list("status", flat=True))
    assert task_statuses == set(TaskStatus.values)
    metric_types = set(KeyResult.objects.for_org(main).values_list("metric_type", flat=True))
    assert metric_types == set(MetricType.values)


def test_cycles_are_the_previous_and_current_quarter(main):
    today = timezone.localdate()
    cycles = list(Cycle.objects.for_org(main).order_by("starts_on"))
    assert len(cycles) == 2
    previous, current = cycles
    assert current.starts_on <= today <= current.ends_on
    assert current.name == f"{today.year} Q{(today.month - 1) // 3 + 1}"
    assert previous.ends_on == current.starts_on - datetime.timedelta(days=1)
    for pathway in Pathway.objects.for_org(main):
        in_current = Objective.objects.for_org(main).filter(pathway=pathway, cycle=current)
        assert 3 <= in_current.count() <= 4
        assert Objective.objects.for_org(main).filter(pathway=pathway, cycle=previous).exists()


def test_second_run_changes_nothing(seeded):
    assert seeded["after_first"] == snapshot()
    assert "created" in seeded["first"]
    assert "already there" in seeded["second"]


def test_prints_the_address_and_the_logins(seeded):
    for output in (seeded["first"], seeded["second"]):
        assert URL in output
        assert "username demo" in output
        assert DEMO_PASSWORD in output
        assert "username olivia" in output
        assert "username victor" in output


def test_demo_user_signs_in_and_belongs_to_both_organizations(main, labs):
    user = authenticate(username="demo", password=DEMO_PASSWORD)
    assert user is not None
    assert user.email == "demo@example.org"
    roles = dict(
        Membership.objects.unscoped().filter(user=user).values_list("organization__slug", "role")
    )
    assert roles == {"northwind": Role.ADMIN, "northwind-labs": Role.MEMBER}
    assert authenticate(username="olivia", password=DEMO_PASSWORD) is not None
    assert (
        Membership.objects.unscoped().get(user__username="olivia", organization=main).role
        == Role.OWNER
    )
    assert (
        Membership.objects.unscoped().get(user__username="victor", organization=main).role
        == Role.VIEWER
    )


def test_demo_user_has_work_in_both_organizations(main, labs):
    user = get_user_model().objects.get(username="demo")
    for organization in (main, labs):
        person = Person.objects.for_org(organization).get(user=user)
        open_tasks = Task.objects.for_org(organization).filter(assignee=person)
        assert open_tasks.exclude(status=TaskStatus.DONE).exists()
        assert KeyResult.objects.for_org(organization).filter(owner=person).exists()


def test_a_rerun_restores_missing_demo_users_without_touching_the_data(seeded, main):
    before = Task.objects.for_org(main).count()
    get_user_model().objects.filter(username="demo").delete()
    output = run_seed()
    user = authenticate(username="demo", password=DEMO_PASSWORD)
    assert user is not None
    assert Membership.objects.unscoped().filter(user=user).count() == 2
    assert (
        Person.objects.unscoped(include_archived=True).filter(user=user).count() == 2
    )  # the old directory entries, relinked
    assert Task.objects.for_org(main).count() == before
    assert "username demo" in output


def test_main_organization_carries_the_mess(main):
    today = timezone.localdate()
    now = timezone.now()

    stale = Project.objects.for_org(main).filter(
        status=ProjectStatus.ACTIVE, last_activity_at__lt=now - datetime.timedelta(days=90)
    )
    assert stale.count() == MESS.stale_active_projects
    assert not stale.filter(last_activity_at__lt=now - datetime.timedelta(days=8 * 31)).exists()

    departed = Person.objects.for_org(main).filter(departed_on__isnull=False)
    assert sorted(departed.values_list("name", flat=True)) == sorted(MESS.departed_people)
    assert not departed.filter(departed_on__gte=today).exists()
    for person in departed:
        assert (
            Task.objects.for_org(main)
            .filter(assignee=person)
            .exclude(status=TaskStatus.DONE)
            .exists()
        )

    one, other = (
        Objective.objects.for_org(main).get(title=title) for title in MESS.near_duplicate_objectives
    )
    assert one.owner_id and other.owner_id and one.owner_id != other.owner_id
    assert one.pathway_id != other.pathway_id

    empty = Objective.objects.for_org(main).get(title=MESS.objective_without_key_results)
    assert not empty.key_results.exists()

    for title in MESS.key_results_without_check_ins:
        key_result = KeyResult.objects.for_org(main).get(title=title)
        assert not key_result.check_ins.exists()
        assert key_result.current_value == key_result.start_value


# -- Loaded through the sync ---------------------------------------------------------------

SYNCED = (Person, Cycle, Pathway, Objective, KeyResult, CheckIn, Project, Task)


def test_main_organization_is_loaded_by_a_real_sync_of_the_demo_base(seeded, main, labs):
    connection = Connection.objects.for_org(main).get()
    assert (connection.base_id, connection.token_last4) == (
        demo_base.BASE_ID,
        demo_base.TOKEN[-4:],
    )
    run = SyncRun.objects.for_org(main).get()  # one run: the second seed left it alone
    assert (run.status, run.kind, run.error) == (RunStatus.SUCCEEDED, RunKind.FULL, "")
    rows = sum(model.objects.for_org(main, include_archived=True).count() for model in SYNCED)
    assert run.created == rows and (run.updated, run.unchanged, run.archived) == (0, 0, 0)
    assert run.pulled == run.created + demo_base.EMPTY_CHECK_INS  # blank check-ins: skipped
    assert 0 < run.issue_count == SyncIssue.objects.unscoped().filter(run=run).count()

    # Provenance: every row of the main organization leads to its record in the base.
    records = {
        (table["id"], record["id"])
        for table in demo_base.base_data()["tables"]
        for record in table["records"]
    }
    for model in SYNCED:
        provenance = set(
            model.objects.for_org(main).values_list("source_table", "source_record_id")
        )
        assert provenance <= records, model.__name__
        assert not model.objects.for_org(main).exclude(source_connection_id=connection.pk).exists()
        # The second organization is built straight from its plan: no provenance.
        assert not model.objects.for_org(labs).filter(source_record_id__isnull=False).exists()

    # The fake stopped with the command: no schedule may try to reach it, and the sync's
    # Airtable address is back to what it was.
    state = services.connection_schedule_state(connection=connection)
    assert state == {"incremental_every_minutes": None, "full_at_hour": None}
    assert seeded["url"] == django_settings.AIRTABLE_API_URL


def test_seed_output_reports_the_sync_and_its_issues(seeded, main):
    run = SyncRun.objects.for_org(main).get()
    first = seeded["first"]
    assert "loaded through the sync" in first and "rate limit off" in first
    assert f"{run.created:,} created, 0 updated, 0 unchanged, 0 archived" in first
    assert f"{run.issue_count} issues found" in first
    for words in ("formula errors", "unknown values", "links to missing records"):
        assert words in first
    assert f"{URL}/o/northwind/sync/runs/{run.pk}/" in first
    assert f"synced from the demo base by run #{run.pk}" in seeded["second"]


def test_the_base_mess_shows_up_as_issues_and_the_records_are_kept(main):
    run = SyncRun.objects.for_org(main).get()
    issues = list(SyncIssue.objects.unscoped().filter(run=run))

    def where(found):
        return {(i.table_name, i.field_name) for i in found}

    formula = [i for i in issues if i.reason.startswith("formula error")]
    assert sorted(i.reason for i in formula) == [
        "formula error #ERROR!",
        "formula error #ERROR!",
        "formula error NaN",
    ]
    assert where(formula) == {(demo_base.KEY_RESULTS, "Weight")}
    # ... and the weight falls back to 1, as every other key result's.
    assert set(KeyResult.objects.for_org(main).values_list("weight", flat=True)) == {1}

    links = [i for i in issues if i.kind == SyncIssue.Kind.LINK]
    assert where(links) == {
        (demo_base.ACTION_ITEMS, "Initiative"),
        (demo_base.ACTION_ITEMS, "Assigned to"),
        (demo_base.INITIATIVES, "Objectives"),
    }
    orphans = Task.objects.for_org(main).filter(title__in=demo_base.ORPHAN_TASKS)
    assert orphans.count() == 2 and not orphans.filter(project__isnull=False).exists()

    unknown = [i for i in issues if i.reason.startswith("unknown value 'TBC'")]
    assert len(unknown) == demo_base.UNKNOWN_STATUS_TASKS
    assert where(unknown) == {(demo_base.ACTION_ITEMS, "Status")}
    tbc = Task.objects.for_org(main).filter(source_record_id__in=[i.record_id for i in unknown])
    assert set(tbc.values_list("status", flat=True)) == {TaskStatus.TODO}

    # Blank rows: the action items are kept, archived (shown and counted nowhere); the
    # check-ins cannot be (no value).
    required = {(i.table_name, i.field_name, i.reason) for i in issues if i.kind == "required"}
    assert required == {
        (demo_base.ACTION_ITEMS, "Task", "title is empty"),
        (demo_base.ACTION_ITEMS, "Initiative", "no project linked"),
        (demo_base.CHECK_INS, "Value", "value is empty"),
        (demo_base.CHECK_INS, "Key Result", "no key result linked"),
    }
    untitled = Task.objects.for_org(main, include_archived=True).filter(
        title__startswith="(untitled rec"
    )
    assert untitled.count() == demo_base.EMPTY_ACTION_ITEMS
    assert all(task.archived_at and task.source_extra["blank"] for task in untitled)
    assert not Task.objects.for_org(main).filter(title__startswith="(untitled rec").exists()
    # Nothing else went wrong: every issue is one of the planted ones.
    assert len(issues) == len(formula) + len(links) + len(unknown) + sum(
        1 for i in issues if i.kind == "required"
    )


def test_messy_spellings_and_duplicated_fields_arrive_as_planned(main):
    connection = Connection.objects.for_org(main).get()
    plan = demo_base.plan_northwind(timezone.localdate())
    base = {t["name"]: t for t in demo_base.base_data()["tables"]}

    def used(table, name):
        field_id = demo_base.field_id(table, name)
        return {r["fields"].get(field_id) for r in base[table]["records"]} - {None}

    spellings = used(demo_base.INITIATIVES, "Status") | used(demo_base.ACTION_ITEMS, "Status")
    assert {"Done", "done ", "Completed", "In Progress", "in progress"} <= spellings
    assert dict(Project.objects.for_org(main).values_list("name", "status")) == {
        p.name: p.status for p in plan.projects
    }
    planned_tasks = {(t.project.name, t.title): t.status for t in plan.tasks}
    synced_tasks = {
        (name, title): status
        for name, title, status in Task.objects.for_org(main)
        .filter(project__isnull=False)
        .values_list("project__name", "title", "status")
    }
    assert synced_tasks == planned_tasks

    # Duplicated fields: the mapping took "Owner" and "Status"; the duplicates are kept as
    # unmapped fields of each row (provenance), not used.
    entities = connection.mapping["entities"]
    assert entities["objective"]["fields"]["owner"] == demo_base.field_id(
        demo_base.OBJECTIVES, "Owner"
    )
    assert entities["project"]["fields"]["status"] == demo_base.field_id(
        demo_base.INITIATIVES, "Status"
    )
    owner_2 = demo_base.field_id(demo_base.OBJECTIVES, "Owner 2")
    status_old = demo_base.field_id(demo_base.INITIATIVES, "Status (old)")
    assert any(owner_2 in o.source_extra["fields"] for o in Objective.objects.for_org(main))
    assert any(status_old in p.source_extra["fields"] for p in Project.objects.for_org(main))

    # Left, but the "Active" box is still ticked: "Left on" alone marks them departed.
    still_ticked = Person.objects.for_org(main).get(name=demo_base.STILL_TICKED)
    record = base[demo_base.TEAM]["records"]
    active = demo_base.field_id(demo_base.TEAM, "Active")
    assert next(r for r in record if r["id"] == still_ticked.source_record_id)["fields"][active]
    assert still_ticked.departed_on is not None

    # Staleness comes from the base's "Last modified", copied after the sync.
    last_modified = demo_base.field_id(demo_base.INITIATIVES, "Last modified")
    for project in Project.objects.for_org(main):
        assert (
            project.last_activity_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            == project.source_extra["fields"][last_modified]
        )


def test_the_seed_keeps_the_base_it_loaded_for_run_demo(seeded, main):
    """run_demo serves the base the database was loaded from (demo.airtable_base.kept_base)."""
    kept = demo_base.kept_base()
    assert kept is not None and kept["id"] == demo_base.BASE_ID
    record_ids = {r["id"] for table in kept["tables"] for r in table["records"]}
    synced = set(
        Task.objects.for_org(main, include_archived=True)
        .exclude(source_record_id=None)
        .values_list("source_record_id", flat=True)
    )
    assert synced and synced <= record_ids


def test_resync_the_same_day_changes_nothing(seeded, main):
    before = snapshot()
    output = run_seed("--resync")
    assert "synced again from today's demo base" in output
    assert "0 created, 0 updated" in output
    first, second = SyncRun.objects.for_org(main).order_by("pk")
    assert second.status == RunStatus.SUCCEEDED
    assert (second.created, second.updated, second.archived) == (0, 0, 0)
    assert second.unchanged == first.created
    assert snapshot() == before


class AirtableOutOfCalls(FakeAirtable):
    """The demo's fake Airtable in a workspace whose monthly API calls run out as the sync
    starts: the schema is read (the base connects), then every request is refused with
    Airtable's 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED, which the sync does not retry."""

    def handle(self, method, raw_path, headers, body):
        if not raw_path.startswith("/v0/meta/"):
            self.faults.billing_limit = True
        return super().handle(method, raw_path, headers, body)


@pytest.mark.parametrize("load", ["first load", "re-sync"])
def test_a_failed_sync_keeps_nothing(request, db, settings, monkeypatch, load):
    """Whether the demo is there already (re-sync) or not (first load), a failed run fails the
    command and its transaction: nothing of that seed is kept."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    if load == "re-sync":
        request.getfixturevalue("seeded")
    # The command starts its own fake Airtable (devtools.fakeairtable): this one, with the fault.
    monkeypatch.setattr(devtools.fakeairtable, "FakeAirtable", AirtableOutOfCalls)
    before = (snapshot(), Connection.objects.unscoped().count(), SyncRun.objects.unscoped().count())
    api_url = django_settings.AIRTABLE_API_URL
    failed = r"sync of the demo base failed: Airtable's monthly API call limit .* Nothing was saved"
    with pytest.raises(CommandError, match=failed):
        run_seed("--resync")
    assert (
        snapshot(),
        Connection.objects.unscoped().count(),
        SyncRun.objects.unscoped().count(),
    ) == before
    assert api_url == django_settings.AIRTABLE_API_URL


def test_the_bundled_snapshot_is_the_generated_base(tmp_path):
    """devtools/fixtures/northwind-base.json is written by `seed_demo --write-snapshot`, never
    by hand; its dates are those of the day it was written, its shape must be today's."""
    path = tmp_path / "northwind.json"
    output = StringIO()
    call_command("seed_demo", "--write-snapshot", str(path), stdout=output)
    assert "python -m devtools.fakeairtable --base" in output.getvalue()
    fresh = json.loads(path.read_text())
    assert fresh == demo_base.base_data()
    bundled = json.loads(demo_base.SNAPSHOT_PATH.read_text())

    def shape(data):
        return [(t["id"], t["name"], t["primaryFieldId"], t["fields"]) for t in data["tables"]]

    def ids(data, name):
        return {r["id"] for t in data["tables"] if t["name"] == name for r in t["records"]}

    regenerate = "regenerate it: uv run python manage.py seed_demo --write-snapshot"
    assert shape(bundled) == shape(fresh), regenerate
    for name in (demo_base.TEAM, demo_base.PILLARS, demo_base.INITIATIVES):
        assert ids(bundled, name) == ids(fresh, name), regenerate

    # It serves, and the mapping proposed for it is the one the seed uses.
    fake = FakeAirtable(rate_limit=None)
    base = fake.load_base(demo_base.SNAPSHOT_PATH, tokens={demo_base.TOKEN})
    assert len(base.table(demo_base.ACTION_ITEMS)) >= 230
    mapping = propose_mapping(schema_from_api(base.schema_dict()))
    assert set(mapping.entities) == {
        "person",
        "cycle",
        "pathway",
        "objective",
        "key_result",
        "check_in",
        "project",
        "task",
    }


def test_key_results_have_weeks_of_history_ending_at_their_current_value(main, labs):
    latest = (
        CheckIn.objects.unscoped(include_archived=True)
        .filter(key_result=OuterRef("pk"))
        .order_by("-checked_in_at", "-pk")
    )
    key_results = (
        KeyResult.objects.unscoped(include_archived=True).filter(check_ins__isnull=False).distinct()
    )
    key_results = key_results.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_confidence=Subquery(latest.values("confidence")[:1]),
    )
    assert key_results.count() >= 50
    for key_result in key_results:
        assert key_result.current_value == key_result.latest_value, key_result.title
        assert key_result.confidence == key_result.latest_confidence, key_result.title
        assert key_result.check_ins.count() >= 8, key_result.title
        assert not key_result.check_ins.filter(checked_in_at__gt=timezone.now()).exists()
    decreasing = KeyResult.objects.for_org(main).filter(target_value__lt=F("start_value"))
    assert decreasing.exists()
    yes_no = KeyResult.objects.unscoped(include_archived=True).filter(metric_type=MetricType.YES_NO)
    assert not yes_no.exclude(start_value=0, target_value=1).exists()
    assert not CheckIn.objects.unscoped(include_archived=True).filter(confidence__gt=10).exists()


def test_task_dates_are_consistent(main):
    tasks = Task.objects.for_org(main)
    assert not tasks.filter(status=TaskStatus.DONE, completed_at__isnull=True).exists()
    assert not tasks.exclude(status=TaskStatus.DONE).filter(completed_at__isnull=False).exists()
    overdue = tasks.exclude(status=TaskStatus.DONE).filter(due_on__lt=timezone.localdate())
    assert overdue.count() >= 10


def test_second_organization(labs):
    assert labs.name == "Northwind Labs"
    assert Pathway.objects.for_org(labs).count() == 2
    assert Cycle.objects.for_org(labs).count() == 1
    assert Project.objects.for_org(labs).count() == 8
    assert Task.objects.for_org(labs).count() == 30
    assert 8 <= Person.objects.for_org(labs).count() <= 12
    assert CheckIn.objects.for_org(labs).exists()


def test_every_row_belongs_to_the_organization_of_what_it_points_to(seeded):
    """Tenancy integrity: no row links across organizations, whichever link it is."""
    links = {
        Objective: ("pathway", "cycle", "owner", "parent"),
        KeyResult: ("objective", "owner"),
        CheckIn: ("key_result",),
        Project: ("pathway", "owner"),
        Task: ("project", "assignee"),
    }
    for model, fields in links.items():
        for name in fields:
            crossing = (
                every_row(model)
                .filter(**{f"{name}__isnull": False})
                .exclude(organization=F(f"{name}__organization"))
                .count()
            )
            assert crossing == 0, f"{model.__name__}.{name} crosses organizations"

    through = Project.objectives.through.objects
    assert not through.exclude(project__organization=F("objective__organization")).exists()
    # A check-in's author, a directory entry's user: members of that organization.
    for person in Person.objects.unscoped(include_archived=True).filter(user__isnull=False):
        assert (
            Membership.objects.unscoped()
            .filter(user=person.user, organization=person.organization)
            .exists()
        )
    for check_in in (
        CheckIn.objects.unscoped(include_archived=True)
        .filter(author__isnull=False)
        .select_related("key_result")
    ):
        assert (
            Membership.objects.unscoped()
            .filter(user_id=check_in.author_id, organization_id=check_in.organization_id)
            .exists()
        )


ADMIN_PAGES = (
    ("orgs", "organization", Organization),
    ("orgs", "membership", Membership),
    ("orgs", "person", Person),
    ("okrs", "cycle", Cycle),
    ("okrs", "pathway", Pathway),
    ("okrs", "objective", Objective),
    ("okrs", "keyresult", KeyResult),
    ("okrs", "checkin", CheckIn),
    ("okrs", "project", Project),
    ("okrs", "task", Task),
)


def test_admin_lists_and_forms_render_on_the_demo_data(main, admin_client):
    for app, name, model in ADMIN_PAGES:
        base = f"/admin/{app}/{name}/"
        urls = [base, f"{base}add/", f"{base}{every_row(model).first().pk}/change/"]
        if model is not Organization:
            urls.append(f"{base}?organization__id__exact={main.pk}")
        for url in urls:
            assert admin_client.get(url).status_code == 200, url
    stale = admin_client.get("/admin/okrs/project/?stale=yes")
    assert stale.context["cl"].result_count == MESS.stale_active_projects
    empty = admin_client.get(
        f"/admin/okrs/objective/?organization__id__exact={main.pk}&has_key_results=no"
    )
    assert [o.title for o in empty.context["cl"].result_list] == [
        MESS.objective_without_key_results
    ]


def test_admin_refuses_a_project_linked_to_another_organizations_objective(
    main, labs, admin_client
):
    project = Project.objects.for_org(main).first()
    foreign = Objective.objects.for_org(labs).first()
    response = admin_client.post(
        f"/admin/okrs/project/{project.pk}/change/",
        {
            "organization": main.pk,
            "name": project.name,
            "status": project.status,
            "objectives": [foreign.pk],
            "last_activity_at_0": "2026-01-01",
            "last_activity_at_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    assert "objectives" in response.context["adminform"].form.errors
    assert not project.objectives.filter(pk=foreign.pk).exists()


def test_both_organizations_show_their_check_ins_as_activity(main, labs):
    """Loaded by the sync (main) or built (labs), an organization's check-ins are in its
    activity feed: the dashboard never says "No activity yet" beside them."""
    from okrs.models import CheckIn
    from orgs.models import Activity

    for org in (main, labs):
        check_ins = CheckIn.objects.for_org(org).filter(key_result__isnull=False).count()
        noted = Activity.objects.for_org(org).filter(verb="checked in on").count()
        assert check_ins and noted == check_ins, org.slug
    # Synced, each line names who did it: the member, or Airtable (they read "Someone").
    unnamed = Activity.objects.for_org(main).filter(actor__isnull=True, actor_label="")
    assert not unnamed.filter(verb="checked in on").exists()
