"""Webhooks on the fake Airtable through pyairtable's Base/Webhook API (its pydantic models
validate every hook and payload), and notification pings to a real local HTTP server."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import pytest
import requests
from pyairtable.models import WebhookNotification, WebhookPayload

from tests.devtools.write_base import (
    BASE,
    LINKS,
    NAME,
    OTHER_BASE,
    PEOPLE,
    SCORE,
    STATUS,
    TABLE,
    TOKEN,
    ManualClock,
    Receiver,
    client,
    error_of,
    payloads,
    spec,
)

DAY = 24 * 3600.0
ALL_DATA = {"options": {"filters": {"dataTypes": ["tableData", "tableFields", "tableMetadata"]}}}


def changed_tables(payload: WebhookPayload) -> dict:
    return payload.changed_tables_by_id


# -- hooks ---------------------------------------------------------------------------------------


def test_create_list_refresh_delete_with_pyairtable(make_fake):
    clock = ManualClock()
    fake, _ = make_fake(clock=clock)
    base = client(fake).base(BASE)

    created = base.add_webhook("http://127.0.0.1:9/hook", ALL_DATA)
    assert created.id.startswith("ach") and len(created.id) == 17
    assert len(base64.b64decode(created.mac_secret_base64)) == 32
    assert created.expiration_time == dt.datetime.fromtimestamp(clock.now + 7 * DAY, dt.UTC)

    (hook,) = base.webhooks()
    assert hook.id == created.id and base.webhook(created.id).id == created.id
    assert hook.is_hook_enabled and hook.are_notifications_enabled
    assert hook.cursor_for_next_payload == 1
    assert hook.last_notification_result is None and hook.last_successful_notification_time is None
    assert hook.notification_url == "http://127.0.0.1:9/hook"
    assert (
        hook.specification.options.filters.data_types == ALL_DATA["options"]["filters"]["dataTypes"]
    )

    clock.now += DAY
    hook.extend_expiration()  # POST …/refresh
    assert base.webhook(hook.id).expiration_time == dt.datetime.fromtimestamp(
        clock.now + 7 * DAY, dt.UTC
    )
    hook.disable_notifications()
    assert not base.webhook(hook.id).are_notifications_enabled
    hook.enable_notifications()
    assert base.webhook(hook.id).are_notifications_enabled

    hook.delete()
    assert base.webhooks() == []
    with pytest.raises(requests.HTTPError) as excinfo:
        hook.delete()
    assert error_of(excinfo)[0] == 404


def test_at_most_ten_hooks_per_base_and_specifications_are_checked(fake_table):
    fake, _ = fake_table
    base = client(fake).base(BASE)
    for _ in range(10):
        base.add_webhook(None, spec("tableData"))
    with pytest.raises(requests.HTTPError) as excinfo:
        base.add_webhook(None, spec("tableData"))
    assert error_of(excinfo)[0] == 422
    client(fake, token="patOther").base(OTHER_BASE).add_webhook(None, spec("tableData"))

    url = f"{fake.url}/v0/bases/{OTHER_BASE}/webhooks"
    auth = {"Authorization": "Bearer patOther"}
    for bad in (
        {"specification": spec()},
        {"specification": spec("tableRows")},
        {"specification": spec("tableData", recordChangeScope="tblNotInThisBase")},
        {"notificationUrl": "ftp://example.com", "specification": spec("tableData")},
    ):
        assert requests.post(url, json=bad, headers=auth, timeout=2).status_code == 422


def test_webhook_calls_need_the_scope_and_count_against_the_rate_limit(make_fake):
    clock = ManualClock(1000.0)
    fake, _ = make_fake(rate_limit=5.0, monotonic=clock)
    fake.add_token("patRecordsOnly", scopes={"data.records:read", "data.records:write"})
    fake.add_token("patHooksOnly", scopes={"webhook:manage"})
    for token in ("patRecordsOnly", "patHooksOnly"):
        fake.grant(token, BASE)

    with pytest.raises(requests.HTTPError) as excinfo:
        client(fake, token="patRecordsOnly").base(BASE).webhooks()
    assert error_of(excinfo)[1]["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    hooks_only = client(fake, token="patHooksOnly").base(BASE)
    with pytest.raises(requests.HTTPError) as excinfo:  # tableData needs data.records:read
        hooks_only.add_webhook(None, spec("tableData"))
    assert error_of(excinfo)[0] == 403

    base = client(fake).base(BASE)
    for _ in range(4):  # the add_webhook above counted: its body is read to find the scopes
        base.webhooks()
    with pytest.raises(requests.HTTPError) as excinfo:
        base.webhooks()
    assert error_of(excinfo)[1]["error"]["type"] == "RATE_LIMIT_REACHED"


def test_faults_strike_webhook_calls(fake_table):
    fake, _ = fake_table
    base = client(fake).base(BASE)
    fake.faults.inject_next("500_after")
    with pytest.raises(requests.HTTPError):
        base.add_webhook(None, spec("tableData"))
    (hook,) = base.webhooks()  # created all the same: its secret is lost to the client
    fake.faults.inject_next("503")
    with pytest.raises(requests.HTTPError):
        hook.delete()
    assert [h.id for h in base.webhooks()] == [hook.id]


# -- payloads ------------------------------------------------------------------------------------


def test_each_request_or_model_call_is_one_payload(fake_table):
    fake, table = fake_table
    base = client(fake).base(BASE)
    hook = base.add_webhook(None, spec("tableData", includes={"includePreviousCellValues": True}))
    before = fake.bases[BASE].transaction_number
    api_table = client(fake).table(BASE, TABLE)

    first, second = api_table.batch_create([{"Name": "Grow", "Status": "Done"}, {"Name": "Ship"}])
    api_table.update(first["id"], {"Score": 3, "Depends on": [second["id"]]})
    api_table.update(first["id"], {"Score": 3})  # a no-op: no payload
    table.update(second["id"], {SCORE: 1})  # a person edits in Airtable
    api_table.delete(second["id"])  # also unlinks it from the first

    found = payloads(fake, hook.id)
    assert [p.cursor for p in found] == [1, 2, 3, 4]
    numbers = [p.base_transaction_number for p in found]
    assert numbers == sorted(numbers) and numbers[0] > before
    assert [p.action_metadata.source for p in found] == [
        "publicApi",
        "publicApi",
        "client",
        "publicApi",
    ]
    assert all(p.payload_format == "v0" for p in found)

    created = changed_tables(found[0])[TABLE].created_records_by_id
    assert list(created) == [first["id"], second["id"]]
    assert created[first["id"]].cell_values_by_field_id == {
        NAME: "Grow",
        STATUS: {"id": "selDone", "name": "Done", "color": "greenLight2"},
    }
    change = changed_tables(found[1])[TABLE].changed_records_by_id[first["id"]]
    assert change.current.cell_values_by_field_id == {
        SCORE: 3,
        LINKS: [{"id": second["id"], "name": "Ship"}],
    }
    assert change.previous.cell_values_by_field_id == {SCORE: None, LINKS: None}
    person_edit = changed_tables(found[2])[TABLE].changed_records_by_id
    assert person_edit[second["id"]].current.cell_values_by_field_id == {SCORE: 1}
    deletion = changed_tables(found[3])[TABLE]
    assert deletion.destroyed_record_ids == [second["id"]]
    assert deletion.changed_records_by_id[first["id"]].current.cell_values_by_field_id == {
        LINKS: None
    }
    assert base.webhook(hook.id).cursor_for_next_payload == 5
    assert [p.cursor for p in payloads(fake, hook.id, cursor=4)] == [4]


def test_filters_choose_what_a_hook_collects(fake_table):
    fake, table = fake_table
    base = client(fake).base(BASE)
    data = base.add_webhook(None, spec("tableData")).id
    fields = base.add_webhook(
        None, spec("tableFields", includes={"includePreviousFieldDefinitions": True})
    ).id
    metadata = base.add_webhook(None, spec("tableMetadata")).id
    people = base.add_webhook(None, spec("tableData", recordChangeScope=PEOPLE)).id
    from_api = base.add_webhook(None, spec("tableData", fromSources=["publicApi"])).id
    scores = base.add_webhook(
        None,
        spec(
            "tableData",
            watchDataInFieldIds=[SCORE],
            includes={"includeCellValuesInFieldIds": "all"},
        ),
    ).id

    record_id = table.create({NAME: "Grow"})  # client
    client(fake).table(BASE, TABLE).update(record_id, {"Name": "Grow more"})  # publicApi
    client(fake).table(BASE, TABLE).update(record_id, {"Score": 5})
    new_field = table.add_field("Notes", "multilineText")
    table.rename_field(new_field, "Remarks")
    table.name = "Goals"
    fake.bases[BASE].table(PEOPLE).create({"fldPersonName0001": "Ada"})

    def tables_of(hook_id: str) -> list[list[str]]:
        return [sorted(p.changed_tables_by_id) for p in payloads(fake, hook_id)]

    assert tables_of(data) == [[TABLE], [TABLE], [TABLE], [PEOPLE]]
    assert tables_of(people) == [[PEOPLE]]
    assert len(payloads(fake, from_api)) == 2
    score_payloads = payloads(fake, scores)  # creates pass the field filter; name edits not
    assert [sorted(p.changed_tables_by_id) for p in score_payloads] == [[TABLE], [TABLE], [PEOPLE]]
    change = score_payloads[1].changed_tables_by_id[TABLE].changed_records_by_id[record_id]
    assert change.current.cell_values_by_field_id == {SCORE: 5}
    assert change.unchanged.cell_values_by_field_id == {NAME: "Grow more"}

    created, renamed = (p.changed_tables_by_id[TABLE] for p in payloads(fake, fields))
    assert created.created_fields_by_id[new_field].name == "Notes"
    assert created.created_fields_by_id[new_field].type == "multilineText"
    assert renamed.changed_fields_by_id[new_field].current.name == "Remarks"
    assert renamed.changed_fields_by_id[new_field].previous.name == "Notes"
    (meta,) = payloads(fake, metadata)
    assert meta.changed_tables_by_id[TABLE].changed_metadata.current.name == "Goals"
    assert meta.changed_tables_by_id[TABLE].changed_metadata.previous.name == "Objectives"


def test_payload_pages_hold_at_most_fifty(fake_table):
    fake, table = fake_table
    hook = client(fake).base(BASE).add_webhook(None, spec("tableData"))
    record_id = table.create({NAME: "Counter"})
    for i in range(1, 60):
        table.update(record_id, {SCORE: i})
    url = f"{fake.url}/v0/bases/{BASE}/webhooks/{hook.id}/payloads"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    page = requests.get(url, headers=auth, timeout=2).json()
    assert (len(page["payloads"]), page["cursor"], page["mightHaveMore"]) == (50, 51, True)
    page = requests.get(url, params={"cursor": 51}, headers=auth, timeout=2).json()
    assert (len(page["payloads"]), page["cursor"], page["mightHaveMore"]) == (10, 61, False)
    page = requests.get(url, params={"cursor": 61}, headers=auth, timeout=2).json()
    assert page == {"payloads": [], "cursor": 61, "mightHaveMore": False}
    too_many = requests.get(url, params={"limit": 51}, headers=auth, timeout=2)
    assert too_many.status_code == 422
    assert len(payloads(fake, hook.id)) == 60  # pyairtable follows mightHaveMore
    assert [p.cursor for p in payloads(fake, hook.id, cursor=58)] == [58, 59, 60]


# -- expiry --------------------------------------------------------------------------------------


def test_hooks_expire_after_seven_days_unless_refreshed_or_read(make_fake):
    clock = ManualClock()
    fake, table = make_fake(clock=clock)
    base = client(fake).base(BASE)
    read = base.add_webhook(None, spec("tableData")).id
    refreshed = base.add_webhook(None, spec("tableData")).id
    left = base.add_webhook(None, spec("tableData")).id
    clock.now += 1 * DAY
    record_id = table.create({NAME: "Grow"})  # payload 1, on day 1

    clock.now += 5 * DAY
    payloads(fake, read)  # listing payloads extends the hook's life
    base.webhook(refreshed).extend_expiration()
    clock.now += 1 * DAY + 1
    table.update(record_id, {SCORE: 1})

    hooks = {h.id: h for h in base.webhooks()}
    assert [hooks[i].is_hook_enabled for i in (read, refreshed, left)] == [True, True, False]
    assert [len(payloads(fake, i)) for i in (read, refreshed, left)] == [2, 2, 1]
    with pytest.raises(requests.HTTPError) as excinfo:
        base.webhook(left).extend_expiration()
    assert error_of(excinfo)[1]["error"]["type"] == "CANNOT_REFRESH_DISABLED_WEBHOOK"

    clock.now += 1 * DAY  # day 8: payload 1 is more than 7 days old: purged
    table.update(record_id, {SCORE: 2})
    kept = payloads(fake, read)
    assert [
        p.changed_tables_by_id[TABLE]
        .changed_records_by_id[record_id]
        .current.cell_values_by_field_id
        for p in kept
    ] == [{SCORE: 1}, {SCORE: 2}]
    # pyairtable labels payloads cursor + index from the cursor it asked for (1 here), so
    # after a purge its labels lag; the server's next cursor is right:
    assert client(fake).base(BASE).webhook(read).cursor_for_next_payload == 4


def test_expire_and_disable_now(fake_table):
    fake, table = fake_table
    base = client(fake).base(BASE)
    expired = base.add_webhook(None, spec("tableData")).id
    disabled = base.add_webhook(None, spec("tableData")).id
    fake.expire_webhook(expired)
    fake.disable_webhook(disabled)
    table.create({NAME: "Unseen"})
    assert [h.is_hook_enabled for h in base.webhooks()] == [False, False]
    assert payloads(fake, expired) == [] and payloads(fake, disabled) == []


# -- notifications -------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def test_pings_carry_a_mac_pyairtable_verifies(fake_table, receiver):
    fake, table = fake_table
    base = client(fake).base(BASE)
    created = base.add_webhook(receiver.url, spec("tableData"))
    table.create({NAME: "Grow"})
    client(fake).table(BASE, TABLE).create({"Name": "Ship"})
    assert fake.wait_for_notifications()

    assert len(receiver.pings) == 2
    for body, header in receiver.pings:
        note = WebhookNotification.from_request(body, header, created.mac_secret_base64)
        assert (note.base.id, note.webhook.id) == (BASE, created.id)
        with pytest.raises(ValueError):
            WebhookNotification.from_request(body, header, base64.b64encode(b"x" * 32).decode())
    assert json.loads(receiver.pings[0][0])["timestamp"].endswith("Z")
    hook = base.webhook(created.id)
    assert hook.last_notification_result.success
    assert hook.last_notification_result.retry_number == 0
    assert hook.last_successful_notification_time is not None

    hook.disable_notifications()
    table.create({NAME: "Quiet"})
    assert fake.wait_for_notifications() and len(receiver.pings) == 2
    assert len(payloads(fake, created.id)) == 3  # collected all the same


def test_a_slow_receiver_never_blocks_the_change(fake_table, receiver):
    fake, table = fake_table
    client(fake).base(BASE).add_webhook(receiver.url, spec("tableData"))
    receiver.release.clear()  # the receiver holds every ping until released
    api_table = client(fake).table(BASE, TABLE)
    api_table.create({"Name": "Grow"})
    table.create({NAME: "Ship"})
    assert len(api_table.all()) == 2
    receiver.release.set()
    assert fake.wait_for_notifications()
    assert len(receiver.pings) == 2


def test_failed_pings_are_recorded(fake_table):
    fake, table = fake_table
    failing = Receiver(status=500)
    try:
        hook_id = client(fake).base(BASE).add_webhook(failing.url, spec("tableData")).id
        table.create({NAME: "Grow"})
        assert fake.wait_for_notifications()
    finally:
        failing.close()
    result = client(fake).base(BASE).webhook(hook_id).last_notification_result
    assert not result.success and "500" in result.error.message
    assert client(fake).base(BASE).webhook(hook_id).last_successful_notification_time is None
