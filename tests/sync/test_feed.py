"""The change feed end to end: the real pyairtable client over HTTP against the fake Airtable's
webhooks, into the database, through the services the tasks and the ping endpoint call."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs.models import Project, Task
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.crypto import decrypt_token
from sync.models import ChangeFeed, FeedState, RunKind, RunStatus, SyncRun
from sync.services.locks import feed_lock, feed_poll_again
from tests.factories import OrganizationFactory
from tests.sync.airtable_base import BASE_ID, T_PROJECTS, T_TASKS, TOKEN
from tests.sync.test_sync import snapshot, sync

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.django_db,
    # Until the fake Airtable serves webhooks (branch helper-fake) these cannot run.
    pytest.mark.skipif(
        not (ROOT / "devtools" / "fakeairtable" / "webhooks.py").exists(),
        reason="the fake Airtable has no webhooks yet",
    ),
]
FAST = RetryPolicy(attempts=8, backoff=0.01, backoff_cap=0.05, rate_limit_wait=0.05)
QUICK = {"policy": FAST, "limiter": NoRateLimiter()}


def ensure(connection, **kwargs):
    return services.feed_ensure(connection=connection, **QUICK, **kwargs)


def poll(connection, **kwargs) -> services.FeedOutcome:
    return services.feed_poll(connection_id=connection.pk, **QUICK, **kwargs)


def table(fake, table_id: str):
    return fake.base(BASE_ID).table(table_id)


def hooks(fake) -> list:
    return fake.webhooks.for_base(BASE_ID)


@pytest.fixture
def feed(connection, fake) -> ChangeFeed:
    """A synced connection with its change feed set up (the first full run read everything)."""
    sync(connection)
    outcome = ensure(connection)
    assert outcome.feed.state == FeedState.ACTIVE, outcome.feed.message
    return outcome.feed


def task_title(org, record_id: str) -> str:
    return Task.objects.for_org(org, include_archived=True).get(source_record_id=record_id).title


def test_connecting_creates_one_hook_for_the_base_after_commit(
    fake, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        connection = services.connection_create(
            organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
        )
    feed = ChangeFeed.objects.for_org(org).get(connection=connection)
    assert feed.state == FeedState.ACTIVE and feed.cursor == 1
    (hook,) = hooks(fake)
    assert feed.webhook_id == hook.id and hook.notification_url is None  # no public URL: polled
    assert hook.specification["options"]["filters"]["dataTypes"] == ["tableData", "tableFields"]
    # The secret is stored encrypted, and is the hook's.
    assert decrypt_token(feed.mac_secret_encrypted) != feed.mac_secret_encrypted
    assert feed.expires_at > timezone.now() + datetime.timedelta(days=6)
    # Ensuring again (a mapping saved) keeps the hook: one listing, no new hook.
    again = ensure(connection)
    assert again.feed.webhook_id == hook.id and len(hooks(fake)) == 1 and again.requests == 1


def test_an_idle_poll_costs_one_request_and_records_nothing(feed, connection, fake):
    fake.reset_log()
    outcome = poll(connection)
    assert outcome.requests == 1 and fake.request_count(BASE_ID) == 1
    assert outcome.payloads == 0 and outcome.batches == []
    assert not SyncRun.objects.for_org(connection.organization).filter(kind=RunKind.CHANGES)


def test_an_edit_in_airtable_is_applied_from_a_few_requests(feed, connection, fake, org):
    task_id = fake.ids["tasks"][0]
    table(fake, T_TASKS).update(task_id, {"fldTNAME00000001": "Renamed in Airtable"})
    fake.reset_log()
    outcome = poll(connection)
    assert task_title(org, task_id) == "Renamed in Airtable"
    (batch_id,) = outcome.batches
    batch = SyncRun.objects.for_org(org).get(pk=batch_id)
    assert batch.kind == RunKind.CHANGES and batch.status == RunStatus.SUCCEEDED, batch.error
    assert (batch.pulled, batch.updated, batch.created) == (1, 1, 0)
    # Payloads, then the one record by id: no table scan.
    assert outcome.requests == fake.request_count(BASE_ID) == 2
    feed.refresh_from_db()
    assert feed.cursor == 2 and feed.last_change_at is not None
    # Polled again: the cursor moved on, nothing is applied twice.
    assert poll(connection).batches == []


def test_created_and_deleted_records_are_linked_and_archived(feed, connection, fake, org):
    project_id = fake.ids["projects"][1]
    new_task = table(fake, T_TASKS).create(
        {"fldTNAME00000001": "Fresh task", "fldTPROJECT00001": [project_id]}
    )
    gone_task = fake.ids["tasks"][5]
    table(fake, T_TASKS).delete(gone_task)
    poll(connection)
    created = Task.objects.for_org(org).get(source_record_id=new_task)
    assert created.project == Project.objects.for_org(org).get(source_record_id=project_id)
    archived = Task.objects.for_org(org, include_archived=True).get(source_record_id=gone_task)
    assert archived.archived_at is not None
    assert not Task.objects.for_org(org).filter(source_record_id=gone_task).exists()


def test_the_feed_leaves_postgres_as_a_full_run_would(feed, connection, fake, org):
    tasks, projects = table(fake, T_TASKS), table(fake, T_PROJECTS)
    tasks.update(fake.ids["tasks"][2], {"fldTSTATUS000001": "Done"})
    projects.update(fake.ids["projects"][0], {"fldJNAME00000001": "Project zero, renamed"})
    tasks.delete(fake.ids["tasks"][7])
    tasks.create({"fldTNAME00000001": "New one", "fldTPROJECT00001": [fake.ids["projects"][2]]})
    poll(connection)
    by_feed = snapshot(org)
    sync(connection, RunKind.FULL)
    assert snapshot(org) == by_feed


def test_a_renamed_field_renames_it_in_the_mapping(feed, connection, fake, org):
    table(fake, T_TASKS).rename_field("fldTNAME00000001", "Action")
    outcome = poll(connection)
    connection.refresh_from_db()
    assert connection.mapping["entities"]["task"]["field_names"]["title"] == "Action"
    (batch_id,) = outcome.batches
    assert SyncRun.objects.for_org(org).get(pk=batch_id).status == RunStatus.SUCCEEDED
    feed.refresh_from_db()
    assert feed.state == FeedState.ACTIVE


def test_a_deleted_mapped_field_stops_the_feed_as_a_pull_stops(feed, connection, fake, org):
    table(fake, T_TASKS).remove_field("fldTPROJECT00001")
    outcome = poll(connection)
    (batch_id,) = outcome.batches
    batch = SyncRun.objects.for_org(org).get(pk=batch_id)
    assert batch.status == RunStatus.FAILED
    assert batch.error.startswith("The mapping no longer matches the base:")
    feed.refresh_from_db()
    assert feed.state == FeedState.FAILED and feed.message == batch.error
    assert services.feed_poll_due() == []  # polls stop until the mapping is fixed
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, **QUICK)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == batch.error


def test_an_expired_webhook_is_recreated_and_the_gap_covered(feed, connection, fake, org):
    old_hook = feed.webhook_id
    fake.webhooks.expire(old_hook)
    task_id = fake.ids["tasks"][3]
    table(fake, T_TASKS).update(task_id, {"fldTNAME00000001": "Edited while deaf"})
    # Seven days on, the poll sees the hook's expiry passed.
    outcome = poll(connection, now=lambda: timezone.now() + datetime.timedelta(days=8))
    feed.refresh_from_db()
    assert feed.webhook_id != old_hook and feed.state == FeedState.ACTIVE and feed.cursor == 1
    assert [h.id for h in hooks(fake)] == [feed.webhook_id]  # the old one deleted
    assert outcome.gap_run_id is not None
    services.run_execute(run_id=outcome.gap_run_id, **QUICK)
    gap = SyncRun.objects.for_org(org).get(pk=outcome.gap_run_id)
    assert gap.kind == RunKind.INCREMENTAL and gap.status == RunStatus.SUCCEEDED, gap.error
    assert task_title(org, task_id) == "Edited while deaf"
    # The new hook hears what follows.
    table(fake, T_TASKS).update(task_id, {"fldTNAME00000001": "Heard again"})
    poll(connection)
    assert task_title(org, task_id) == "Heard again"


def test_a_disabled_webhook_is_found_by_the_daily_check_and_replaced(feed, connection, fake, org):
    fake.webhooks.disable(feed.webhook_id)
    outcome = ensure(connection)
    assert outcome.feed.webhook_id != feed.webhook_id and outcome.gap_run_id is not None


def test_a_hook_due_to_expire_is_refreshed(feed, connection, fake):
    before = feed.expires_at
    outcome = ensure(connection, now=timezone.now() + datetime.timedelta(days=6))
    assert outcome.feed.webhook_id == feed.webhook_id and outcome.gap_run_id is None
    assert outcome.feed.refreshed_at is not None and outcome.feed.expires_at >= before


def test_a_token_without_webhook_manage_leaves_the_scheduled_runs(
    connection, fake, org, owner_client
):
    scopes = {"data.records:read", "schema.bases:read"}
    fake.set_token_scopes(TOKEN, scopes)
    outcome = ensure(connection)
    assert outcome.feed.state == FeedState.NO_PERMISSION
    page = owner_client.get(reverse("sync_connection", args=[org.slug, connection.pk]))
    assert "webhook:manage" in page.content.decode()
    assert services.feed_poll_due() == []
    sync(connection)  # the scheduled runs go on


def test_two_polls_of_one_base_never_apply_the_same_payloads(feed, connection, fake):
    table(fake, T_TASKS).update(fake.ids["tasks"][0], {"fldTNAME00000001": "Once"})
    with feed_lock(connection.pk) as (acquired, _extend):
        assert acquired
        assert poll(connection).skipped == "another poll is under way"
        assert feed_poll_again(connection.pk)  # the holder is told to look once more
    assert len(poll(connection).batches) == 1


def test_a_batch_left_running_by_a_dead_worker_is_closed_and_applied_again(
    feed, connection, fake, org
):
    stale = SyncRun.objects.create(
        organization=org,
        connection=connection,
        kind=RunKind.CHANGES,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
    )
    table(fake, T_TASKS).update(fake.ids["tasks"][0], {"fldTNAME00000001": "After the crash"})
    poll(connection)
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
    assert task_title(org, fake.ids["tasks"][0]) == "After the crash"


def caught_up(connection, fake, polls: int = 40) -> None:
    """Poll until the feed's cursor reaches the hook's (a failed batch keeps it back)."""
    for _ in range(polls):
        poll(connection)
        feed = ChangeFeed.objects.for_org(connection.organization).get(connection=connection)
        (hook,) = [h for h in hooks(fake) if h.id == feed.webhook_id]
        if feed.cursor == hook.next_number:
            return
    raise AssertionError(f"the feed did not catch up in {polls} polls")


def test_mixed_faults_on_the_change_feed_leave_postgres_as_a_clean_run(fake, settings):
    clean_org, faulty_org = OrganizationFactory(slug="clean"), OrganizationFactory(slug="faulty")
    clean = services.connection_create(
        organization=clean_org, name="c", base_id=BASE_ID, token=TOKEN
    )
    faulty = services.connection_create(
        organization=faulty_org, name="f", base_id=BASE_ID, token=TOKEN
    )
    sync(clean)
    sync(faulty)
    assert ensure(faulty).feed.state == FeedState.ACTIVE
    tasks, projects = table(fake, T_TASKS), table(fake, T_PROJECTS)
    fake.faults.timeout_seconds = 1.0
    fake.faults.configure(rate=0.2)
    for number in range(12):  # edits, creations and deletions, polled as they come
        tasks.update(fake.ids["tasks"][number], {"fldTNAME00000001": f"Edited {number}"})
        if number % 3 == 0:
            tasks.create(
                {"fldTNAME00000001": f"New {number}", "fldTPROJECT00001": [fake.ids["projects"][0]]}
            )
        if number % 4 == 0:
            projects.update(fake.ids["projects"][number % 6], {"fldJSTATUS000001": "On hold"})
        if number == 5:
            tasks.delete(fake.ids["tasks"][20])
        if number % 2:
            poll(faulty)
    caught_up(faulty, fake)
    assert sum(fake.faults.injected.values()) > 0
    fake.faults.clear()
    sync(clean)
    assert snapshot(faulty_org) == snapshot(clean_org)


@pytest.fixture
def eager_tasks():
    from missionos.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
def test_a_ping_brings_an_edit_in_end_to_end(live_server, settings, fake, org, eager_tasks):
    """Airtable pings this site's endpoint over HTTP; the MAC checks out; the poll task runs
    (eagerly here: what is under test is the ping, not the worker) and applies the edit."""
    settings.AIRTABLE_WEBHOOK_URL = live_server.url
    # No test transaction: the feed is set up once connecting commits, as in production.
    connection = services.connection_create(
        organization=org, name="Northwind", base_id=BASE_ID, token=TOKEN
    )
    sync(connection)
    feed = ChangeFeed.objects.for_org(org).get(connection=connection)
    assert feed.notification_url == f"{live_server.url}/sync/airtable/notify/"
    task_id = fake.ids["tasks"][1]
    table(fake, T_TASKS).update(task_id, {"fldTNAME00000001": "Pinged in"})
    assert fake.webhooks.wait_for_notifications()
    (hook,) = hooks(fake)
    assert hook.last_notification_result["success"], hook.last_notification_result
    assert task_title(org, task_id) == "Pinged in"


def test_an_applied_batch_tells_open_dashboards_which_then_show_it(
    feed, connection, fake, org, owner_client, django_capture_on_commit_callbacks, monkeypatch
):
    from missionos import events

    sent = []
    monkeypatch.setattr(events, "_send", lambda organization_id, kind: sent.append(kind))
    project_id = fake.ids["projects"][0]
    table(fake, T_PROJECTS).update(project_id, {"fldJNAME00000001": "Shown without reload"})
    with django_capture_on_commit_callbacks(execute=True):
        poll(connection)
    assert events.PLAN in sent
    page = owner_client.get(reverse("org_home", args=[org.slug]), {"fragment": "live"})
    assert "Shown without reload" in page.content.decode()
