"""Data health against the labelled base (tests/health/labelled_base.py), synced for real through
the fake Airtable: every planted problem is found and no look-alike is, kind by kind; findings
keep their first-seen time, resolve when the problem goes and come back as new; "not a problem"
holds until the records change; the command prints the documented JSON."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from devtools.fakeairtable import FakeAirtable
from health import services as health_services
from health import tasks as health_tasks
from health.kinds import Kind
from health.models import Finding, FindingStatus, HealthSnapshot
from okrs import services as okrs_services
from okrs.models import Task
from orgs.models import Person
from sync import services
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import SyncRun
from tests.health.labelled_base import BASE_ID, T_TASKS, TOKEN, _fid, build
from tests.sync.test_sync import FAST, sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def labelled(settings, org):
    with FakeAirtable(rate_limit=None, seed=3) as fake:
        settings.AIRTABLE_API_URL = fake.url
        now = timezone.now()
        labels = build(fake, now)
        connection = services.connection_create(
            organization=org, name="Labelled", base_id=BASE_ID, token=TOKEN
        )
        sync(connection)
        yield {"org": org, "labels": labels, "now": now, "fake": fake, "connection": connection}


def _label(text: str) -> str:
    return " ".join(text.split())


def found_by_kind(org) -> dict[str, set[frozenset[str]]]:
    found: dict[str, set[frozenset[str]]] = {}
    for finding in Finding.objects.for_org(org).filter(resolved_at=None):
        labels = frozenset(_label(record["label"]) for record in finding.records) or frozenset(
            f"{field['table_name']}.{field['field_name']}" for field in finding.fields
        )
        found.setdefault(finding.kind, set()).add(labels)
    return found


def test_every_planted_problem_is_found_and_no_look_alike_is(labelled):
    org, labels = labelled["org"], labelled["labels"]
    health_services.findings_compute(organization=org, now=labelled["now"])
    found = found_by_kind(org)
    expected = {
        kind: {frozenset(map(_label, item)) for item in items}
        for kind, items in labels.expected.items()
    }
    rows = []
    for kind in Kind.values:
        want, got = expected.get(kind, set()), found.get(kind, set())
        hits = len(want & got)
        precision = hits / len(got) if got else 1.0
        recall = hits / len(want) if want else 1.0
        rows.append(f"{kind:<28} planted {len(want):>2}  found {len(got):>2}  "
                    f"precision {precision:.2f}  recall {recall:.2f}")  # fmt: skip
    print("\n".join(rows))  # the figures the note reports (pytest -s)
    assert set(expected) == set(Kind.values), "the labelled base plants every kind"
    for kind in Kind.values:
        assert found.get(kind, set()) == expected[kind], kind


def test_findings_have_a_lifecycle(labelled):
    org, now = labelled["org"], labelled["now"]
    first = health_services.findings_compute(organization=org, now=now)
    assert first.new > 0 and first.resolved == 0
    departed = Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE)
    seen = departed.first_seen_at

    later = now + timezone.timedelta(minutes=5)
    again = health_services.findings_compute(organization=org, now=later)
    assert (again.new, again.resolved) == (0, 0)
    departed.refresh_from_db()
    assert departed.first_seen_at == seen and departed.last_seen_at == later

    # Reassigned: the finding is resolved.
    task = Task.objects.for_org(org).get(title="Call suppliers")
    task.assignee = Person.objects.for_org(org).get(name="Maya Okafor")
    okrs_services.task_save(task=task)
    report = health_services.findings_compute(organization=org, now=later)
    assert report.resolved == 1
    departed.refresh_from_db()
    assert departed.status == FindingStatus.RESOLVED

    # Given back to the person who left: a new finding, first seen now.
    task.assignee = Person.objects.for_org(org).get(name="Jo Former")
    okrs_services.task_save(task=task)
    latest = now + timezone.timedelta(minutes=10)
    health_services.findings_compute(organization=org, now=latest)
    current = Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE, resolved_at=None)
    assert current.pk != departed.pk and current.first_seen_at == latest
    assert HealthSnapshot.objects.for_org(org).count() == 4


def test_not_a_problem_holds_until_the_records_change(labelled, owner):
    org, now = labelled["org"], labelled["now"]
    health_services.findings_compute(organization=org, now=now)
    finding = Finding.objects.for_org(org).get(kind=Kind.TASK_UNASSIGNED)
    before = HealthSnapshot.objects.for_org(org).first().score
    health_services.finding_dismiss(finding=finding, actor=owner)
    health_services.findings_compute(organization=org, now=now)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.DISMISSED
    assert HealthSnapshot.objects.for_org(org).first().score >= before

    task = Task.objects.for_org(org).get(title="Unowned task")
    task.due_on = task.due_on + timezone.timedelta(days=7)
    okrs_services.task_save(task=task)
    health_services.findings_compute(organization=org, now=now)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN  # the task changed: shown again


def test_the_command_prints_the_documented_json(labelled):
    org = labelled["org"]
    out = StringIO()
    call_command("data_health", "--org", org.slug, "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["organization"] == org.slug
    assert 0 <= document["score"] <= 100
    assert set(document) == {"organization", "computed_at", "score", "findings"}
    kinds = {finding["kind"] for finding in document["findings"]}
    assert kinds == set(Kind.values)
    for finding in document["findings"]:
        assert set(finding) == {
            "kind", "severity", "records", "fields", "score", "detail", "first_seen", "status",
        }  # fmt: skip
        for record in finding["records"]:
            assert set(record) == {"model", "id", "airtable"}
            assert record["airtable"]["base"] == BASE_ID and record["airtable"]["record"]
    broken = next(f for f in document["findings"] if f["kind"] == "broken_link")
    assert broken["fields"] and broken["fields"][0]["table"].startswith("tbl")
    duplicates = [
        f
        for f in document["findings"]
        if f["kind"].startswith("duplicate_") and f["kind"] != "duplicate_fields"
    ]
    assert duplicates and all(len(f["records"]) >= 2 and f["score"] for f in duplicates)
    fields = [f for f in document["findings"] if f["kind"] == "duplicate_fields"]
    assert fields and all(len(f["fields"]) == 2 and not f["records"] for f in fields)

    table = StringIO()
    call_command("data_health", "--org", org.slug, stdout=table)
    assert "data health" in table.getvalue() and "abandoned_project" in table.getvalue()


def test_a_change_feed_batch_refreshes_only_the_findings_of_its_records(labelled):
    """Airtable gives the departed person's task to Maya: the change feed's batch reconciles
    that record, and the refresh it queues (health.tasks.compute with the batch) resolves its
    finding, leaving every other finding as it was (the whole-plan ones included)."""
    org, fake, connection = labelled["org"], labelled["fake"], labelled["connection"]
    health_services.findings_compute(organization=org)
    others = {
        f.pk: f.last_seen_at
        for f in Finding.objects.for_org(org).exclude(kind=Kind.TASK_DEPARTED_ASSIGNEE)
    }
    assert services.feed_ensure(connection=connection, limiter=NoRateLimiter()).feed.state == (
        "active"
    )
    task = Task.objects.for_org(org).get(title="Call suppliers")
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    fake.bases[BASE_ID].table(task.source_table).update(
        task.source_record_id, {_fid(T_TASKS, "Assigned to"): [maya.source_record_id]}
    )
    outcome = services.feed_poll(connection_id=connection.pk, policy=FAST, limiter=NoRateLimiter())
    [batch_id] = outcome.batches
    batch = SyncRun.objects.for_org(org).get(pk=batch_id)
    assert health_services.batch_scope(batch)["task"] == {task.pk}

    health_tasks.compute(org.pk, batch_id)  # what the batch's end queued, run here
    departed = Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE)
    assert departed.status == FindingStatus.RESOLVED
    unchanged = Finding.objects.for_org(org).filter(pk__in=others)
    assert {f.pk: f.last_seen_at for f in unchanged} == others  # nothing else was touched
    assert all(f.resolved_at is None for f in unchanged)


def test_a_refresh_resolves_and_raises_only_within_its_scope(labelled):
    org = labelled["org"]
    health_services.findings_compute(organization=org)
    late = Task.objects.for_org(org).get(title="Late task")
    stray = Task.objects.for_org(org).get(title="Map the gaps")
    late.due_on = late.due_on + timezone.timedelta(days=30)  # no longer late
    okrs_services.task_save(task=late)
    stray.due_on = stray.due_on - timezone.timedelta(days=60)  # late now
    okrs_services.task_save(task=stray)
    report = health_services.findings_compute(organization=org, scope={"task": {late.pk}})
    assert (report.new, report.resolved) == (0, 1)  # the stray task waits for its own refresh
    report = health_services.findings_compute(organization=org, scope={"task": {stray.pk}})
    assert report.new == 1
    late_findings = Finding.objects.for_org(org).filter(kind=Kind.PAST_DUE, resolved_at=None)
    assert {f.records[0]["label"] for f in late_findings} == {"Overdue project", "Map the gaps"}


@pytest.fixture
def eager_tasks():
    """Celery tasks run where they are queued (here: on commit), to see what a write queues."""
    from missionos.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_writes_in_missionos_refresh_their_findings_once_per_transaction(labelled, eager_tasks):
    org = labelled["org"]
    health_services.findings_compute(organization=org)
    snapshots = HealthSnapshot.objects.for_org(org).count()
    maya = Person.objects.for_org(org).get(name="Maya Okafor")
    task = Task.objects.for_org(org).get(title="Call suppliers")
    task.assignee = maya
    okrs_services.task_save(task=task)  # the task's form, in effect
    departed = Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE)
    assert departed.status == FindingStatus.RESOLVED
    assert HealthSnapshot.objects.for_org(org).count() == snapshots + 1

    # Several writes in one transaction: one refresh, of all of them.
    late = Task.objects.for_org(org).get(title="Late task")
    unowned = Task.objects.for_org(org).get(title="Unowned task")
    with transaction.atomic():
        late.due_on = late.due_on + timezone.timedelta(days=30)
        okrs_services.task_save(task=late)
        unowned.assignee = maya
        okrs_services.task_save(task=unowned)
    assert HealthSnapshot.objects.for_org(org).count() == snapshots + 2
    open_now = Finding.objects.for_org(org).filter(resolved_at=None)
    assert not open_now.filter(kind=Kind.TASK_UNASSIGNED).exists()
    assert "Late task" not in {f.records[0]["label"] for f in open_now.filter(kind=Kind.PAST_DUE)}

    # A write that rolls back refreshes nothing.
    with pytest.raises(RuntimeError), transaction.atomic():
        late.due_on = late.due_on - timezone.timedelta(days=90)
        okrs_services.task_save(task=late)
        raise RuntimeError("changed my mind")
    assert HealthSnapshot.objects.for_org(org).count() == snapshots + 2


def test_a_sync_run_computes_the_findings_when_it_ends(labelled, eager_tasks):
    """sync.finished hears the run's end and queues health.compute (run here, eagerly): no
    one has to press Compute now after a sync."""
    org, connection = labelled["org"], labelled["connection"]
    assert not HealthSnapshot.objects.for_org(org).exists()  # the fixture's sync was not eager
    sync(connection)
    snapshot = HealthSnapshot.objects.for_org(org).get()
    assert snapshot.open_findings == Finding.objects.for_org(org).filter(resolved_at=None).count()
    assert Finding.objects.for_org(org).filter(kind=Kind.TASK_DEPARTED_ASSIGNEE).exists()
