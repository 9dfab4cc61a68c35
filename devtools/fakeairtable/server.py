"""The fake Airtable Web API over real HTTP: routing, auth, rate limit, paging, faults.

    fake = FakeAirtable(rate_limit=5.0, lockout_seconds=30.0, seed=0)
    base = fake.add_base("appXXXXXXXXXXXXXX", "Plans", tokens={"patXXX"})
    table = base.add_table("tblXXXXXXXXXXXXXX", "Objectives", [{"id": "fld1", "name": "Name",
                                                                "type": "singleLineText"}])
    table.create({"fld1": "Grow"})
    with fake:                      # or fake.start() / fake.stop()
        api = pyairtable.Api("patXXX", endpoint_url=fake.url)

Routes (everything else: 404 ``{"error": "NOT_FOUND"}``), with the scope each needs:

- ``GET /v0/meta/whoami`` (none), ``GET /v0/meta/bases`` and ``GET
  /v0/meta/bases/{baseId}/tables`` (schema.bases:read)
- ``GET /v0/{baseId}/{tableIdOrName}``, ``POST /v0/{baseId}/{tableIdOrName}/listRecords``,
  ``GET /v0/{baseId}/{tableIdOrName}/{recordId}`` (data.records:read)
- writes (data.records:write; the base's permission level "edit" or "create"), see writes.py:
  ``POST /v0/{baseId}/{table}`` (create), ``PATCH``/``PUT /v0/{baseId}/{table}`` (update,
  replace, ``performUpsert``), ``PATCH``/``PUT``/``DELETE /v0/{baseId}/{table}/{recordId}``,
  ``DELETE /v0/{baseId}/{table}?records[]=…``
- ``POST /v0/meta/bases/{baseId}/tables/{table}/fields`` (schema.bases:write; level "create")
- webhooks (webhook:manage, and data.records:read / schema.bases:read for the data types a
  new hook watches), see webhooks.py: ``GET``/``POST /v0/bases/{baseId}/webhooks``, ``DELETE
  …/webhooks/{id}``, ``GET …/webhooks/{id}/payloads?cursor=&limit=``, ``POST
  …/webhooks/{id}/refresh``, ``POST …/webhooks/{id}/enableNotifications`` ``{"enable"}``
- the control API under ``/_control/`` (below)

Order of checks: route (404), token (401), billing-limit switch (429), base access (403), the
route's scope and the base's permission level (403), rate limit (429), injected fault (record
listings, writes, webhook calls; see ``Faults``), then the request itself (403 for a missing
table, 404 for a missing record or hook, 422 for bad parameters or values). Requests refused
before the rate-limit check do not count against a base's limit; every request after it does
(metadata, writes and webhook calls included). An API write is one transaction (source
"publicApi"): one webhook payload per hook, however many records it touched.

Control API, for people and demos: a loopback tool with no token, no rate limit, no faults,
not counted in ``requests``. A change through it is a person editing in Airtable's UI: webhook
source "client", so hooks collect it and ping. Bodies, values and refusals are the API's
(writes.py: ≤ 10 records a request, fields by name or id, 422 for a bad value); an unknown
base or table is 404. With ``python -m devtools.fakeairtable`` on port 8765::

    curl -s localhost:8765/_control/bases        # bases, tables (record counts), webhooks
    curl -s localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives       # every record
    curl -s 'localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives?returnFieldsByFieldId=true'
    curl -s -X POST localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives \
         -H 'Content-Type: application/json' -d '{"fields": {"Name": "Grow", "Score": 3}}'
    curl -s -X POST localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives \
         -d '{"records": [{"fields": {"Name": "A"}}, {"fields": {"Name": "B"}}]}'
    curl -s -X PATCH localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives/recXXXXXXXXXXXXXX \
         -d '{"fields": {"Status": "Done"}}'                           # merges
    curl -s -X PATCH localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives \
         -d '{"records": [{"id": "recXXXXXXXXXXXXXX", "fields": {"Score": 4}}]}'
    curl -s -X DELETE localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives/recXXXXXXXXXXXXXX
    curl -sg -X DELETE 'localhost:8765/_control/appXXXXXXXXXXXXXX/Objectives?records[]=recA…'
    curl -s -X POST localhost:8765/_control/webhooks/achXXXXXXXXXXXXXX/expire   # or /disable

(``-g`` stops curl reading ``[]`` as a pattern; ``"typecast": true`` in a body adds select
options as the API's does.)
"""

from __future__ import annotations

import json
import math
import random
import re
import socket
import socketserver
import threading
import time
import traceback
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from . import writes
from .errors import (
    MSG_AUTH,
    MSG_BILLING,
    MSG_PARAMS,
    MSG_PERMISSIONS,
    MSG_RATE,
    ApiError,
    bad_request,
    permission_denied,
)
from .formula import FormulaError, compile_formula
from .model import FakeAirtableModel, FakeBase, FakeTable, random_id, render_record
from .webhooks import MAX_PAYLOADS_PER_PAGE, FakeWebhook, WebhookHub

