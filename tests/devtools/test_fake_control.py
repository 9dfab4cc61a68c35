"""The fake Airtable's control API (/_control/: a person editing in Airtable) over plain HTTP,
and `python -m devtools.fakeairtable` serving writes, webhooks and the control API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyairtable
import pytest
import requests

from tests.devtools.write_base import (
    BASE,
    NAME,
    PEOPLE,
    SCORE,
    STATUS,
    TABLE,
    TOKEN,
    ManualClock,
    Receiver,
    client,
    payloads,
    spec,
)

ROOT = Path(__file__).resolve().parents[2]


def control(fake, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{fake.url}/_control/{path}", timeout=2, **kwargs)


def test_list_create_update_delete_by_name_or_id(fake_table):
    fake, table = fake_table
    bases = control(fake, "GET", "bases").json()["bases"]
    assert [b["id"] for b in bases] == [BASE, "appOtherBase00001"]
    assert [t["name"] for t in bases[0]["tables"]] == ["Objectives", "People"]

    created = control(fake, "POST", f"{BASE}/Objectives", json={"fields": {"Name": "Grow"}})
    assert created.status_code == 200
    record_id = created.json()["id"]
    many = control(
        fake,
        "POST",
        f"{BASE}/{TABLE}",
        json={"records": [{"fields": {NAME: "A", SCORE: 1}}, {"fields": {"Name": "B"}}]},
    ).json()["records"]
    assert [r["fields"] for r in many] == [{"Name": "A", "Score": 1}, {"Name": "B"}]

    merged = control(
        fake, "PATCH", f"{BASE}/Objectives/{record_id}", json={"fields": {STATUS: "Done"}}
    )
    assert merged.json()["fields"] == {"Name": "Grow", "Status": "Done"}
    batch = control(
        fake,
        "PATCH",
        f"{BASE}/Objectives",
        json={"records": [{"id": many[0]["id"], "fields": {"Score": 2}}]},
    )
    assert batch.json()["records"][0]["fields"] == {"Name": "A", "Score": 2}

    listed = control(fake, "GET", f"{BASE}/Objectives").json()["records"]
    assert [r["fields"]["Name"] for r in listed] == ["Grow", "A", "B"]  # creation order
    by_id = control(fake, "GET", f"{BASE}/Objectives", params={"returnFieldsByFieldId": "true"})
    assert by_id.json()["records"][0]["fields"] == {NAME: "Grow", STATUS: "Done"}

    gone = control(fake, "DELETE", f"{BASE}/Objectives/{record_id}").json()
    assert gone == {"id": record_id, "deleted": True}
    rest = control(
        fake, "DELETE", f"{BASE}/Objectives", params={"records[]": [r["id"] for r in many]}
    )
    assert [r["deleted"] for r in rest.json()["records"]] == [True, True]
    assert len(table) == 0
    assert fake.requests == []  # no Airtable traffic


def test_refusals_are_the_apis(fake_table):
    fake, table = fake_table
    record_id = table.create({NAME: "Grow"})
    bad = control(fake, "PATCH", f"{BASE}/Objectives/{record_id}", json={"fields": {"Score": "x"}})
    assert (bad.status_code, bad.json()["error"]["type"]) == (422, "INVALID_VALUE_FOR_COLUMN")
    computed = control(fake, "POST", f"{BASE}/Objectives", json={"fields": {"Calc": 1}})
    assert computed.status_code == 422
    option = control(fake, "POST", f"{BASE}/Objectives", json={"fields": {"Status": "New"}})
    assert option.json()["error"]["type"] == "INVALID_MULTIPLE_CHOICE_OPTIONS"
    typecast = {"fields": {"Status": "New"}, "typecast": True}
    assert control(fake, "POST", f"{BASE}/Objectives", json=typecast).status_code == 200
    assert control(fake, "GET", f"{BASE}/Nope").status_code == 404
    assert control(fake, "GET", "appNoSuchBase0000/Objectives").status_code == 404
    missing = control(fake, "DELETE", f"{BASE}/Objectives/recNoSuchRecord00")
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "MODEL_ID_NOT_FOUND")
    assert control(fake, "GET", "nothing/here/at/all").status_code == 404


def test_control_changes_are_a_person_editing(make_fake):
    clock = ManualClock(1000.0)
    fake, _ = make_fake(rate_limit=5.0, monotonic=clock)
    hook = client(fake).base(BASE).add_webhook(None, spec("tableData", fromSources=["client"]))
    for i in range(12):  # never rate-limited
        assert control(fake, "POST", f"{BASE}/People", json={"fields": {"Name": f"P{i}"}}).ok
    client(fake).table(BASE, TABLE).create({"Name": "Through the API"})  # not "client"

    found = payloads(fake, hook.id)
    assert len(found) == 12
    assert {p.action_metadata.source for p in found} == {"client"}
    assert found[0].action_metadata.source_metadata["user"]["email"] == "person@example.com"
    assert list(found[0].changed_tables_by_id) == [PEOPLE]
    assert fake.lockouts == 0


def test_control_changes_ping_and_hooks_can_be_expired(fake_table):
    fake, _ = fake_table
    receiver = Receiver()
    try:
        hook = client(fake).base(BASE).add_webhook(receiver.url, spec("tableData"))
        control(fake, "POST", f"{BASE}/Objectives", json={"fields": {"Name": "Grow"}})
        assert fake.wait_for_notifications()
        assert len(receiver.pings) == 1
        expired = control(fake, "POST", f"webhooks/{hook.id}/expire").json()
        assert expired["isHookEnabled"] is False
        control(fake, "POST", f"{BASE}/Objectives", json={"fields": {"Name": "Unseen"}})
        assert fake.wait_for_notifications() and len(receiver.pings) == 1
    finally:
        receiver.close()
    assert control(fake, "POST", "webhooks/achNoSuchHook0000/disable").status_code == 404


@pytest.mark.parametrize("permission_level", [None, "read"])
def test_the_cli_serves_writes_webhooks_and_the_control_api(tmp_path, permission_level):
    fixture = {
        "id": BASE,
        "name": "Demo",
        "tables": [{"id": TABLE, "name": "Objectives", "fields": [{"id": NAME, "name": "Name"}]}],
    }
    path = tmp_path / "base.json"
    path.write_text(json.dumps(fixture))
    command = [sys.executable, "-m", "devtools.fakeairtable", "--port", "0", "--base", str(path)]
    command += ["--token", TOKEN, "--no-rate-limit"]
    if permission_level:
        command += ["--permission-level", permission_level]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith(f"{BASE} 'Demo'")
        url = process.stdout.readline().split()[3]
        assert "/_control/bases" in process.stdout.readline()
        api = pyairtable.Api(TOKEN, endpoint_url=url, retry_strategy=False)
        hook = api.base(BASE).add_webhook(None, spec("tableData"))
        table = api.table(BASE, TABLE)
        if permission_level == "read":
            with pytest.raises(requests.HTTPError):
                table.create({"Name": "Grow"})
        else:
            table.create({"Name": "Grow"})
        response = requests.post(
            f"{url}/_control/{BASE}/Objectives", json={"fields": {"Name": "Ship"}}, timeout=2
        )
        assert response.ok  # a person may edit even a base the token may only read
        sources = [p.action_metadata.source for p in api.base(BASE).webhook(hook.id).payloads()]
        assert sources == (["client"] if permission_level else ["publicApi", "client"])
    finally:
        process.terminate()
        process.wait(timeout=5)
