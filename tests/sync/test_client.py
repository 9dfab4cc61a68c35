"""The sync's Airtable client against the fake server: paging, its retry policy, its errors."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from devtools.fakeairtable import FakeAirtable
from sync.airtable.client import AirtableClient, OffsetExpired, RetryPolicy, SyncError
from sync.airtable.ratelimit import LocalRateLimiter, NoRateLimiter

BASE = "appTESTTESTTEST01"
TOKEN = "patTEST.secret-token-1234"
FAST = RetryPolicy(attempts=6, backoff=0.01, backoff_cap=0.05, rate_limit_wait=0.3)


@pytest.fixture
def fake():
    with FakeAirtable(rate_limit=None, seed=7) as server:
        base = server.add_base(BASE, "Test base", tokens={TOKEN})
        table = base.add_table(
            "tblTASKSTASKS0001",
            "Tasks",
            [
                {"id": "fldTITLE00000001", "name": "Title", "type": "singleLineText"},
                {"id": "fldSTATUS0000001", "name": "Status", "type": "singleLineText"},
            ],
        )
        table.create_many(
            [{"fldTITLE00000001": f"Task {i}", "fldSTATUS0000001": "Done"} for i in range(250)]
        )
        yield server


def client(fake, **kwargs) -> AirtableClient:
    defaults = {"limiter": NoRateLimiter(), "policy": FAST, "timeout": (1.0, 0.5)}
    return AirtableClient(
        api_url=fake.url, token=kwargs.pop("token", TOKEN), base_id=BASE, **{**defaults, **kwargs}
    )


def pull(c: AirtableClient, **kwargs) -> list[dict]:
    return [record for page in c.pages("tblTASKSTASKS0001", **kwargs) for record in page]


def test_pages_by_field_id(fake):
    records = pull(client(fake))
    assert len(records) == 250
    assert len({r["id"] for r in records}) == 250
    assert set(records[0]["fields"]) == {"fldTITLE00000001", "fldSTATUS0000001"}


def test_schema(fake):
    schema = client(fake).schema()
    assert [t["name"] for t in schema["tables"]] == ["Tasks"]


def test_modified_since_returns_only_later_edits(fake):
    table = fake.bases[BASE].table("Tasks")
    some = list(table.records)[:3]
    cutoff = dt.datetime.now(dt.UTC)
    time.sleep(0.01)  # Airtable keeps modification times to the millisecond
    for record_id in some:
        table.update(record_id, {"fldSTATUS0000001": "Blocked"})
    assert {r["id"] for r in pull(client(fake), modified_since=cutoff)} == set(some)


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "timeout", "broken_json", "drop"])
def test_each_fault_is_retried_to_the_same_result(fake, kind):
    fake.faults.timeout_seconds = 1.0
    fake.faults.inject_next(kind, kind)
    requests_made = []
    records = pull(client(fake, on_request=lambda: requests_made.append(1)))
    assert len({r["id"] for r in records}) == 250
    assert len(requests_made) == 3 + 2  # three pages, two of them tried twice


def test_a_storm_of_mixed_faults_still_pulls_everything(fake):
    fake.faults.timeout_seconds = 1.0
    fake.faults.configure(rate=0.3)
    assert len({r["id"] for r in pull(client(fake))}) == 250


def test_gives_up_after_bounded_attempts_with_a_message(fake):
    fake.faults.configure(rate=1.0, kinds=("500",))
    with pytest.raises(SyncError, match="did not answer properly after 6 tries"):
        pull(client(fake))


def test_wrong_token_says_what_to_do(fake):
    with pytest.raises(SyncError, match="refused the token"):
        client(fake, token="patWRONG.nope").schema()


def test_missing_table_says_what_to_check(fake):
    with pytest.raises(SyncError, match="could not find table tblNOPE"):
        list(client(fake).pages("tblNOPENOPENOPE01"))


def test_monthly_quota_stops_without_retrying(fake):
    fake.faults.billing_limit = True
    calls = []
    with pytest.raises(SyncError, match="monthly API call limit"):
        pull(client(fake, on_request=lambda: calls.append(1)))
    assert len(calls) == 1


def test_expired_offset_is_reported_for_a_restart(fake):
    c = client(fake)
    pages = c.pages("tblTASKSTASKS0001")
    next(pages)
    fake.faults.expire_offsets()
    with pytest.raises(OffsetExpired):
        next(pages)


def test_rate_limit_lockout_is_waited_out():
    with FakeAirtable(rate_limit=5, lockout_seconds=0.25, seed=1) as fake:
        base = fake.add_base(BASE, "Test base", tokens={TOKEN})
        base.add_table(
            "tblTASKSTASKS0001",
            "Tasks",
            [{"id": "fldTITLE00000001", "name": "Title", "type": "singleLineText"}],
        )
        base.table("Tasks").create_many([{"fldTITLE00000001": f"T{i}"} for i in range(1000)])
        # No pacing at all: the client trips the limit, waits, and still gets everything.
        records = pull(client(fake))
        assert len(records) == 1000
        assert fake.lockouts >= 1


def test_paced_client_never_trips_the_limit():
    with FakeAirtable(rate_limit=5, lockout_seconds=30, seed=1) as fake:
        base = fake.add_base(BASE, "Test base", tokens={TOKEN})
        base.add_table(
            "tblTASKSTASKS0001",
            "Tasks",
            [{"id": "fldTITLE00000001", "name": "Title", "type": "singleLineText"}],
        )
        base.table("Tasks").create_many([{"fldTITLE00000001": f"T{i}"} for i in range(900)])
        records = pull(client(fake, limiter=LocalRateLimiter(4.8)))
        assert len(records) == 900
        assert fake.lockouts == 0