# Faults that strike before the request is handled (a write is not applied).
FAULT_KINDS = ("429", "500", "502", "503", "timeout", "broken_json", "drop")
# Faults that strike after a write was applied; on a read they are their "before" twin.
AFTER_FAULT_KINDS = ("timeout_after", "broken_json_after", "drop_after", "500_after")
ALL_FAULT_KINDS = FAULT_KINDS + AFTER_FAULT_KINDS

__all__ = ["MSG_AUTH", "MSG_BILLING", "MSG_PARAMS", "MSG_PERMISSIONS", "MSG_RATE"]
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

_OFFSET_RE = re.compile(r"(itr[A-Za-z0-9]{14})/(rec[A-Za-z0-9]{14})")
_SORT_RE = re.compile(r"sort\[(\d+)\]\[(field|direction)\]")


class LoggedRequest(NamedTuple):
    time: float  # FakeAirtable.monotonic() at arrival
    method: str
    path: str  # without the query string, still URL-encoded
    base_id: str | None
    status: int


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "timeout", "broken_json", "drop", "hang"


_ApiError = ApiError


def _json_response(status: int, payload: Any, **headers: str) -> _Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Response(status, body, headers=dict(headers))


def _not_found() -> _Response:
    return _json_response(404, {"error": "NOT_FOUND"})


# ---------------------------------------------------------------------------------------------
# Faults


