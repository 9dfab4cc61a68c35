"""The fake Airtable server, driven over HTTP by the real pyairtable client (nothing mocked)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pyairtable
import pytest
import requests
from pyairtable import formulas as F
from pyairtable.models.schema import SingleSelectFieldSchema, UnknownFieldSchema

from devtools.fakeairtable import FakeAirtable

ROOT = Path(__file__).resolve().parents[2]
BASE = "appFakeBase000001"
OTHER_BASE = "appOtherBase00001"
TABLE = "tblObjectives0001"
TOKEN = "patGoodToken"
NAME, STATUS, DONE, SCORE, OWNER, LINKS = (
    "fldName0000000001",
    "fldStatus00000001",
    "fldDone0000000001",
    "fldScore000000001",
    "fldOwner000000001",
    "fldLinks000000001",
)
FIELDS = [
    {"id": NAME, "name": "Name", "type": "singleLineText"},
    {
        "id": STATUS,
        "name": "Status",
        "type": "singleSelect",
        "options": {"choices": [{"id": "selDone", "name": "Done", "color": "greenLight2"}]},
    },
    {
        "id": DONE,
        "name": "Done",
        "type": "checkbox",
        "options": {"icon": "check", "color": "grayBright"},
    },
    {"id": SCORE, "name": "Score", "type": "number", "options": {"precision": 1}},
    {"id": OWNER, "name": "Owner", "type": "someTypeFromTheFuture"},
    {
        "id": LINKS,
        "name": "Depends on",
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": TABLE, "isReversed": False, "prefersSingleRecordLink": False},
    },
]
PAST = "2024-01-01T00:00:00.000Z"


def build(fake: FakeAirtable):
    base = fake.add_base(BASE, "Plans", tokens={TOKEN})
    fake.add_base(OTHER_BASE, "Someone else's", tokens={"patOtherToken"})
    return base.add_table(TABLE, "Objectives", FIELDS)


@pytest.fixture
def make_fake():
    """make_fake(**FakeAirtable kwargs) -> (fake, table), served until the test ends."""
    started = []

    def make(**kwargs):
        kwargs.setdefault("rate_limit", None)
        fake = FakeAirtable(**kwargs)
        table = build(fake)
        fake.start()
        started.append(fake)
        return fake, table

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_table(make_fake):
    return make_fake()


def client(fake: FakeAirtable, token: str = TOKEN, timeout=(2, 2)) -> pyairtable.Api:
    return pyairtable.Api(token, endpoint_url=fake.url, retry_strategy=False, timeout=timeout)


def error_of(excinfo) -> tuple[int, dict]:
    response = excinfo.value.response
    return response.status_code, response.json()


# -- paging ------------------------------------------------------------------------------------


def test_250_records_come_in_three_pages_in_no_particular_order(fake_table):
    fake, table = fake_table
    created = table.create_many([{NAME: f"Objective {i}", SCORE: i} for i in range(250)])
    api_table = client(fake).table(BASE, "Objectives")

    pages = list(api_table.iterate())
    assert [len(p) for p in pages] == [100, 100, 50]

    records = api_table.all()
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(created)
    assert ids != created  # never creation order
    assert ids == [r["id"] for page in pages for r in page]  # fixed order
    assert all(len(i) == 17 and i.startswith("rec") and i[3:].isalnum() for i in ids)
    first = records[0]
    assert set(first) == {"id", "createdTime", "fields"}
    assert first["createdTime"].endswith("Z") and len(first["createdTime"]) == 24
    assert fake.request_count(BASE) == 6


def test_page_size_max_records_and_sort(fake_table):
    fake, table = fake_table
    table.create_many([{NAME: f"O{i}", SCORE: i} for i in range(30)])
    api_table = client(fake).table(BASE, TABLE)

    assert [len(p) for p in api_table.iterate(page_size=7, max_records=20)] == [7, 7, 6]
    scores = [r["fields"]["Score"] for r in api_table.all(sort=["-Score"], max_records=5)]
    assert scores == [29, 28, 27, 26, 25]
    with pytest.raises(requests.HTTPError) as excinfo:
        api_table.all(page_size=101)
    assert error_of(excinfo)[0] == 422


def test_post_list_records_when_the_url_is_long(fake_table):
    fake, table = fake_table
    table.create_many([{NAME: f"O{i}", STATUS: "Done"} for i in range(150)])
    api = client(fake)
    api.MAX_URL_LENGTH = 10  # pyairtable then moves the options into POST .../listRecords

    records = api.table(BASE, "Objectives").all(fields=["Name"], use_field_ids=True)
    assert len(records) == 150
    assert all(set(r["fields"]) == {NAME} for r in records)
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests] == [
        ("POST", "listRecords"),
        ("POST", "listRecords"),
    ]


def test_listing_is_a_snapshot_across_pages(fake_table):
    fake, table = fake_table
    created = table.create_many([{NAME: f"O{i}"} for i in range(150)])
    pages = client(fake).table(BASE, TABLE).iterate()
    first = next(pages)
    gone = next(r for r in created if r not in {x["id"] for x in first})
    table.delete(gone)
    table.create({NAME: "Late"})
    rest = [r for page in pages for r in page]
    ids = [r["id"] for r in first + rest]
    assert len(ids) == len(set(ids)) == 149
    assert gone not in ids
    assert "Late" not in {r["fields"]["Name"] for r in rest}


# -- fields ------------------------------------------------------------------------------------


def test_fields_by_name_or_id_and_keyed_by_id(fake_table):
    fake, table = fake_table
    table.create({NAME: "Grow", STATUS: "Done", SCORE: 0.5})
    api_table = client(fake).table(BASE, TABLE)

    assert api_table.all(fields=["Name", SCORE])[0]["fields"] == {"Name": "Grow", "Score": 0.5}
    by_id = api_table.all(fields=[NAME, "Status"], use_field_ids=True)[0]["fields"]
    assert by_id == {NAME: "Grow", STATUS: "Done"}
    assert client(fake).table(BASE, TABLE).first(use_field_ids=True)["fields"][SCORE] == 0.5
    keyed = pyairtable.Api(TOKEN, endpoint_url=fake.url, use_field_ids=True, retry_strategy=False)
    assert set(keyed.table(BASE, TABLE).all()[0]["fields"]) == {NAME, STATUS, SCORE}

    with pytest.raises(requests.HTTPError) as excinfo:
        api_table.all(fields=["Nope"])
    assert error_of(excinfo) == (
        422,
        {"error": {"type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nope"'}},
    )


def test_renamed_field_and_table_keep_their_ids(fake_table):
    fake, table = fake_table
    record_id = table.create({NAME: "Grow", STATUS: "Done"})
    table.rename_field(STATUS, "State")
    table.name = "Goals"
    api = client(fake)

    assert api.table(BASE, TABLE).get(record_id, use_field_ids=True)["fields"][STATUS] == "Done"
    assert api.table(BASE, "Goals").all()[0]["fields"] == {"Name": "Grow", "State": "Done"}
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Objectives").all()
    assert error_of(excinfo)[0] == 403

    table.remove_field(STATUS)
    assert api.table(BASE, TABLE).all(use_field_ids=True)[0]["fields"] == {NAME: "Grow"}


def test_empty_values_are_omitted(fake_table):
    fake, table = fake_table
    empty = table.create({NAME: "", STATUS: None, DONE: False, LINKS: []})
    zero = table.create({NAME: "Zero", SCORE: 0, DONE: True})
    api_table = client(fake).table(BASE, TABLE)

    assert api_table.get(empty)["fields"] == {}
    assert api_table.get(zero)["fields"] == {"Name": "Zero", "Score": 0, "Done": True}
    table.update(zero, {DONE: False, SCORE: None})
    assert api_table.get(zero)["fields"] == {"Name": "Zero"}
    raw = requests.get(
        f"{fake.url}/v0/{BASE}/{TABLE}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2
    )
    assert raw.headers["Content-Type"].startswith("application/json")
    assert {"id": empty, "createdTime": table.get(empty).created_time, "fields": {}} in raw.json()[
        "records"
    ]


def test_deleting_a_record_removes_links_to_it(fake_table):
    fake, table = fake_table
    a = table.create({NAME: "A"})
    b = table.create({NAME: "B"})
    c = table.create({NAME: "C", LINKS: [a, b]})
    table.delete(a)
    assert client(fake).table(BASE, TABLE).get(c)["fields"]["Depends on"] == [b]


# -- formulas ----------------------------------------------------------------------------------


def test_last_modified_time_filters(fake_table):
    fake, table = fake_table
    ids = [table.create({NAME: f"O{i}", SCORE: i}, created_time=PAST) for i in range(20)]
    cut = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    for record_id in ids[:3]:
        table.update(record_id, {SCORE: 100})
    table.update(ids[0], {STATUS: "Done"})
    new = table.create({NAME: "New"})  # created after the cut: modified at creation
    api_table = client(fake).table(BASE, TABLE)

    def ids_for(formula) -> set[str]:
        return {r["id"] for r in api_table.all(formula=formula)}

    expected = {*ids[:3], new}
    assert ids_for(F.IS_AFTER(F.LAST_MODIFIED_TIME(), cut)) == expected
    assert ids_for(F.GT(F.LAST_MODIFIED_TIME(), cut)) == expected
    assert ids_for(F.GT(F.LAST_MODIFIED_TIME(), cut.replace(tzinfo=None))) == expected
    assert ids_for(F.LAST_MODIFIED_TIME().gte(dt.date(2024, 6, 1))) == expected
    assert ids_for(F.IS_AFTER(F.LAST_MODIFIED_TIME(), dt.datetime.now(dt.UTC))) == set()
    done_since = F.AND(F.IS_AFTER(F.LAST_MODIFIED_TIME(), cut), F.match({"Status": "Done"}))
    assert ids_for(done_since) == {ids[0]}
    assert ids_for(F.OR(F.EQ(F.Field("Name"), "O7"), F.Field("Score").eq(100))) == {
        ids[7],
        *ids[:3],
    }
    assert ids_for(F.IS_AFTER(F.LAST_MODIFIED_TIME(F.Field("Status")), cut)) == {ids[0]}
    assert ids_for('AND({Score} >= 18, NOT({Name} = "O19"))') == {ids[18], *ids[:3]}


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (f"{{{SCORE}}}=1", f"Unknown field names: {SCORE}"),
        ("IS_AFTER(LAST_MODIFIED_TIME(), ", "Invalid formula"),
        ("{Score}} = 1", "Invalid formula"),
        ("NO_SUCH_FUNCTION(1)", "Unknown function names: NO_SUCH_FUNCTION"),
        ("IS_AFTER(LAST_MODIFIED_TIME())", "Invalid formula"),
    ],
)
def test_bad_formulas_are_422(fake_table, formula, message):
    fake, table = fake_table
    table.create({NAME: "A"})
    with pytest.raises(requests.HTTPError) as excinfo:
        client(fake).table(BASE, TABLE).all(formula=formula)
    status, body = error_of(excinfo)
    assert status == 422
    assert body["error"]["type"] == "INVALID_FILTER_BY_FORMULA"
    assert message in body["error"]["message"]


# -- schema and auth ---------------------------------------------------------------------------


def test_schema_parses_with_pyairtable_models(fake_table):
    fake, _ = fake_table
    api = client(fake)
    schema = api.base(BASE).schema()
    table = schema.table("Objectives")
    assert table.id == TABLE and table.primary_field_id == NAME
    assert isinstance(table.field(STATUS), SingleSelectFieldSchema)
    assert isinstance(table.field("Owner"), UnknownFieldSchema)
    assert table.views[0].name == "Grid view" and table.views[0].visible_field_ids[0] == NAME
    assert [b.id for b in api.bases()] == [BASE]


def test_tokens_tables_and_routes(fake_table):
    fake, _ = fake_table
    fake.add_token("patNoAccess")

    def failure(api, base=BASE, table=TABLE) -> tuple[int, dict]:
        with pytest.raises(requests.HTTPError) as excinfo:
            api.table(base, table).all()
        return error_of(excinfo)

    status, body = failure(client(fake, token="patWrong"))
    assert (status, body["error"]["type"]) == (401, "AUTHENTICATION_REQUIRED")
    for api in (client(fake, token="patNoAccess"), client(fake, token="patOtherToken")):
        status, body = failure(api)
        assert (status, body["error"]["type"]) == (403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND")
    status, body = failure(client(fake), table="No such table")
    assert (status, body["error"]["type"]) == (403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND")
    assert failure(client(fake), base="appNoSuchBase0000")[0] == 403
    assert requests.get(f"{fake.url}/v0/nope/a/b/c", timeout=2).json() == {"error": "NOT_FOUND"}
    assert requests.get(fake.url + "/v0/" + BASE, timeout=2).status_code == 404


# -- offsets and limits ------------------------------------------------------------------------


def test_offsets_expire(fake_table):
    fake, table = fake_table
    table.create_many([{NAME: f"O{i}"} for i in range(120)])
    api_table = client(fake).table(BASE, TABLE)

    fake.faults.expire_offsets()
    pages = api_table.iterate()
    assert len(next(pages)) == 100
    with pytest.raises(requests.HTTPError) as excinfo:
        next(pages)
    assert error_of(excinfo) == (422, {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}})
    assert len(api_table.all()) == 120  # one-shot: starting again works

    fake.offset_ttl = 0.05
    pages = api_table.iterate()
    next(pages)
    time.sleep(0.1)
    with pytest.raises(requests.HTTPError) as excinfo:
        next(pages)
    assert error_of(excinfo)[1]["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"

    with pytest.raises(requests.HTTPError) as excinfo:
        api_table.all(offset="garbage")
    assert error_of(excinfo)[1]["error"]["type"] == "INVALID_OFFSET_VALUE"


def test_billing_limit(fake_table):
    fake, _ = fake_table
    fake.faults.billing_limit = True
    with pytest.raises(requests.HTTPError) as excinfo:
        client(fake).base(BASE).schema()
    status, body = error_of(excinfo)
    assert (status, body["error"]["type"]) == (429, "PUBLIC_API_BILLING_LIMIT_EXCEEDED")
    fake.faults.billing_limit = False
    client(fake).base(BASE).schema()


class ManualClock:
    """A monotonic clock the test moves: no request's timing depends on the machine's load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sixth_request_in_a_second_locks_the_base_out(make_fake):
    clock = ManualClock()
    fake, table = make_fake(rate_limit=5.0, lockout_seconds=0.5, monotonic=clock)
    table.create({NAME: "A"})
    api = client(fake)
    api_table = api.table(BASE, TABLE)
    for _ in range(4):
        api_table.all()
    api.base(BASE).schema()  # metadata counts too
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as excinfo:
            api_table.all()
        assert error_of(excinfo) == (
            429,
            {
                "error": {
                    "type": "RATE_LIMIT_REACHED",
                    "message": "Rate limit exceeded. Please try again later",
                }
            },
        )
    assert fake.lockouts == 1
    assert client(fake, token="patOtherToken").base(OTHER_BASE).schema().tables == []  # unaffected
    clock.now += 0.49
    with pytest.raises(requests.HTTPError):  # still locked out, and the window still full
        api_table.all()
    clock.now += 0.51
    assert len(api_table.all()) == 1
    assert [r.status for r in fake.requests] == [200] * 5 + [429, 429, 200, 429, 200]


