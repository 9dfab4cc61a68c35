"""Reading one Airtable base, page by page, with the sync's own retry policy.

pyairtable builds the requests (URLs, `fields[]`, `returnFieldsByFieldId`, `filterByFormula`,
the POST fallback for long URLs) and checks the responses; this module decides what to do when
one fails, because pyairtable's default retry gives up after ~3 s and retries POSTs on read
time-outs. Retried: 429 rate limits (after the wait Airtable asks for), 5xx, time-outs, dropped
connections and broken JSON, a bounded number of times with backoff. Not retried: an invalid
token, a missing base or table, a mapping that no longer fits the schema, the monthly quota.
"""

from __future__ import annotations

import logging
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import requests
from django.views.decorators.debug import sensitive_variables
from pyairtable import Api
from pyairtable.formulas import DATETIME_PARSE, EQ, IS_AFTER, LAST_MODIFIED_TIME, OR, RECORD_ID

from sync.airtable.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
OFFSET_RESTARTS = 3

READ_AHEAD_PAGES = 8
T = TypeVar("T")


class SyncError(Exception):
    """A failure that stops the run; its message says what to fix."""


class AirtableRefused(SyncError):
    """Airtable refused a request for good (4xx, not a rate limit): `status` and `kind` (the
    error type) let a caller tell a missing scope (403) or a vanished webhook (404) apart;
    `detail` is Airtable's own message, naming the field where it does."""

    def __init__(self, message: str, *, status: int, kind: str, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.detail = detail


class WriteRefused(AirtableRefused):
    """A write refused (a bad value, a deleted record, a missing scope): trying again as it
    stands will not help."""


class WriteUnsure(SyncError):
    """A write was sent but no answer came back (time-out, dropped connection, broken JSON,
    a 5xx): it may have been applied. Sending it again could make a second record."""


class OffsetExpired(Exception):
    """Airtable forgot the listing's offset: the table must be listed again from the start."""


@dataclass
class RetryPolicy:
    attempts: int = 6  # per request, for 5xx / time-outs / broken responses
    backoff: float = 0.5  # first wait, doubled each time, with jitter
    backoff_cap: float = 8.0
    rate_limit_wait: float = 30.0  # what Airtable asks after a 429
    rate_limit_retries: int = 4
    # How the waits above are spent: a test passes its own to read them without waiting.
    sleep: Callable[[float], None] = time.sleep


def _error_message(response: requests.Response) -> str:
    """Airtable's own words about an error, when it gives any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return ""


def _error_type(response: requests.Response) -> str:
    """The Airtable error type from either shape it uses ({"error": {...}} or {"errors": [...]})."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("type", ""))
    if isinstance(error, str):
        return error
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("error", ""))
    return ""