class Faults:
    """Injected trouble, all off by default and deterministic for a given seed.

    - ``configure(rate=0.2, kinds=(...))``: that fraction of the requests faults strike (record
      listings, record and field writes, webhook calls; not the schema, single-record reads or
      whoami) gets a fault drawn from ``kinds`` (default FAULT_KINDS; any of ALL_FAULT_KINDS).
      "429" alternates the documented error shape and the ``{"errors": [...]}`` list shape;
      every other "503" carries ``Retry-After: 1``; "502" is an HTML page from a gateway;
      "timeout" answers normally after ``timeout_seconds``; "broken_json" is a 200 whose JSON
      body is cut in half; "drop" sends the headers and half the body, then closes the socket.
    - These FAULT_KINDS strike *before* the request is handled: a write is not applied (a
      "timeout" then holds the connection ``timeout_seconds`` and closes it unanswered, and
      "broken_json"/"drop" cut a placeholder body: the client cannot tell).
    - AFTER_FAULT_KINDS strike *after* a write was applied (records, fields, webhook create /
      refresh / delete / enableNotifications): "timeout_after" holds the real answer past the
      client's read timeout, "broken_json_after" and "drop_after" cut it, "500_after" replaces
      it with a 500. The random ``rate`` draws them only when ``kinds`` names them; on a read
      (listings, webhook lists and payloads) an after-kind is its before twin ("500_after" is
      "500"), since nothing was changed. A write refused (4xx) answers its refusal.
    - ``inject_next(*kinds)``: the next struck requests get these faults, in order.
    - ``expire_offsets()``: the next request carrying a (well-formed) offset gets 422
      LIST_RECORDS_ITERATOR_NOT_AVAILABLE, and that iterator is gone.
    - ``billing_limit = True``: every authenticated request gets 429
      PUBLIC_API_BILLING_LIMIT_EXCEEDED until set back to False.
    """

    def __init__(self, seed: int = 0):
        self._rng = random.Random(f"faults/{seed}")
        self._lock = threading.Lock()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = FAULT_KINDS
        self.timeout_seconds = 5.0
        self.billing_limit = False
        self.injected: Counter[str] = Counter()
        self._queue: deque[str] = deque()
        self._expire_next_offset = False
        self._count_429 = 0
        self._count_503 = 0

    def configure(
        self,
        rate: float | None = None,
        kinds: Iterable[str] | None = None,
        timeout_seconds: float | None = None,
    ) -> None:
        with self._lock:
            if kinds is not None:
                kinds = tuple(kinds)
                unknown = set(kinds) - set(ALL_FAULT_KINDS)
                if unknown or not kinds:
                    raise ValueError(f"fault kinds must be among {ALL_FAULT_KINDS}, got {kinds}")
                self.kinds = kinds
            if rate is not None:
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("rate must be within [0, 1]")
                self.rate = rate
            if timeout_seconds is not None:
                self.timeout_seconds = timeout_seconds

    def inject_next(self, *kinds: str) -> None:
        unknown = set(kinds) - set(ALL_FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        with self._lock:
            self._queue.extend(kinds)

    def expire_offsets(self) -> None:
        with self._lock:
            self._expire_next_offset = True

    def clear(self) -> None:
        """Everything off (the counters stay)."""
        with self._lock:
            self.rate = 0.0
            self.kinds = FAULT_KINDS
            self.billing_limit = False
            self._queue.clear()
            self._expire_next_offset = False

    def _pick(self) -> str | None:
        with self._lock:
            if self._queue:
                kind = self._queue.popleft()
            elif self.rate > 0 and self._rng.random() < self.rate:
                kind = self._rng.choice(self.kinds)
            else:
                return None
            self.injected[kind] += 1
            return kind

    def _take_offset_expiry(self) -> bool:
        with self._lock:
            hit, self._expire_next_offset = self._expire_next_offset, False
            return hit

    def _error_response(self, kind: str) -> _Response | None:
        """The response for a fault that replaces the answer, None for the others."""
        if kind == "429":
            with self._lock:
                self._count_429 += 1
                documented = self._count_429 % 2 == 1
            if documented:
                payload: Any = {"error": {"type": "RATE_LIMIT_REACHED", "message": MSG_RATE}}
            else:
                payload = {"errors": [{"error": "RATE_LIMIT_REACHED", "message": MSG_RATE}]}
            return _json_response(429, payload)
        if kind == "500":
            return _json_response(
                500, {"error": {"type": "SERVER_ERROR", "message": "Internal server error"}}
            )
        if kind == "502":
            return _Response(502, HTML_502, content_type="text/html")
        if kind == "503":
            with self._lock:
                self._count_503 += 1
                retry_after = self._count_503 % 2 == 1
            headers = {"Retry-After": "1"} if retry_after else {}
            payload = {"error": {"type": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}}
            return _json_response(503, payload, **headers)
        return None


# ---------------------------------------------------------------------------------------------
# Listing


@dataclass
class _ListOptions:
    page_size: int = 100
    max_records: int | None = None
    offset: str | None = None
    view: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    formula: str | None = None
    fields: list[str] | None = None
    by_id: bool = False
    comment_count: bool = False


@dataclass
class _Iterator:
    id: str
    table: FakeTable
    ids: list[str]
    last_used: float
    positions: dict[str, int] = field(default_factory=dict)


_GET_SCALARS = {
    "pageSize",
    "maxRecords",
    "offset",
    "view",
    "filterByFormula",
    "cellFormat",
    "returnFieldsByFieldId",
    "timeZone",
    "userLocale",
}
_POST_KEYS = _GET_SCALARS | {"sort", "fields", "recordMetadata"}


_bad_request = bad_request


def _int_param(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise _bad_request()
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _bad_request() from None
    if isinstance(value, float) and not value.is_integer():
        raise _bad_request()
    if number < low or (high is not None and number > high):
        raise _bad_request(f"Invalid request: parameter validation failed: {name}={value}")
    return number


def _bool_param(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _bad_request()


def _options(
    scalars: dict[str, Any],
    sort: list[tuple[str, str]],
    fields: list[str] | None,
    metadata: list[str],
) -> _ListOptions:
    opts = _ListOptions(sort=sort, fields=fields)
    if "pageSize" in scalars:
        opts.page_size = _int_param(scalars["pageSize"], "pageSize", 1, 100)
    if "maxRecords" in scalars:
        opts.max_records = _int_param(scalars["maxRecords"], "maxRecords", 1)
    if scalars.get("offset") not in (None, ""):
        if not isinstance(scalars["offset"], str):
            raise _ApiError(422, "INVALID_OFFSET_VALUE", "The offset value is invalid")
        opts.offset = scalars["offset"]
    opts.view = scalars.get("view") or None
    opts.formula = scalars.get("filterByFormula") or None
    if opts.formula is not None and not isinstance(opts.formula, str):
        raise _bad_request()
    cell_format = scalars.get("cellFormat", "json")
    if cell_format != "json":
        raise _bad_request("The fake Airtable supports cellFormat=json only")
    if "returnFieldsByFieldId" in scalars:
        opts.by_id = _bool_param(scalars["returnFieldsByFieldId"])
    for item in metadata:
        if item != "commentCount":
            raise _bad_request()
        opts.comment_count = True
    return opts


def _options_from_query(query: str) -> _ListOptions:
    scalars: dict[str, str] = {}
    fields: list[str] | None = None
    sorts: dict[int, dict[str, str]] = {}
    metadata: list[str] = []
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key == "fields[]":
            fields = [*(fields or []), value]
        elif key == "recordMetadata[]":
            metadata.append(value)
        elif (m := _SORT_RE.fullmatch(key)) is not None:
            sorts.setdefault(int(m[1]), {})[m[2]] = value
        elif key in _GET_SCALARS:
            scalars[key] = value
        else:
            raise _bad_request()
    sort = []
    for index in sorted(sorts):
        spec = sorts[index]
        if "field" not in spec:
            raise _bad_request()
        sort.append((spec["field"], spec.get("direction", "asc")))
    return _options(scalars, sort, fields, metadata)


def _options_from_body(body: bytes, query: str) -> _ListOptions:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise _bad_request("Invalid request: the body is not valid JSON") from None
    if not isinstance(data, dict) or set(data) - _POST_KEYS:
        raise _bad_request()
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key not in ("timeZone", "userLocale"):
            raise _bad_request()
        data[key] = value
    fields = data.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise _bad_request()
    sort = []
    for spec in data.get("sort") or []:
        if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
            raise _bad_request()
        sort.append((spec["field"], spec.get("direction", "asc")))
    metadata = data.get("recordMetadata") or []
    if not isinstance(metadata, list):
        raise _bad_request()
    scalars = {k: v for k, v in data.items() if k in _GET_SCALARS}
    return _options(scalars, sort, fields, metadata)


_RECORD_ID_CLAUSE = re.compile(r"\s*RECORD_ID\(\)\s*=\s*'(rec[A-Za-z0-9]{14})'\s*")


def _record_ids_asked(formula: str | None) -> set[str] | None:
    """The ids of a formula that only lists records by id (`OR(RECORD_ID()='rec…', …)`, or
    one such clause); None for any other formula."""
    if formula is None:
        return None
    text = formula.strip()
    if text.startswith("OR(") and text.endswith(")"):
        text = text[3:-1]
    clauses = text.split(",")
    ids = set()
    for clause in clauses:
        match = _RECORD_ID_CLAUSE.fullmatch(clause)
        if match is None:
            return None
        ids.add(match.group(1))
    return ids


def _resolve_field(table: FakeTable, id_or_name: str) -> str:
    """A field name (first) or id -> field id; 422 UNKNOWN_FIELD_NAME otherwise."""
    found = table.field_by_name(id_or_name)
    if found is not None:
        return found["id"]
    if id_or_name in table._fields:
        return id_or_name
    raise _ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{id_or_name}"')


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    if isinstance(value, list):
        return (2, ", ".join(str(v) for v in value).lower())
    if isinstance(value, dict):
        return (2, str(value.get("name") or value.get("email") or value.get("id") or "").lower())
    return (2, str(value).lower())


_render = render_record

_READ, _WRITE = "data.records:read", "data.records:write"
_SCHEMA_READ, _SCHEMA_WRITE = "schema.bases:read", "schema.bases:write"
_HOOKS = "webhook:manage"
_ANY_LEVEL = ("read", "comment", "edit", "create")
_EDIT = ("edit", "create")
# route kind -> (the scope it needs, the base permission levels that may do it)
_NEEDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "schema": (_SCHEMA_READ, _ANY_LEVEL),
    "record": (_READ, _ANY_LEVEL),
    "list": (_READ, _ANY_LEVEL),
    "list_post": (_READ, _ANY_LEVEL),
    "create": (_WRITE, _EDIT),
    "update": (_WRITE, _EDIT),
    "replace": (_WRITE, _EDIT),
    "update_one": (_WRITE, _EDIT),
    "replace_one": (_WRITE, _EDIT),
    "delete": (_WRITE, _EDIT),
    "delete_one": (_WRITE, _EDIT),
    "create_field": (_SCHEMA_WRITE, ("create",)),
    "hooks": (_HOOKS, _ANY_LEVEL),
    "hook_create": (_HOOKS, _ANY_LEVEL),
    "hook_payloads": (_HOOKS, _ANY_LEVEL),
    "hook_refresh": (_HOOKS, _ANY_LEVEL),
    "hook_delete": (_HOOKS, _ANY_LEVEL),
    "hook_enable": (_HOOKS, _ANY_LEVEL),
}
# Requests that change something: "after" faults strike them once the change is made.
_APPLIES = frozenset(
    {
        "create",
        "update",
        "replace",
        "update_one",
        "replace_one",
        "delete",
        "delete_one",
        "create_field",
        "hook_create",
        "hook_refresh",
        "hook_delete",
        "hook_enable",
    }
)


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise _bad_request("Invalid request: the body is not valid JSON") from None


def _no_query(query: str, allowed: tuple[str, ...] = ()) -> None:
    for key, _value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key not in allowed:
            raise _bad_request()


def _record_ids(query: str) -> list[str]:
    """``records[]=rec…&records[]=rec…`` of a DELETE."""
    return [
        value
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True)
        if key in ("records[]", "records")
    ]


# ---------------------------------------------------------------------------------------------
# The fake


class FakeAirtable(FakeAirtableModel):
    """In-memory Airtable bases served over HTTP on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        rate_limit: float | None = 5.0,
        lockout_seconds: float = 30.0,
        seed: int = 0,
        offset_ttl: float = 60.0,
        clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        """`clock` stamps records (see the model); `monotonic` measures the rate-limit window,
        lockouts and pagination offsets' lifetime: a test can pass one it moves by hand."""
        super().__init__(seed=seed, clock=clock)
        self.monotonic = monotonic
        self.rate_limit = rate_limit
        self.lockout_seconds = lockout_seconds
        self.offset_ttl = offset_ttl
        self.faults = Faults(seed)
        self.requests: list[LoggedRequest] = []
        self.log_limit = 200_000  # entries kept in ``requests`` (the latest ones)
        self.lockouts_by_base: Counter[str] = Counter()
        self._log_lock = threading.Lock()
        self._rate_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._iterators: dict[str, _Iterator] = {}
        self._itr_rng = random.Random(f"iterators/{seed}")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.url: str | None = None
        self.webhooks = WebhookHub(self, seed)
        self.change_listener = self.webhooks  # every committed change may become a payload

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on a daemon thread. -> the root URL, e.g. ``http://127.0.0.1:54321``."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakeairtable:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes "timeout" faults still sleeping
        self.webhooks.close()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        self.url = None

    def __enter__(self) -> FakeAirtable:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, hook_id: str) -> FakeWebhook:
        return self.webhooks.hooks[hook_id]

    def expire_webhook(self, hook_id: str) -> None:
        """The hook's 7 days end now (see webhooks.py)."""
        self.webhooks.expire(hook_id)

    def disable_webhook(self, hook_id: str) -> None:
        self.webhooks.disable(hook_id)

    def wait_for_notifications(self, timeout: float = 10.0) -> bool:
        """Wait until every webhook ping queued so far was sent. -> False on timeout."""
        return self.webhooks.wait_for_notifications(timeout)

    # -- observability ------------------------------------------------------------------------

    @property
    def lockouts(self) -> int:
        """How many times a base was locked out by the rate limit (injected 429s excluded)."""
        return sum(self.lockouts_by_base.values())

    def request_count(self, base_id: str | None = None) -> int:
        with self._log_lock:
            if base_id is None:
                return len(self.requests)
            return sum(1 for r in self.requests if r.base_id == base_id)

    def reset_log(self) -> None:
        """Forget logged requests and the lockout and fault counters (not the lockouts)."""
        with self._log_lock:
            self.requests.clear()
            self.lockouts_by_base.clear()
            self.faults.injected.clear()

    def unlock(self, base_id: str | None = None) -> None:
        """End a lockout now and empty the rate-limit window (of one base, or all)."""
        with self._rate_lock:
            for key in [base_id] if base_id else list(self._windows | self._locked_until):
                self._windows.pop(key, None)
                self._locked_until.pop(key, None)

    def locked_out(self, base_id: str) -> bool:
        with self._rate_lock:
            return self._locked_until.get(base_id, 0.0) > self.monotonic()

    def _log(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self.requests.append(entry)
            if len(self.requests) > self.log_limit:  # a long-running demo: keep the latest
                del self.requests[: len(self.requests) - self.log_limit // 2]

    # -- rate limit ---------------------------------------------------------------------------

    def _admit(self, base_id: str, now: float) -> bool:
        """Strict sliding window: at most ceil(rate) requests in any ceil(rate)/rate seconds
        (5 in any 1 s by default); one more locks the base out for ``lockout_seconds``."""
        if self.rate_limit is None:
            return True
        allowed = max(1, math.ceil(self.rate_limit))
        window_seconds = allowed / self.rate_limit
        with self._rate_lock:
            until = self._locked_until.get(base_id)
            if until is not None:
                if now < until:
                    return False
                del self._locked_until[base_id]
                self._windows.pop(base_id, None)
            window = self._windows.setdefault(base_id, deque())
            while window and now - window[0] >= window_seconds:
                window.popleft()
            if len(window) >= allowed:
                window.clear()
                self._locked_until[base_id] = now + self.lockout_seconds
                with self._log_lock:
                    self.lockouts_by_base[base_id] += 1
                return False
            window.append(now)
            return True

    # -- dispatch -----------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> _Response:
        """Answer one request (the HTTP handler writes the result) and log it."""
        now = self.monotonic()
        path, _, query = raw_path.partition("?")
        base_id: str | None = None
        control = path == "/_control" or path.startswith("/_control/")
        try:
            if control:
                response = self._control(method, path, query, body)
            else:
                route = self._route(method, path)
                if route is None:
                    response = _not_found()
                else:
                    kind, base_id, args = route
                    response = self._dispatch(kind, base_id, args, headers, query, body, now)
        except _ApiError as error:
            response = _json_response(error.status, error.body())
        except Exception as error:  # a bug in the fake: say so loudly rather than hang up
            traceback.print_exc()
            message = f"fake Airtable failed: {error!r}"
            response = _json_response(500, {"error": {"type": "SERVER_ERROR", "message": message}})
        if not control:  # the control API is no Airtable traffic
            self._log(LoggedRequest(now, method, path, base_id, response.status))
        return response

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, str | None, list[str]] | None:
        raw = path.split("/")
        if len(raw) < 3 or raw[0] != "" or raw[1] != "v0":
            return None
        parts = [urllib.parse.unquote(p) for p in raw[2:]]
        if any(p == "" for p in parts):
            return None
        n = len(parts)
        if parts[0] == "meta":
            if method == "GET" and parts == ["meta", "whoami"]:
                return ("whoami", None, [])
            if method == "GET" and parts == ["meta", "bases"]:
                return ("bases", None, [])
            if method == "GET" and n == 4 and parts[1] == "bases" and parts[3] == "tables":
                return ("schema", parts[2], [])
            if (
                method == "POST"
                and n == 6
                and (parts[1], parts[3], parts[5]) == ("bases", "tables", "fields")
            ):
                return ("create_field", parts[2], [parts[4]])
            return None
        if parts[0] == "bases" and n >= 3 and parts[2] == "webhooks":
            base_id = parts[1]
            if n == 3:
                kind = {"GET": "hooks", "POST": "hook_create"}.get(method)
                return (kind, base_id, []) if kind else None
            action = (method, parts[4] if n == 5 else None)
            kind = {
                ("DELETE", None): "hook_delete",
                ("GET", "payloads"): "hook_payloads",
                ("POST", "refresh"): "hook_refresh",
                ("POST", "enableNotifications"): "hook_enable",
            }.get(action)
            return (kind, base_id, [parts[3]]) if kind and n in (4, 5) else None
        if n == 2:
            kind = {
                "GET": "list",
                "POST": "create",
                "PATCH": "update",
                "PUT": "replace",
                "DELETE": "delete",
            }.get(method)
            return (kind, parts[0], [parts[1]]) if kind else None
        if n == 3:
            if method == "POST":
                return ("list_post", parts[0], [parts[1]]) if parts[2] == "listRecords" else None
            kind = {
                "GET": "record",
                "PATCH": "update_one",
                "PUT": "replace_one",
                "DELETE": "delete_one",
            }.get(method)
            return (kind, parts[0], [parts[1], parts[2]]) if kind else None
        return None

    def _dispatch(
        self,
        kind: str,
        base_id: str | None,
        args: list[str],
        headers: Any,
        query: str,
        body: bytes,
        now: float,
    ) -> _Response:
        token = self._token(headers)
        if token is None or not self.token_known(token):
            raise _ApiError(401, "AUTHENTICATION_REQUIRED", MSG_AUTH)
        if self.faults.billing_limit:
            raise _ApiError(429, "PUBLIC_API_BILLING_LIMIT_EXCEEDED", MSG_BILLING)
        scopes = self.scopes_of(token)
        if kind == "whoami":
            rng = random.Random(f"user/{token}")
            return _json_response(200, {"id": random_id(rng, "usr"), "scopes": sorted(scopes)})
        if kind == "bases":
            if "schema.bases:read" not in scopes:
                raise permission_denied()
            with self.lock:
                bases = [
                    {"id": b.id, "name": b.name, "permissionLevel": b.permission_level}
                    for b in self.bases.values()
                    if token in b.tokens
                ]
            return _json_response(200, {"bases": bases})

        assert base_id is not None
        with self.lock:
            base = self.bases.get(base_id)
            if base is None or token not in base.tokens:
                raise permission_denied()
            scope, levels = _NEEDS[kind]
            if scope not in scopes or base.permission_level not in levels:
                raise permission_denied()
        if not self._admit(base_id, now):
            raise _ApiError(429, "RATE_LIMIT_REACHED", MSG_RATE)

        if kind == "schema":
            include = urllib.parse.parse_qs(query).get("include", [])
            return _json_response(200, base.schema_dict("visibleFieldIds" in include))
        if kind == "record":
            return self._get_record(base, args[0], args[1], query)

        def answer() -> _Response:
            return self._answer(kind, base, args, query, body, token, scopes)

        fault = self.faults._pick()
        if fault is None:
            return answer()
        twin = fault.removesuffix("_after")
        if fault.endswith("_after") and kind in _APPLIES:  # apply, then fail to say so
            response = answer()
            replaced = self.faults._error_response(twin)
            if replaced is not None:
                return replaced
            response.action = twin
            return response
        if (replaced := self.faults._error_response(twin)) is not None:
            return replaced
        if kind in _APPLIES:  # a transport fault before Airtable saw the write
            response = _json_response(200, {"error": {"type": "NOT_APPLIED"}})
            response.action = "hang" if twin == "timeout" else twin
            return response
        response = answer()
        response.action = twin
        return response

    def _answer(
        self,
        kind: str,
        base: FakeBase,
        args: list[str],
        query: str,
        body: bytes,
        token: str,
        scopes: frozenset[str],
    ) -> _Response:
        """The request itself, once it passed auth, the rate limit and the faults."""
        if kind in ("list", "list_post"):
            opts = _options_from_query(query) if kind == "list" else _options_from_body(body, query)
            return self._list_records(base, args[0], opts)
        if kind.startswith("hook"):
            return self._webhook_call(kind, base, args, query, body, scopes)
        _no_query(query, allowed=("records[]", "records") if kind == "delete" else ())
        with self.transaction("publicApi", self._api_user(token, base)):
            table = self._table(base, args[0])
            if kind == "create_field":
                payload = writes.create_field(table, _json_body(body))
            elif kind == "create":
                payload = writes.create_records(table, _json_body(body))
            elif kind in ("update", "replace"):
                payload = writes.update_records(table, _json_body(body), replace=kind == "replace")
            elif kind in ("update_one", "replace_one"):
                payload = writes.update_record(
                    table, args[1], _json_body(body), replace=kind == "replace_one"
                )
            elif kind == "delete":
                payload = writes.delete_records(table, _record_ids(query))
            else:  # delete_one
                payload = writes.delete_record(table, args[1])
        return _json_response(200, payload)

    @staticmethod
    def _api_user(token: str, base: FakeBase) -> dict[str, Any]:
        """sourceMetadata of an API write: the token's user."""
        rng = random.Random(f"user/{token}")
        user = {"id": random_id(rng, "usr"), "permissionLevel": base.permission_level}
        return {"user": user}

    def _webhook_call(
        self,
        kind: str,
        base: FakeBase,
        args: list[str],
        query: str,
        body: bytes,
        scopes: frozenset[str],
    ) -> _Response:
        hub = self.webhooks
        if kind == "hooks":
            _no_query(query)
            return _json_response(200, hub.list_hooks(base.id))
        if kind == "hook_payloads":
            cursor, limit = 1, MAX_PAYLOADS_PER_PAGE
            for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
                if key == "cursor":
                    cursor = _int_param(value, "cursor", 1)
                elif key == "limit":
                    limit = _int_param(value, "limit", 1, MAX_PAYLOADS_PER_PAGE)
                else:
                    raise _bad_request()
            return _json_response(200, hub.list_payloads(base.id, args[0], cursor, limit))
        _no_query(query)
        if kind == "hook_create":
            _hook, payload = hub.create(base.id, _json_body(body), scopes=scopes)
        elif kind == "hook_refresh":
            payload = hub.refresh(base.id, args[0])
        elif kind == "hook_delete":
            payload = hub.delete(base.id, args[0])
        else:  # hook_enable
            payload = hub.enable_notifications(base.id, args[0], _json_body(body))
        return _json_response(200, payload)

    # -- the control API ----------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: bytes) -> _Response:
        """``/_control/…`` (see the module docstring): no auth, no rate limit, no faults."""
        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:] if p != ""]
        n = len(parts)
        if method == "GET" and parts == ["bases"]:
            with self.lock:
                bases = [
                    {
                        "id": b.id,
                        "name": b.name,
                        "permissionLevel": b.permission_level,
                        "tables": [
                            {"id": t.id, "name": t.name, "records": len(t)} for t in b.tables
                        ],
                        "webhooks": self.webhooks.list_hooks(b.id)["webhooks"],
                    }
                    for b in self.bases.values()
                ]
            return _json_response(200, {"bases": bases})
        if n == 3 and parts[0] == "webhooks" and method == "POST":
            return self._control_hook(parts[1], parts[2])
        if n not in (2, 3):
            return _not_found()
        with self.lock:
            base = self.bases.get(parts[0])
            table = base.find_table(parts[1]) if base is not None else None
            if table is None:
                raise _ApiError(404, "NOT_FOUND", f"No table {parts[1]!r} in base {parts[0]!r}")
            if n == 2 and method == "GET":
                by_id = False
                for key, value in urllib.parse.parse_qsl(query):
                    if key != "returnFieldsByFieldId":
                        raise _bad_request()
                    by_id = _bool_param(value)
                names = table.field_names()
                records = [render_record(r, names, by_id) for r in table.records.values()]
                return _json_response(200, {"records": records})
        with self.transaction("client"):  # a person editing in Airtable
            if n == 2 and method == "POST":
                payload = writes.create_records(table, _json_body(body))
            elif n == 2 and method == "PATCH":
                payload = writes.update_records(table, _json_body(body), replace=False)
            elif n == 2 and method == "DELETE":
                payload = writes.delete_records(table, _record_ids(query))
            elif n == 3 and method == "PATCH":
                payload = writes.update_record(table, parts[2], _json_body(body), replace=False)
            elif n == 3 and method == "DELETE":
                payload = writes.delete_record(table, parts[2])
            else:
                return _not_found()
        return _json_response(200, payload)

    def _control_hook(self, hook_id: str, action: str) -> _Response:
        with self.lock:
            if hook_id not in self.webhooks.hooks:
                raise _ApiError(404, "NOT_FOUND", f"Could not find webhook {hook_id}")
            if action == "expire":
                self.webhooks.expire(hook_id)
            elif action == "disable":
                self.webhooks.disable(hook_id)
            else:
                return _not_found()
            hook = self.webhooks.hooks[hook_id]
            return _json_response(200, hook.to_api(self.now_ms()))

    @staticmethod
    def _token(headers: Any) -> str | None:
        value = headers.get("Authorization") if headers is not None else None
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def _table(self, base: FakeBase, id_or_name: str) -> FakeTable:
        table = base.find_table(id_or_name)
        if table is None:
            raise _ApiError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", MSG_PERMISSIONS)
        return table

    def _get_record(self, base: FakeBase, table_ref: str, record_id: str, query: str) -> _Response:
        by_id = False
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            if key == "returnFieldsByFieldId":
                by_id = _bool_param(value)
            elif key == "cellFormat":
                if value != "json":
                    raise _bad_request("The fake Airtable supports cellFormat=json only")
            elif key not in ("timeZone", "userLocale"):
                raise _bad_request()
        with self.lock:
            table = self._table(base, table_ref)
            record = table._records.get(record_id)
            if record is None:
                raise _ApiError(
                    404, "MODEL_ID_NOT_FOUND", f"Could not find a record with ID {record_id}"
                )
            payload = _render(record, table.field_names(), by_id, None, False)
        return _json_response(200, payload)

    def _list_records(self, base: FakeBase, table_ref: str, opts: _ListOptions) -> _Response:
        now = self.monotonic()
        with self.lock:
            table = self._table(base, table_ref)
            if opts.view is not None and opts.view not in ("Grid view", table.view_id):
                raise _ApiError(422, "VIEW_NAME_NOT_FOUND", f'Could not find view "{opts.view}"')
            selected = None
            if opts.fields is not None:
                selected = {_resolve_field(table, f) for f in opts.fields}

            if opts.offset is not None:
                iterator, position = self._resume(table, opts.offset, now)
            else:
                iterator, position = self._begin(table, opts, now), 0

            records = table._records
            ids = iterator.ids
            page = []
            i = position
            while i < len(ids) and len(page) < opts.page_size:
                record = records.get(ids[i])
                i += 1
                if record is not None:  # deleted since the listing began
                    page.append(record)
            names = table.field_names()
            payload: dict[str, Any] = {
                "records": [
                    _render(r, names, opts.by_id, selected, opts.comment_count) for r in page
                ]
            }
            if i < len(ids):
                iterator.positions[ids[i]] = i
                payload["offset"] = f"{iterator.id}/{ids[i]}"
                self._iterators.setdefault(iterator.id, iterator)
            iterator.last_used = now
        return _json_response(200, payload)

    def _begin(self, table: FakeTable, opts: _ListOptions, now: float) -> _Iterator:
        records = table.ordered_records()
        wanted = _record_ids_asked(opts.formula)
        if wanted is not None:
            # `OR(RECORD_ID()='rec…', …)`: what Airtable answers by its index, looked up by id
            # here too instead of evaluating 100 clauses on every record (seconds on 20k).
            records = [r for r in records if r.id in wanted]
        elif opts.formula is not None:
            try:
                predicate = compile_formula(opts.formula, table)
            except FormulaError as error:
                raise _ApiError(
                    422,
                    "INVALID_FILTER_BY_FORMULA",
                    f"The formula for filtering records is invalid: {error}",
                ) from None
            records = [r for r in records if predicate(r)]
        for field_ref, direction in reversed(opts.sort):
            if direction not in ("asc", "desc"):
                raise _bad_request()
            fid = _resolve_field(table, field_ref)
            records = sorted(
                records,
                key=lambda r, fid=fid: _sort_key(r.fields.get(fid)),
                reverse=direction == "desc",
            )
        ids = [r.id for r in records]
        if opts.max_records is not None:
            ids = ids[: opts.max_records]
        self._purge_iterators(now)
        while True:
            itr_id = random_id(self._itr_rng, "itr")
            if itr_id not in self._iterators:
                break
        return _Iterator(itr_id, table, ids, now)

    def _resume(self, table: FakeTable, offset: str, now: float) -> tuple[_Iterator, int]:
        m = _OFFSET_RE.fullmatch(offset)
        if m is None:
            raise _ApiError(422, "INVALID_OFFSET_VALUE", f"The offset value is invalid: {offset}")
        if self.faults._take_offset_expiry():
            self._iterators.pop(m[1], None)
            raise _ApiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")
        iterator = self._iterators.get(m[1])
        if iterator is not None and now - iterator.last_used > self.offset_ttl:
            del self._iterators[m[1]]
            iterator = None
        if iterator is None:
            raise _ApiError(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")
        position = iterator.positions.get(m[2])
        if iterator.table is not table or position is None:
            raise _ApiError(422, "INVALID_OFFSET_VALUE", f"The offset value is invalid: {offset}")
        return iterator, position

    def _purge_iterators(self, now: float) -> None:
        expired = [k for k, it in self._iterators.items() if now - it.last_used > self.offset_ttl]
        for key in expired:
            del self._iterators[key]


# ---------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeAirtable):
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up (timeouts, drops) is business as usual here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stalls
    server: _Server

    def version_string(self) -> str:
        return "FakeAirtable/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        fake = self.server.fake
        response = fake.handle(self.command, self.path, self.headers, body)
        try:
            self._write(response, fake)
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def _write(self, response: _Response, fake: FakeAirtable) -> None:
        body = response.body
        if response.action == "hang":  # hold, then hang up without an answer
            fake._stopping.wait(fake.faults.timeout_seconds)
            self.close_connection = True
            return
        if response.action == "timeout" and fake._stopping.wait(fake.faults.timeout_seconds):
            self.close_connection = True
            return
        if response.action == "broken_json":
            body = body[: max(1, len(body) // 2)]
        self.send_response(response.status)
        self.send_header("Content-Type", f"{response.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.action == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)