def test_requests_paced_at_4_8_per_second_never_trip_the_limit(make_fake):
    clock = ManualClock()
    fake, table = make_fake(rate_limit=5.0, lockout_seconds=30, monotonic=clock)
    table.create({NAME: "A"})
    api_table = client(fake).table(BASE, TABLE)
    start = clock.now
    for i in range(12):
        clock.now = start + i / 4.8
        api_table.all()
    assert fake.lockouts == 0
    clock.now = start + 11 / 4.8 + 0.1  # the sixth in a second (five in the last 0.94 s)
    with pytest.raises(requests.HTTPError):
        api_table.all()
    assert fake.lockouts == 1


# -- faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_error_faults(fake_table, status):
    fake, table = fake_table
    table.create({NAME: "A"})
    fake.faults.configure(rate=1.0, kinds=[str(status)])
    api_table = client(fake).table(BASE, TABLE)
    responses = []
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as excinfo:
            api_table.all()
        responses.append(excinfo.value.response)
    assert [r.status_code for r in responses] == [status, status]
    if status == 429:
        assert responses[0].json()["error"]["type"] == "RATE_LIMIT_REACHED"
        assert responses[1].json()["errors"][0]["error"] == "RATE_LIMIT_REACHED"
        assert fake.lockouts == 0
    if status == 502:
        assert responses[0].headers["Content-Type"].startswith("text/html")
    if status == 503:
        assert [r.headers.get("Retry-After") for r in responses] == ["1", None]
    assert fake.faults.injected[str(status)] == 2
    fake.faults.clear()
    assert len(api_table.all()) == 1