class AirtableClient:
    @sensitive_variables("token")
    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        base_id: str,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        on_request: Callable[[], None] | None = None,
    ) -> None:
        # retry_strategy=False: the retries below are the only ones.
        self.api = Api(token, endpoint_url=api_url, timeout=timeout, retry_strategy=False)
        self.base_id = base_id
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.on_request = on_request or (lambda: None)

    def schema(self) -> dict:
        """The base's tables and fields from the metadata API (raw JSON)."""
        url = self.api.build_url(f"meta/bases/{self.base_id}/tables")
        return self._request("GET", url, what="the base's schema")

    def pages(
        self,
        table_id: str,
        *,
        modified_since: datetime | None = None,
    ) -> Iterator[list[dict]]:
        """Yield the table's records a page at a time, keyed by field id, every field: the sync
        keeps unmapped fields too.

        Raises OffsetExpired when Airtable drops the listing midway; the caller restarts it.
        """
        table = self.api.table(self.base_id, table_id)
        options: dict = {"page_size": PAGE_SIZE, "use_field_ids": True}
        if modified_since is not None:
            # Formulas know fields by name only, and LAST_MODIFIED_TIME() needs none.
            # Written as Airtable documents it: UTC, milliseconds, "Z".
            since = modified_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            options["formula"] = str(IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE(since)))
        while True:
            page = self._request(
                "GET",
                table.urls.records,
                fallback=("POST", table.urls.records_post),
                options=options,
                what=f"table {table_id}",
            )
            if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                raise SyncError(f"Airtable sent an unexpected answer for table {table_id}.")
            yield page["records"]
            offset = page.get("offset")
            if not offset:
                return
            options = {**options, "offset": offset}

    def records_by_id(self, table_id: str, record_ids: Iterable[str]) -> list[dict]:
        """The records with these ids, as the pull reads them (keyed by field id, every
        field): one `OR(RECORD_ID()=…)` formula per 100 ids, not a table scan. Records
        Airtable no longer has are simply absent."""
        ids = sorted(set(record_ids))
        found: list[dict] = []
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            formula = str(OR(*(EQ(RECORD_ID(), record_id) for record_id in chunk)))
            found.extend(self._matching(table_id, formula))
        return found

    def _matching(self, table_id: str, formula: str) -> list[dict]:
        table = self.api.table(self.base_id, table_id)
        for _attempt in range(OFFSET_RESTARTS):
            options: dict = {"page_size": PAGE_SIZE, "use_field_ids": True, "formula": formula}
            records: list[dict] = []
            try:
                while True:
                    page = self._request(
                        "GET",
                        table.urls.records,
                        fallback=("POST", table.urls.records_post),
                        options=options,
                        what=f"table {table_id}",
                    )
                    if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                        raise SyncError(f"Airtable sent an unexpected answer for table {table_id}.")
                    records.extend(page["records"])
                    if not page.get("offset"):
                        return records
                    options = {**options, "offset": page["offset"]}
            except OffsetExpired:
                continue  # a short listing: list it again
        raise SyncError(f"Airtable kept dropping the listing of {table_id}; try again later.")

    def pages_matching(self, table_id: str, formula: str) -> list[dict]:
        """The first page of records matching a formula (every field, keyed by field id)."""
        table = self.api.table(self.base_id, table_id)
        options = {"page_size": PAGE_SIZE, "use_field_ids": True, "formula": formula}
        page = self._request(
            "GET",
            table.urls.records,
            fallback=("POST", table.urls.records_post),
            options=options,
            what=f"records of table {table_id}",
        )
        return list(page.get("records") or [])

    def write_records(
        self, method: str, table_id: str, body: dict, *, resend_when_unsure: bool
    ) -> dict:
        """Send one write (POST create, PATCH update or upsert) of up to 10 records.

        `resend_when_unsure`: whether a write whose answer was lost may be sent again (an
        update, or an upsert merged on the MissionOS ID field: the same request twice gives
        the same records). When not, a lost answer raises WriteUnsure. A 4xx raises
        WriteRefused."""
        table = self.api.table(self.base_id, table_id)
        body = {**body, "returnFieldsByFieldId": True}
        return self._request(
            method,
            table.urls.records,
            json=body,
            what=f"a write to table {table_id}",
            write=True,
            resend_when_unsure=resend_when_unsure,
        )

    def delete_records(self, table_id: str, record_ids: list[str]) -> dict:
        """Delete up to 10 records (`DELETE …?records[]=…`). Sent again after a lost answer:
        the caller reads which are still there first, so a second delete finds them gone."""
        table = self.api.table(self.base_id, table_id)
        return self._request(
            "DELETE",
            table.urls.records,
            params={"records[]": record_ids},
            what=f"deleting records of table {table_id}",
            write=True,
            resend_when_unsure=False,
        )

    def create_field(self, table_id: str, name: str, field_type: str = "singleLineText") -> dict:
        """Add a field to a table (metadata API; the token needs schema.bases:write)."""
        url = self.api.build_url(f"meta/bases/{self.base_id}/tables/{table_id}/fields")
        return self._request(
            "POST",
            url,
            json={"name": name, "type": field_type},
            what=f"a new field in table {table_id}",
            write=True,
            resend_when_unsure=False,
        )

    def token_scopes(self) -> list[str] | None:
        """The token's scopes from Airtable's whoami (None when it does not say)."""
        url = self.api.build_url("meta/whoami")
        answer = self._request("GET", url, what="the token's scopes")
        scopes = answer.get("scopes") if isinstance(answer, dict) else None
        return [str(scope) for scope in scopes] if isinstance(scopes, list) else None

    def request(self, method: str, url, *, what: str, **kwargs):
        """One request through the base's rate limiter and this client's retry policy, for
        the other Airtable endpoints a sync uses (webhooks: sync.airtable.webhooks)."""
        return self._request(method, url, what=what, **kwargs)

    # Every frame under this one (requests, urllib3, http.client) holds the Authorization
    # header: none of their variables is shown in an error report.
    @sensitive_variables()
    def _request(
        self,
        method: str,
        url,
        *,
        what: str,
        write: bool = False,
        resend_when_unsure: bool = True,
        **kwargs,
    ):
        failures = rate_limited = 0
        while True:
            self.limiter.wait(self.base_id)
            self.on_request()
            try:
                try:
                    return self.api.request(method, str(url), **kwargs)
                finally:
                    # Airtable counted it on arrival, before now: the limiter's next
                    # second counts from here (sync.airtable.ratelimit).
                    self.limiter.done(self.base_id)
            except requests.HTTPError as error:
                response = error.response
                status = response.status_code if response is not None else 0
                kind = _error_type(response) if response is not None else ""
                if status == 429 and kind == "PUBLIC_API_BILLING_LIMIT_EXCEEDED":
                    raise SyncError(
                        "Airtable's monthly API call limit for this workspace is used up; "
                        "syncing resumes when the quota renews or the plan is upgraded."
                    ) from None
                if status == 429:
                    rate_limited += 1
                    if rate_limited > self.policy.rate_limit_retries:
                        raise SyncError(
                            f"Airtable kept refusing requests for {what} as over its rate limit."
                        ) from None
                    logger.warning("Airtable rate limit on %s; waiting", self.base_id)
                    self.policy.sleep(self.policy.rate_limit_wait)
                    continue
                if status == 422 and kind == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE":
                    raise OffsetExpired(what) from None
                if status >= 500:
                    if not resend_when_unsure:
                        raise WriteUnsure(f"{what}: HTTP {status}") from None
                    failures = self._backoff(failures, f"{what}: HTTP {status}")
                    continue
                refused = WriteRefused if write else AirtableRefused
                raise refused(
                    self._explain(status, kind, what),
                    status=status,
                    kind=kind,
                    detail=_error_message(response),
                ) from None
            except (requests.RequestException, ValueError) as error:
                # Dropped connections (incl. a body cut short), time-outs, truncated JSON.
                if not resend_when_unsure:
                    raise WriteUnsure(f"{what}: {type(error).__name__}") from None
                failures = self._backoff(failures, f"{what}: {type(error).__name__}")

    def _backoff(self, failures: int, reason: str) -> int:
        failures += 1
        if failures >= self.policy.attempts:
            raise SyncError(
                f"Airtable did not answer properly after {failures} tries ({reason})."
            ) from None
        delay = min(self.policy.backoff * 2 ** (failures - 1), self.policy.backoff_cap)
        self.policy.sleep(delay * random.uniform(0.5, 1.0))
        return failures

    def _explain(self, status: int, kind: str, what: str) -> str:
        if status == 401:
            return (
                "Airtable refused the token (401). It may have been revoked or mistyped: "
                "paste a new personal access token on the connection page."
            )
        if status in (403, 404):
            return (
                f"Airtable could not find {what} in base {self.base_id}, or the token has no "
                f"access to it ({status} {kind}). Check the base id and the token's scopes "
                "(data.records:read, schema.bases:read) and bases."
            )
        if status == 422 and kind in ("UNKNOWN_FIELD_NAME", "INVALID_FILTER_BY_FORMULA"):
            return (
                f"The mapping no longer matches the base ({kind} on {what}). Read the schema "
                "again on the mapping page and review the mapping."
            )
        return f"Airtable answered {status} {kind or ''} for {what}.".replace("  ", " ")


def read_ahead(pages: Iterator[T], depth: int = READ_AHEAD_PAGES) -> Iterator[T]:
    """Yield the same pages, fetching the next ones in a thread while the caller writes this
    one, so the wait for Airtable and the database work overlap instead of adding up.

    An error while fetching is raised here, at the page where it happened. When the caller
    stops early, the thread stops after the request it is making.

    `depth` pages (1.6 s of a paced pull at the default) keep requests going out on their
    slots while the caller does the longer work at the end of a table; 8 pages of 100 records
    is little memory.
    """
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in pages:
                if not offer(("page", page)):
                    return
            offer(("end", None))
        except BaseException as error:  # handed to the caller, who decides
            offer(("error", error))

    # The caller's page writing holds the GIL in 5 ms slices by default, so the fetch thread
    # would send up to 5 ms after its rate-limit slot, by a different amount each time: jitter
    # that eats the margin under Airtable's limit. Switching every 1 ms keeps sends on time.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.001))
    thread = threading.Thread(target=fetch, name="airtable-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "page":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        sys.setswitchinterval(switch_interval)
