"""The sync's entries in the audit log (orgs.audit): connections, their token, mapping, schedule
and write-back settings, runs started by hand, what the sync pulled, conflicts resolved; never
the token."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from okrs.models import Task
from orgs import audit
from orgs.models import AuditEntry
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.models import Connection, RunKind, RunStatus, SyncConflict, SyncRun
from sync.reconcile.adapters import ENTITY_MODELS
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN

pytestmark = pytest.mark.django_db

NEW_TOKEN = "patReplacement.0123456789abcdefNEW1"
FAST = RetryPolicy(attempts=8, backoff=0.01, backoff_cap=0.05, rate_limit_wait=0.05)


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def entries(organization, **lookups) -> list[AuditEntry]:
    rows = AuditEntry.objects.for_org(organization).filter(**lookups)
    return list(rows.order_by("created_at", "id"))


def logged_text(organization) -> str:
    """Everything the organization's log holds, as one text."""
    rows = AuditEntry.objects.for_org(organization).values_list(
        "actor_label", "action", "target_label", "changes"
    )
    return json.dumps(list(rows))


def execute(run: SyncRun) -> SyncRun:
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def test_connecting_a_base_and_replacing_its_token(owner_client, org, owner, fake):
    owner_client.post(
        url("sync_connections", org), {"name": "Plans", "base_id": BASE_ID, "token": TOKEN}
    )
    connection = Connection.objects.for_org(org).get()
    (connected,) = entries(org)
    assert (connected.actor, connected.action, connected.target_kind, connected.target_id) == (
        owner,
        "connected",
        "connection",
        connection.pk,
    )
    assert connected.target_label == f"Plans ({BASE_ID})"
    assert connected.changes["name"] == [None, "Plans"]
    assert connected.changes["base_id"] == [None, BASE_ID]
    assert connected.changes["token"] == [None, "set (not shown)"]
    assert connected.changes["mapped_tables"][1] > 0

    refused = owner_client.post(
        url("sync_token", org, connection_id=connection.pk), {"token": "patMISTYPED.00000000"}
    )
    assert refused.status_code == 400 and len(entries(org)) == 1  # nothing was replaced

    fake.grant(NEW_TOKEN, BASE_ID)
    owner_client.post(url("sync_token", org, connection_id=connection.pk), {"token": NEW_TOKEN})
    replaced = entries(org)[-1]
    assert (replaced.actor, replaced.action) == (owner, "replaced token")
    assert replaced.changes["token"] == ["set (not shown)", "replaced (not shown)"]

    text = logged_text(org)
    for secret in (TOKEN, NEW_TOKEN, "patMISTYPED", connection.token_encrypted):
        assert secret not in text
    exported = b"".join(owner_client.get(url("audit_csv", org)).streaming_content).decode()
    assert TOKEN not in exported and NEW_TOKEN not in exported and "replaced token" in exported


def test_a_mapping_change_names_the_fields(owner_client, org, owner, connection):
    page = owner_client.get(url("sync_mapping", org, connection_id=connection.pk))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["field__task__due_on"] = ""  # stop syncing the due date
    owner_client.post(url("sync_mapping", org, connection_id=connection.pk), data)
    changed = entries(org, action="changed mapping")
    assert len(changed) == 1
    assert changed[0].actor == owner and changed[0].target_id == connection.pk
    assert changed[0].changes == {"task due_on": ["Due", None]}

    owner_client.post(url("sync_mapping", org, connection_id=connection.pk), data)  # the same
    assert len(entries(org, action="changed mapping")) == 1


def test_schedule_and_write_back_settings(owner_client, org, owner, connection):
    owner_client.post(
        url("sync_schedule", org, connection_id=connection.pk),
        {"incremental_every_minutes": "15", "full_at_hour": ""},
    )
    (schedule,) = entries(org, action="changed schedule")
    assert schedule.actor == owner
    assert schedule.changes == {
        "incremental_every_minutes": [60, 15],
        "full_at_hour": [2, None],
    }
    owner_client.post(
        url("sync_writes", org, connection_id=connection.pk),
        {"action": "read_only", "table_id": T_TASKS},
    )
    (write_back,) = entries(org, action="changed write-back")
    assert write_back.changes == {"Action Items read-only": [False, True]}  # the base names it so


def test_a_run_started_by_hand_and_what_it_pulled(owner_client, org, owner, connection):
    owner_client.post(url("sync_now", org, connection_id=connection.pk), {"kind": "full"})
    run = SyncRun.objects.for_org(org).get()
    (started,) = entries(org, action="started sync")
    assert (started.actor, started.target_kind, started.target_id) == (owner, "sync_run", run.pk)
    assert started.target_label == "Full sync of Northwind plans"

    run = execute(run)
    (synced,) = entries(org, action="synced")
    assert (synced.actor, synced.actor_label, synced.target_id) == (None, "Airtable", run.pk)
    assert synced.changes == {"records created": [None, run.created]}
    assert run.created > 20
    # One entry for the run, not one per record it wrote.
    assert len(entries(org)) == 3  # connected, started, synced

    again = execute(services.run_request(connection=connection, kind=RunKind.FULL))
    assert again.created == again.updated == again.archived == 0
    assert len(entries(org)) == 3  # a scheduled run that changed nothing: no entry at all


def test_a_resolved_conflict(org, owner, connection, fake):
    execute(services.run_request(connection=connection, kind=RunKind.FULL))
    task = Task.objects.for_org(org).get(title="Task 1.0")
    task.title = "Renamed in MissionOS"
    task.save()
    fake.bases[BASE_ID].table(T_TASKS).update(
        task.source_record_id, {"fldTNAME00000001": "Renamed in Airtable"}
    )
    execute(services.run_request(connection=connection, kind=RunKind.FULL))
    conflict = SyncConflict.objects.for_org(org).get(entity="task", row_id=task.pk)
    services.conflict_resolve(conflict=conflict, keep=SyncConflict.Resolution.AIRTABLE, actor=owner)
    (resolved,) = entries(org, action="resolved conflict")
    assert (resolved.actor, resolved.target_kind, resolved.target_id) == (owner, "task", task.pk)
    assert resolved.target_label == "Renamed in Airtable"
    assert resolved.changes == {"title": ["Renamed in MissionOS", "Renamed in Airtable"]}


def test_every_synced_model_has_an_audit_kind():
    """A conflict on any synced record is logged under its kind (sync.services.push)."""
    kinds = {entity: audit.kind_of(model()) for entity, model in ENTITY_MODELS.items()}
    assert kinds == {entity: entity for entity in ENTITY_MODELS}