def test_timeout_broken_json_and_drop_faults(fake_table):
    fake, table = fake_table
    table.create_many([{NAME: f"O{i}"} for i in range(10)])
    fake.faults.timeout_seconds = 1.0
    api_table = client(fake, timeout=(2, 0.3)).table(BASE, TABLE)

    fake.faults.inject_next("timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api_table.all()
    fake.faults.inject_next("broken_json")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        api_table.all()
    fake.faults.inject_next("drop")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api_table.all()
    assert len(api_table.all()) == 10
    assert dict(fake.faults.injected) == {"timeout": 1, "broken_json": 1, "drop": 1}


def test_fault_rate_is_deterministic_for_a_seed(make_fake):
    def statuses(seed: int) -> list[int]:
        fake, table = make_fake(seed=seed)
        table.create({NAME: "A"})
        fake.faults.configure(rate=0.5, kinds=("500", "503"))
        url = f"{fake.url}/v0/{BASE}/{TABLE}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        return [requests.get(url, headers=auth, timeout=2).status_code for _ in range(20)]

    first = statuses(7)
    assert first == statuses(7)
    assert 3 <= first.count(200) <= 17 and set(first) <= {200, 500, 503}


# -- fixtures and the CLI ----------------------------------------------------------------------


def test_fixture_round_trip_and_cli(fake_table, tmp_path):
    fake, table = fake_table
    table.create_many([{NAME: f"O{i}", SCORE: i} for i in range(3)])
    table.update(next(iter(table.records)), {STATUS: "Done"})
    path = tmp_path / "base.json"
    fake.bases[BASE].dump(path)

    copy = FakeAirtable(rate_limit=None)
    loaded = copy.load_base(json.loads(path.read_text()), tokens={TOKEN})
    assert loaded.to_dict() == fake.bases[BASE].to_dict()

    command = [sys.executable, "-m", "devtools.fakeairtable", "--port", "0", "--base", str(path)]
    process = subprocess.Popen(
        [*command, "--token", TOKEN, "--no-rate-limit"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith(f"{BASE} 'Plans': Objectives (3)")
        url = process.stdout.readline().split()[3]
        records = pyairtable.Api(TOKEN, endpoint_url=url).table(BASE, TABLE).all()
        served = {r["id"]: r for r in records}
        original = client(fake).table(BASE, TABLE).all()
        assert served == {r["id"]: r for r in original}
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_listing_by_record_ids_answers_as_the_general_formula_does():
    """The fake looks `OR(RECORD_ID()='rec…', …)` up by id (fast on a big table); the answer
    must be the one the formula engine gives."""
    from pyairtable import Api

    fake = FakeAirtable(rate_limit=None, seed=1)
    base = fake.add_base("appIDSLOOKUP00001", "Ids", tokens={"patIDS.lookup"})
    table = base.add_table(
        "tblIDS0000000001",
        "T",
        [{"id": "fldNAME000000001", "name": "Name", "type": "singleLineText"}],
    )
    ids = [table.create({"fldNAME000000001": f"r{i}"}) for i in range(30)]
    with fake:
        api = Api("patIDS.lookup", endpoint_url=fake.url)
        remote = api.table("appIDSLOOKUP00001", "tblIDS0000000001")
        asked = [*ids[3:9], "recMISSING0000000"]
        fast = f"OR({', '.join(f'RECORD_ID()={i!r}' for i in asked)})"
        general = f"OR({', '.join(f'RECORD_ID()={i!r}' for i in asked)}, 1=0)"
        assert sorted(r["id"] for r in remote.all(formula=fast)) == sorted(ids[3:9])
        assert sorted(r["id"] for r in remote.all(formula=fast)) == sorted(
            r["id"] for r in remote.all(formula=general)
        )
