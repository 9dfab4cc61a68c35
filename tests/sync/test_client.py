"""The sync's Airtable client against the fake server: paging, its retry policy, its errors.

The retry policy is the production one, but its waits are recorded instead of spent: the tests
assert on what the client chose to wait, not on how long anything took."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.fakeairtable import FakeAirtable
from sync.airtable.client import AirtableClient, OffsetExpired, RetryPolicy, SyncError
from sync.airtable.ratelimit import LocalRateLimiter, NoRateLimiter

BASE = "appTESTTESTTEST01"
TOKEN = "patTEST.secret-token-1234"


@pytest.fixture
def waits() -> list[float]:
    """Every wait the client's retry policy asked for, in order (none is spent)."""
    return []


@pytest.fixture
def policy(waits) -> RetryPolicy:
    return RetryPolicy(sleep=waits.append)


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


READ_TIMEOUT, FAULT_TIMEOUT = 2.0, 2.5


def client(fake, policy: RetryPolicy, **kwargs) -> AirtableClient:
    # A read timeout long enough for a busy machine's slowest honest answer (at 0.5 s a CI run
    # shared with other work timed out an ordinary page and retried it), short of the fault's.
    defaults = {"limiter": NoRateLimiter(), "policy": policy, "timeout": (1.0, READ_TIMEOUT)}
    return AirtableClient(
        api_url=fake.url, token=kwargs.pop("token", TOKEN), base_id=BASE, **{**defaults, **kwargs}
    )


def assert_backoffs(waits: list[float], policy: RetryPolicy, *, count: int) -> None:
    """`count` waits after failures in a row: the backoff doubled each time up to its cap,
    each cut by a random jitter of up to half."""
    assert len(waits) == count, waits
    for failures, wait in enumerate(waits):
        delay = min(policy.backoff * 2**failures, policy.backoff_cap)
        assert delay / 2 <= wait <= delay, (failures, wait)


def pull(c: AirtableClient, **kwargs) -> list[dict]:
    return [record for page in c.pages("tblTASKSTASKS0001", **kwargs) for record in page]


def test_pages_by_field_id(fake, policy):
    records = pull(client(fake, policy))
    assert len(records) == 250
    assert len({r["id"] for r in records}) == 250
    assert set(records[0]["fields"]) == {"fldTITLE00000001", "fldSTATUS0000001"}


def test_schema(fake, policy):
    schema = client(fake, policy).schema()
    assert [t["name"] for t in schema["tables"]] == ["Tasks"]


def test_modified_since_returns_only_later_edits(fake, policy):
    table = fake.bases[BASE].table("Tasks")
    some = list(table.records)[:3]
    cutoff = dt.datetime.now(dt.UTC)
    fake.clock = lambda: cutoff.timestamp() + 1  # the edits are made a second later
    for record_id in some:
        table.update(record_id, {"fldSTATUS0000001": "Blocked"})
    assert {r["id"] for r in pull(client(fake, policy), modified_since=cutoff)} == set(some)


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "timeout", "broken_json", "drop"])
def test_each_fault_is_retried_to_the_same_result(fake, policy, waits, kind):
    fake.faults.timeout_seconds = FAULT_TIMEOUT
    fake.faults.inject_next(kind, kind)
    requests_made = []
    records = pull(client(fake, policy, on_request=lambda: requests_made.append(1)))
    assert len({r["id"] for r in records}) == 250
    assert len(requests_made) == 3 + 2  # three pages, the first one tried three times
    if kind == "429":  # as long as Airtable's lockout, each time
        assert waits == [policy.rate_limit_wait] * 2
    else:
        assert_backoffs(waits, policy, count=2)


def test_a_storm_of_mixed_faults_still_pulls_everything(fake, policy):
    fake.faults.timeout_seconds = FAULT_TIMEOUT
    fake.faults.configure(rate=0.3)
    assert len({r["id"] for r in pull(client(fake, policy))}) == 250


def test_gives_up_after_bounded_attempts_with_a_message(fake, policy, waits):
    fake.faults.configure(rate=1.0, kinds=("500",))
    with pytest.raises(SyncError, match="did not answer properly after 6 tries"):
        pull(client(fake, policy))
    assert_backoffs(waits, policy, count=5)  # between the six tries


def test_wrong_token_says_what_to_do(fake, policy, waits):
    with pytest.raises(SyncError, match="refused the token"):
        client(fake, policy, token="patWRONG.nope").schema()
    assert waits == []  # not retried


def test_missing_table_says_what_to_check(fake, policy):
    with pytest.raises(SyncError, match="could not find table tblNOPE"):
        list(client(fake, policy).pages("tblNOPENOPENOPE01"))


def test_monthly_quota_stops_without_retrying(fake, policy, waits):
    fake.faults.billing_limit = True
    calls = []
    with pytest.raises(SyncError, match="monthly API call limit"):
        pull(client(fake, policy, on_request=lambda: calls.append(1)))
    assert len(calls) == 1
    assert waits == []


def test_expired_offset_is_reported_for_a_restart(fake, policy):
    c = client(fake, policy)
    pages = c.pages("tblTASKSTASKS0001")
    next(pages)
    fake.faults.expire_offsets()
    with pytest.raises(OffsetExpired):
        next(pages)


def test_rate_limit_lockout_is_waited_out(waits):
    # The fake's clock stands still but for the client's waits: every request arrives at once.
    now = [1000.0]
    with FakeAirtable(rate_limit=5, lockout_seconds=30, seed=1, monotonic=lambda: now[0]) as fake:
        base = fake.add_base(BASE, "Test base", tokens={TOKEN})
        base.add_table(
            "tblTASKSTASKS0001",
            "Tasks",
            [{"id": "fldTITLE00000001", "name": "Title", "type": "singleLineText"}],
        )
        base.table("Tasks").create_many([{"fldTITLE00000001": f"T{i}"} for i in range(1000)])

        def wait_out_the_lockout(seconds: float) -> None:
            waits.append(seconds)
            now[0] += seconds

        policy = RetryPolicy(sleep=wait_out_the_lockout)
        # No pacing at all: ten pages at once. The sixth trips the limit; the client waits
        # Airtable's 30 s, which ends the lockout, and gets the rest.
        records = pull(client(fake, policy))
        assert len(records) == 1000
        assert fake.lockouts == 1
        assert waits == [30.0]


def test_paced_client_never_trips_the_limit(policy):
    with FakeAirtable(rate_limit=5, lockout_seconds=30, seed=1) as fake:
        base = fake.add_base(BASE, "Test base", tokens={TOKEN})
        base.add_table(
            "tblTASKSTASKS0001",
            "Tasks",
            [{"id": "fldTITLE00000001", "name": "Title", "type": "singleLineText"}],
        )
        base.table("Tasks").create_many([{"fldTITLE00000001": f"T{i}"} for i in range(900)])
        records = pull(client(fake, policy, limiter=LocalRateLimiter(4.8)))
        assert len(records) == 900
        assert fake.lockouts == 0
