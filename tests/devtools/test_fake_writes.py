"""Writes on the fake Airtable, driven over HTTP by the real pyairtable client (nothing mocked):
creates, updates, upserts, deletes, field creation, refusals, scopes, rate limit, faults."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from pyairtable import formulas as F
from pyairtable.models.schema import SingleLineTextFieldSchema

from tests.devtools.write_base import (
    AT,
    BASE,
    CALC,
    DONE,
    DUE,
    LINKS,
    NAME,
    PEOPLE,
    SCORE,
    STATUS,
    TABLE,
    TAGS,
    TOKEN,
    ManualClock,
    client,
    error_of,
)


def refusal(call, *args, **kwargs) -> tuple[int, dict]:
    with pytest.raises(requests.HTTPError) as excinfo:
        call(*args, **kwargs)
    return error_of(excinfo)


# -- create --------------------------------------------------------------------------------------


def test_create_returns_every_non_empty_field_by_name_or_id(fake_table):
    fake, table = fake_table
    api_table = client(fake).table(BASE, "Objectives")

    one = api_table.create({"Name": "Grow", SCORE: 0, "Done": False, "Status": "Done"})
    assert set(one) == {"id", "createdTime", "fields"}
    assert one["fields"] == {"Name": "Grow", "Score": 0, "Status": "Done"}  # False is omitted
    assert table.get(one["id"]).fields == {NAME: "Grow", SCORE: 0, STATUS: "Done"}

    many = api_table.batch_create(
        [{"Name": f"O{i}", "Due": "2024-03-01"} for i in range(12)], use_field_ids=True
    )
    assert len(many) == 12 and len(table) == 13
    assert many[0]["fields"] == {NAME: "O0", DUE: "2024-03-01"}
    assert [r.method for r in fake.requests] == ["POST", "POST", "POST"]  # 1 + 10 + 2
    assert api_table.get(many[11]["id"])["fields"] == {"Name": "O11", "Due": "2024-03-01"}


def test_more_than_ten_records_or_no_fields_are_refused(fake_table):
    fake, table = fake_table
    url = f"{fake.url}/v0/{BASE}/{TABLE}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    records = [{"fields": {"Name": str(i)}} for i in range(11)]
    response = requests.post(url, json={"records": records}, headers=auth, timeout=2)
    assert (response.status_code, response.json()["error"]["type"]) == (422, "INVALID_RECORDS")
    response = requests.post(url, json={"typecast": True}, headers=auth, timeout=2)
    assert response.json()["error"]["type"] == "INVALID_REQUEST_MISSING_FIELDS"
    response = requests.post(url, data=b"{not json", headers=auth, timeout=2)
    assert response.status_code == 422
    assert len(table) == 0


# -- update, replace, upsert ---------------------------------------------------------------------


def test_update_merges_replace_clears_and_both_move_last_modified_time(make_fake):
    clock = ManualClock()
    fake, table = make_fake(clock=clock)
    record_id = table.create({NAME: "Grow", SCORE: 1, STATUS: "Todo"})
    other = table.create({NAME: "Untouched"})
    api_table = client(fake).table(BASE, TABLE)
    clock.now += 3600
    cut = dt.datetime.fromtimestamp(clock.now - 1, dt.UTC)

    merged = api_table.update(record_id, {"Score": 2})
    assert merged["fields"] == {"Name": "Grow", "Score": 2, "Status": "Todo"}
    since_cut = F.IS_AFTER(F.LAST_MODIFIED_TIME(), cut)
    assert [r["id"] for r in api_table.all(formula=since_cut)] == [record_id]
    score_since = F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Score")), cut)
    status_since = F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Status")), cut)
    assert [r["id"] for r in api_table.all(formula=score_since)] == [record_id]
    assert api_table.all(formula=status_since) == []

    replaced = api_table.update(record_id, {"Name": "Grow more"}, replace=True)
    assert replaced["fields"] == {"Name": "Grow more"}
    assert [r["id"] for r in api_table.all(formula=status_since)] == [record_id]  # cleared
    batch = api_table.batch_update(
        [{"id": record_id, "fields": {DONE: True}}, {"id": other, "fields": {"Score": 0}}],
        use_field_ids=True,
    )
    assert [r["fields"] for r in batch] == [
        {NAME: "Grow more", DONE: True},
        {NAME: "Untouched", SCORE: 0},
    ]


def test_upsert_creates_updates_and_refuses_ambiguous_matches(fake_table):
    fake, table = fake_table
    existing = table.create({NAME: "Grow", SCORE: 1})
    api_table = client(fake).table(BASE, TABLE)

    result = api_table.batch_upsert(
        [
            {"fields": {"Name": "Grow", "Score": 2}},
            {"fields": {"Name": "Ship", "Score": 3}},
            {"fields": {"Name": "Ship", "Status": "Done"}},  # the record created just before
        ],
        key_fields=["Name"],
    )
    created = result["createdRecords"]
    assert result["updatedRecords"] == [existing] and len(created) == 1
    assert table.get(existing).fields == {NAME: "Grow", SCORE: 2}
    assert table.get(created[0]).fields == {NAME: "Ship", SCORE: 3, STATUS: "Done"}
    assert [r["id"] for r in result["records"]] == [existing, created[0]]

    by_id = api_table.batch_upsert([{"fields": {NAME: "Ship", SCORE: 4}}], key_fields=[NAME])
    assert by_id["updatedRecords"] == created and by_id["createdRecords"] == []

    table.create({NAME: "Ship"})
    status, body = refusal(api_table.batch_upsert, [{"fields": {"Name": "Ship"}}], ["Name"])
    assert status == 422 and "2 records match" in body["error"]["message"]
    assert len(table) == 3


def test_missing_records_are_404(fake_table):
    fake, table = fake_table
    api_table = client(fake).table(BASE, TABLE)
    gone = table.create({NAME: "Gone"})
    table.delete(gone)
    expected = (
        404,
        {
            "error": {
                "type": "MODEL_ID_NOT_FOUND",
                "message": f"Could not find a record with ID {gone}",
            }
        },
    )
    assert refusal(api_table.update, gone, {"Name": "x"}) == expected
    assert refusal(api_table.batch_update, [{"id": gone, "fields": {}}]) == expected
    assert refusal(api_table.delete, gone) == expected
    assert refusal(api_table.batch_delete, [gone]) == expected


# -- delete --------------------------------------------------------------------------------------


def test_delete_one_and_many(fake_table):
    fake, table = fake_table
    ids = table.create_many([{NAME: f"O{i}"} for i in range(12)])
    keeper = table.create({NAME: "Keeper", LINKS: ids[:2]})
    api_table = client(fake).table(BASE, TABLE)

    assert api_table.delete(ids[0]) == {"id": ids[0], "deleted": True}
    deleted = api_table.batch_delete(ids[1:])
    assert deleted == [{"id": i, "deleted": True} for i in ids[1:]]
    assert list(table.records) == [keeper]
    assert api_table.get(keeper)["fields"] == {"Name": "Keeper"}  # links to them are gone
    methods = [(r.method, r.path.count("/")) for r in fake.requests]
    assert methods[:3] == [("DELETE", 4), ("DELETE", 3), ("DELETE", 3)]  # 1, then 10 + 1


# -- values --------------------------------------------------------------------------------------


def test_values_are_stored_as_airtable_stores_them(fake_table):
    fake, table = fake_table
    person = fake.bases[BASE].table(PEOPLE).create({"fldPersonName0001": "Ada"})
    other = table.create({NAME: "Other"})
    api_table = client(fake).table(BASE, TABLE)

    record = api_table.create(
        {
            "Name": "Grow",
            "At": "2024-03-01T10:00:00+01:00",
            "Due": "2024-03-01T23:00:00Z",
            "Depends on": [other],
            "Lead": [person],
            "Owner": {"anything": ["the fake does not know this type"]},
        }
    )
    assert table.get(record["id"]).fields == {
        NAME: "Grow",
        AT: "2024-03-01T09:00:00.000Z",
        DUE: "2024-03-01",
        LINKS: [other],
        "fldLead0000000001": [person],
        "fldOwner000000001": {"anything": ["the fake does not know this type"]},
    }
    cleared = api_table.update(record["id"], {"Name": "", "Depends on": [], "At": None})
    assert set(cleared["fields"]) == {"Due", "Lead", "Owner"}


COMPUTED = 'Field "Calc" cannot accept a value because the field is computed'
INVALID, CHOICE = "INVALID_VALUE_FOR_COLUMN", "INVALID_MULTIPLE_CHOICE_OPTIONS"
NEW_OPTION = "Insufficient permissions to create new select option "
MISSING = "recNoSuchRecord00"


@pytest.mark.parametrize(
    ("fields", "error_type", "message"),
    [
        ({"Calc": 2}, INVALID, COMPUTED),
        ({CALC: None}, INVALID, COMPUTED),
        ({"Nope": 1}, "UNKNOWN_FIELD_NAME", 'Unknown field name: "Nope"'),
        ({"Status": "Blocked"}, CHOICE, NEW_OPTION + '""Blocked""'),
        ({"Tags": ["a"]}, CHOICE, NEW_OPTION + '""a""'),
        ({"Score": "seven"}, INVALID, 'Cannot parse value "seven" for field Score'),
        ({"Name": 7}, INVALID, 'Cannot parse value "7" for field Name'),
        ({"Due": "next Tuesday"}, INVALID, 'Cannot parse value "next Tuesday" for field Due'),
        ({"Done": "yes"}, INVALID, 'Cannot parse value "yes" for field Done'),
        ({"Depends on": ["Grow"]}, INVALID, 'Field "Depends on" cannot accept the provided value'),
        ({"Depends on": [MISSING]}, INVALID, f"{MISSING} does not exist in table Objectives"),
        ({"Lead": MISSING}, INVALID, 'Field "Lead" cannot accept the provided value'),
    ],
)
def test_refused_values(fake_table, fields, error_type, message):
    fake, table = fake_table
    api_table = client(fake).table(BASE, TABLE)
    status, body = refusal(api_table.create, {"Name": "Grow", **fields})
    assert (status, body["error"]["type"]) == (422, error_type)
    assert message in body["error"]["message"]
    record_id = table.create({NAME: "Kept"})
    assert refusal(api_table.update, record_id, fields)[0] == 422
    assert len(table) == 1 and table.get(record_id).fields == {NAME: "Kept"}  # nothing applied


def test_typecast_converts_values_and_adds_select_options(fake_table):
    fake, _ = fake_table
    api_table = client(fake).table(BASE, TABLE)
    created = api_table.create(
        {"Name": 7, "Score": "2.5", "Status": "Blocked", "Tags": ["x", "y", "x"], "Done": "yes"},
        typecast=True,
    )
    assert created["fields"] == {
        "Name": "7",
        "Score": 2.5,
        "Status": "Blocked",
        "Tags": ["x", "y"],
        "Done": True,
    }
    schema = client(fake).base(BASE).schema().table(TABLE)
    assert [c.name for c in schema.field("Status").options.choices] == ["Todo", "Done", "Blocked"]
    assert [c.name for c in schema.field(TAGS).options.choices] == ["x", "y"]
    assert api_table.create({"Status": "Blocked"})["fields"] == {"Status": "Blocked"}


# -- fields --------------------------------------------------------------------------------------


def test_create_field_through_pyairtable(fake_table):
    fake, table = fake_table
    api_table = client(fake).table(BASE, "Objectives")
    field = api_table.create_field("MissionOS ID", "singleLineText", description="ours")
    assert isinstance(field, SingleLineTextFieldSchema)
    assert field.id.startswith("fld") and field.description == "ours"
    assert table.field("MissionOS ID")["id"] == field.id
    record = api_table.create({"MissionOS ID": "okr-1"}, use_field_ids=True)
    assert record["fields"] == {field.id: "okr-1"}

    status, body = refusal(api_table.create_field, "missionos id", "singleLineText")
    assert (status, body["error"]["type"]) == (422, "DUPLICATE_OR_EMPTY_FIELD_NAME")
    select = api_table.create_field("Stage", "singleSelect", options={"choices": [{"name": "A"}]})
    assert select.options.choices[0].id.startswith("sel")


# -- scopes and permission levels ---------------------------------------------------------------


def test_scopes_and_read_only_bases_refuse_with_403(fake_table):
    fake, table = fake_table
    fake.add_token("patReader", scopes={"data.records:read", "schema.bases:read"})
    fake.grant("patReader", BASE)
    record_id = table.create({NAME: "Grow"})
    reader = client(fake, token="patReader").table(BASE, TABLE)
    expected = (
        403,
        {
            "error": {
                "type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                "message": "Invalid permissions, or the requested model was not found. Check "
                "that both your user and your token have the required permissions, and that "
                "the model names and/or ids are correct.",
            }
        },
    )
    assert len(reader.all()) == 1
    assert refusal(reader.create, {"Name": "x"}) == expected
    assert refusal(reader.update, record_id, {"Name": "x"}) == expected
    assert refusal(reader.delete, record_id) == expected
    assert refusal(reader.create_field, "X", "singleLineText") == expected
    assert refusal(client(fake, token="patReader").base(BASE).webhooks) == expected

    fake.set_token_scopes(TOKEN, {"data.records:write"})  # may write, not read
    writer = client(fake).table(BASE, TABLE)
    assert writer.create({"Name": "Blind"})["fields"] == {"Name": "Blind"}
    assert refusal(writer.all)[0] == 403
    fake.set_token_scopes(TOKEN, None)  # everything again

    fake.bases[BASE].permission_level = "read"
    assert client(fake).bases()[0].permission_level == "read"
    assert refusal(client(fake).table(BASE, TABLE).create, {"Name": "x"}) == expected
    fake.bases[BASE].permission_level = "edit"  # records, not fields
    assert client(fake).table(BASE, TABLE).create({"Name": "y"})["fields"] == {"Name": "y"}
    assert refusal(client(fake).table(BASE, TABLE).create_field, "X", "singleLineText")[0] == 403
    assert [r.status for r in fake.requests].count(403) == 8
    assert len(table) == 3


# -- rate limit and faults -----------------------------------------------------------------------


def test_writes_count_against_the_base_rate_limit(make_fake):
    clock = ManualClock(1000.0)
    fake, table = make_fake(rate_limit=5.0, lockout_seconds=30, monotonic=clock)
    api_table = client(fake).table(BASE, TABLE)
    for i in range(3):
        api_table.create({"Name": f"O{i}"})
    api_table.all()
    api_table.batch_delete([next(iter(table.records))])
    status, body = refusal(api_table.create, {"Name": "one too many"})
    assert (status, body["error"]["type"]) == (429, "RATE_LIMIT_REACHED")
    assert len(table) == 2 and fake.lockouts == 1


def test_faults_before_a_write_leave_it_unapplied(fake_table):
    fake, table = fake_table
    fake.faults.timeout_seconds = 1.0
    api_table = client(fake, timeout=(2, 0.3)).table(BASE, TABLE)

    for kind in ("500", "429", "502", "503"):
        fake.faults.inject_next(kind)
        with pytest.raises(requests.HTTPError) as excinfo:
            api_table.create({"Name": kind})
        assert excinfo.value.response.status_code == int(kind)
    fake.faults.inject_next("timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api_table.create({"Name": "timeout"})
    fake.faults.inject_next("broken_json")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        api_table.create({"Name": "broken"})
    fake.faults.inject_next("drop")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api_table.create({"Name": "drop"})
    assert len(table) == 0
    assert sum(fake.faults.injected.values()) == 7


def test_faults_after_a_write_apply_it_first(fake_table):
    fake, table = fake_table
    fake.faults.timeout_seconds = 1.0
    api_table = client(fake, timeout=(2, 0.3)).table(BASE, TABLE)
    record_id = table.create({NAME: "Grow", SCORE: 1})

    fake.faults.inject_next("500_after")
    assert refusal(api_table.update, record_id, {"Score": 2})[0] == 500
    fake.faults.inject_next("timeout_after")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api_table.create({"Name": "timed out"})
    fake.faults.inject_next("broken_json_after")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        api_table.batch_delete([record_id])
    fake.faults.inject_next("drop_after")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api_table.create_field("Added", "singleLineText")
    assert [r.fields for r in table.records.values()] == [{NAME: "timed out"}]
    assert "Added" in {f["name"] for f in table.fields}
    assert dict(fake.faults.injected) == {
        "500_after": 1,
        "timeout_after": 1,
        "broken_json_after": 1,
        "drop_after": 1,
    }

    fake.faults.inject_next("500_after")  # on a read: nothing to apply, a plain 500
    assert refusal(api_table.all)[0] == 500


def test_pyairtable_default_retry_duplicates_a_create_that_timed_out(fake_table):
    """Why a sync must own its retry policy: pyairtable retries read time-outs on POST."""
    fake, table = fake_table
    fake.faults.timeout_seconds = 1.0
    api_table = client(fake, timeout=(2, 0.3), retry_strategy=True).table(BASE, TABLE)
    fake.faults.inject_next("timeout_after")
    api_table.create({"Name": "Once, I thought"})
    assert [r.fields[NAME] for r in table.records.values()] == ["Once, I thought"] * 2


def test_random_fault_rate_draws_after_kinds_only_when_asked(make_fake):
    fake, table = make_fake(seed=3)
    fake.faults.configure(rate=1.0)
    assert set(fake.faults.kinds) == {"429", "500", "502", "503", "timeout", "broken_json", "drop"}
    fake.faults.configure(kinds=("500_after",))
    api_table = client(fake).table(BASE, TABLE)
    for i in range(3):
        assert refusal(api_table.create, {"Name": f"O{i}"})[0] == 500
    assert len(table) == 3
    with pytest.raises(ValueError):
        fake.faults.configure(kinds=("teapot",))
