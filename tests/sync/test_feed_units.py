"""The change feed's pieces that need no Airtable: merging payloads, checking a ping's MAC,
the ping endpoint's refusals, and how change batches sit beside the scheduled runs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from pyairtable.models.webhook import WebhookPayload

from sync import selectors, services
from sync.airtable.webhooks import merge_payloads, verify_notification
from sync.crypto import encrypt_token
from sync.models import ChangeFeed, Connection, FeedState, RunKind, RunStatus, SyncRun

SECRET = base64.b64encode(b"s" * 32).decode()


def payload(tables: dict, *, number: int = 1) -> WebhookPayload:
    return WebhookPayload.model_validate(
        {
            "timestamp": "2026-01-02T03:04:05.000Z",
            "baseTransactionNumber": number,
            "payloadFormat": "v0",
            "actionMetadata": {"source": "client", "sourceMetadata": {}},
            "changedTablesById": tables,
        }
    )


def cells(**values) -> dict:
    return {"cellValuesByFieldId": values}


def test_payloads_merge_into_ids_to_fetch_and_ids_gone_per_table():
    changes = merge_payloads(
        [
            payload(
                {
                    "tblA": {
                        "createdRecordsById": {
                            "recNEW": {"createdTime": "2026-01-02T03:04:05.000Z", **cells(f=1)}
                        },
                        "changedRecordsById": {"recOLD": {"current": cells(f=2)}},
                    }
                }
            ),
            payload({"tblA": {"destroyedRecordIds": ["recOLD"]}}, number=2),
            payload(
                {
                    "tblB": {
                        "changedFieldsById": {"fldX": {"current": {"name": "Renamed"}}},
                        "destroyedFieldIds": ["fldY"],
                    }
                },
                number=3,
            ),
        ]
    )
    assert changes.payloads == 3
    assert changes.tables["tblA"].upserted == {"recNEW"}
    assert changes.tables["tblA"].destroyed == {"recOLD"}  # changed, then deleted: only gone
    assert not changes.tables["tblA"].fields_changed
    assert changes.tables["tblB"].renamed_fields == {"fldX": "Renamed"}
    assert changes.tables["tblB"].destroyed_fields == {"fldY"}
    assert changes.fields_changed and bool(changes)


def test_an_empty_poll_changes_nothing():
    changes = merge_payloads([])
    assert changes.payloads == 0 and not changes and not changes.fields_changed


def mac(body: bytes, secret: str = SECRET) -> str:
    key = base64.b64decode(secret)
    return "hmac-sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def test_a_ping_mac_is_the_hmac_of_the_raw_body():
    body = b'{"base":{"id":"app1"},"webhook":{"id":"ach1"},"timestamp":"2026-01-02T03:04:05.000Z"}'
    assert verify_notification(body, mac(body), SECRET)
    assert not verify_notification(body + b" ", mac(body), SECRET)  # another body
    assert not verify_notification(body, mac(body, base64.b64encode(b"x" * 32).decode()), SECRET)
    assert not verify_notification(body, mac(body).removeprefix("hmac-sha256="), SECRET)
    assert not verify_notification(body, "", SECRET)


@pytest.fixture
def bare_connection(org) -> Connection:
    return Connection.objects.create(
        organization=org,
        name="Plans",
        base_id="appAAAAAAAAAAAAAA",
        token_encrypted=encrypt_token("patXXXXXXXXXXXX"),
        token_last4="XXXX",
    )


@pytest.fixture
def active_feed(bare_connection) -> ChangeFeed:
    return ChangeFeed.objects.create(
        organization=bare_connection.organization,
        connection=bare_connection,
        state=FeedState.ACTIVE,
        webhook_id="achAAAAAAAAAAAAAA",
        mac_secret_encrypted=encrypt_token(SECRET),
        notification_url="https://okr.example.org/sync/airtable/notify/",
    )


def ping_body(webhook_id: str) -> bytes:
    return json.dumps(
        {
            "base": {"id": "appAAAAAAAAAAAAAA"},
            "webhook": {"id": webhook_id},
            "timestamp": "2026-01-02T03:04:05.000Z",
        }
    ).encode()


@pytest.fixture
def queued_polls(monkeypatch) -> list[int]:
    """The poll tasks the ping endpoint queues (the broker is not under test here)."""
    queued: list[int] = []
    monkeypatch.setattr("sync.views.feed_poll.delay", queued.append)
    return queued


def test_a_ping_with_the_hooks_mac_queues_a_poll(client, active_feed, queued_polls):
    body = ping_body(active_feed.webhook_id)
    response = client.post(
        reverse("sync_feed_notify"),
        body,
        content_type="application/json",
        headers={"X-Airtable-Content-MAC": mac(body)},
    )
    assert response.status_code == 204
    assert queued_polls == [active_feed.connection_id]


@pytest.mark.parametrize(
    "header",
    ["", "hmac-sha256=" + "0" * 64, "sha1=abc", "wrong"],
    ids=["missing", "wrong", "other-algorithm", "garbage"],
)
def test_a_ping_with_a_wrong_or_missing_mac_is_refused_and_does_nothing(
    client, active_feed, queued_polls, header
):
    body = ping_body(active_feed.webhook_id)
    headers = {"X-Airtable-Content-MAC": header} if header else {}
    response = client.post(
        reverse("sync_feed_notify"), body, content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert queued_polls == []
    active_feed.refresh_from_db()
    assert active_feed.last_poll_at is None


def test_a_ping_signed_with_another_hooks_secret_is_refused(
    client, active_feed, other_org, queued_polls
):
    other_secret = base64.b64encode(b"o" * 32).decode()
    other = Connection.objects.create(
        organization=other_org,
        name="Theirs",
        base_id="appBBBBBBBBBBBBBB",
        token_encrypted=encrypt_token("patYYYYYYYYYYYY"),
        token_last4="YYYY",
    )
    ChangeFeed.objects.create(
        organization=other_org,
        connection=other,
        state=FeedState.ACTIVE,
        webhook_id="achBBBBBBBBBBBBBB",
        mac_secret_encrypted=encrypt_token(other_secret),
    )
    # Their hook's id, our secret: the MAC must be made with the named hook's own secret.
    body = ping_body("achBBBBBBBBBBBBBB")
    response = client.post(
        reverse("sync_feed_notify"),
        body,
        content_type="application/json",
        headers={"X-Airtable-Content-MAC": mac(body, SECRET)},
    )
    assert response.status_code == 401 and queued_polls == []


def test_pings_for_unknown_hooks_or_not_pings_are_refused(client, active_feed, queued_polls):
    for body in (ping_body("achUNKNOWN0000000"), b"not json", b"{}"):
        response = client.post(
            reverse("sync_feed_notify"),
            body,
            content_type="application/json",
            headers={"X-Airtable-Content-MAC": mac(body)},
        )
        assert response.status_code == 401
    assert client.get(reverse("sync_feed_notify")).status_code == 405
    assert queued_polls == []


def test_polled_and_backup_polled_feeds_are_due(active_feed, settings):
    settings.AIRTABLE_FEED_BACKUP_POLL_SECONDS = 60
    # A pinged feed never polled is due (a backup poll), then not until a minute has passed.
    assert services.feed_poll_due() == [active_feed.connection_id]
    active_feed.last_poll_at = timezone.now()
    active_feed.save()
    assert services.feed_poll_due() == []
    active_feed.notification_url = ""  # polled: due on every tick
    active_feed.save()
    assert services.feed_poll_due() == [active_feed.connection_id]
    active_feed.state = FeedState.NO_PERMISSION
    active_feed.save()
    assert services.feed_poll_due() == []


def test_a_change_batch_neither_blocks_a_run_nor_passes_for_the_latest_one(bare_connection, org):
    SyncRun.objects.create(
        organization=org, connection=bare_connection, kind=RunKind.FULL, status="succeeded"
    )
    batch = SyncRun.objects.create(
        organization=org,
        connection=bare_connection,
        kind=RunKind.CHANGES,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
    )
    run = services.run_request(connection=bare_connection, kind=RunKind.INCREMENTAL)
    assert run.kind == RunKind.INCREMENTAL
    assert selectors.latest_run(organization=org).pk == run.pk
    assert batch not in selectors.connection_runs(connection=bare_connection)
    assert selectors.feed_batches(connection=bare_connection) == [batch]


def test_an_incremental_run_starts_from_the_last_scheduled_run_not_a_batch(
    bare_connection, org, settings
):
    from sync.airtable.client import RetryPolicy
    from sync.services.runs import INCREMENTAL_OVERLAP, _execute

    settings.AIRTABLE_API_URL = "http://127.0.0.1:9"  # nothing listens: refused at once

    full = SyncRun.objects.create(
        organization=org,
        connection=bare_connection,
        kind=RunKind.FULL,
        status=RunStatus.SUCCEEDED,
        started_at=timezone.now() - timezone.timedelta(hours=1),
    )
    SyncRun.objects.create(
        organization=org,
        connection=bare_connection,
        kind=RunKind.CHANGES,
        status=RunStatus.SUCCEEDED,
        started_at=timezone.now(),
    )
    run = services.run_request(connection=bare_connection, kind=RunKind.INCREMENTAL)
    # No Airtable here: the run fails on the schema read, after choosing where to start.
    _execute(run, bare_connection, RetryPolicy(attempts=1), None, None, lambda *_a, **_k: None)
    assert run.status == RunStatus.FAILED
    assert run.modified_since == full.started_at - INCREMENTAL_OVERLAP


def test_connecting_survives_a_feed_that_cannot_be_set_up(
    bare_connection, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(**_kwargs):
        raise RuntimeError("a bug in the feed")

    monkeypatch.setattr("sync.services.feed.feed_ensure", broken)
    ChangeFeed.objects.create(organization=bare_connection.organization, connection=bare_connection)
    with django_capture_on_commit_callbacks(execute=True):
        services.feed_ensure_after_commit(connection=bare_connection)
    feed = ChangeFeed.objects.for_org(bare_connection.organization).get()
    assert feed.state == FeedState.FAILED and "internal error" in feed.message
