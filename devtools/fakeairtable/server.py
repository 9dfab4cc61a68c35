"""The fake Airtable Web API over real HTTP: routing, auth, rate limit, paging, faults.

    fake = FakeAirtable(rate_limit=5.0, lockout_seconds=30.0, seed=0)
    base = fake.add_base("appXXXXXXXXXXXXXX", "Plans", tokens={"patXXX"})
    table = base.add_table("tblXXXXXXXXXXXXXX", "Objectives", [{"id": "fld1", "name": "Name",
                                                                "type": "singleLineText"}])
    table.create({"fld1": "Grow"})
    with fake:                      # or fake.start() / fake.stop()
        api = pyairtable.Api("patXXX", endpoint_url=fake.url)

Routes (everything else: 404 ``{"error": "NOT_FOUND"}``; writes are not implemented):

- ``GET /v0/meta/whoami``, ``GET /v0/meta/bases``, ``GET /v0/meta/bases/{baseId}/tables``
- ``GET /v0/{baseId}/{tableIdOrName}`` and ``POST /v0/{baseId}/{tableIdOrName}/listRecords``
- ``GET /v0/{baseId}/{tableIdOrName}/{recordId}``

Order of checks: route (404), token (401), billing-limit switch (429), base access (403), rate
limit (429), injected fault (record listings only), then the request itself (403 for a missing
table, 422 for bad parameters). Requests refused before the base check do not count against
a base's rate limit; every request after it does (metadata included).
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

from .formula import FormulaError, compile_formula
from .model import FakeAirtableModel, FakeBase, FakeRecord, FakeTable, ms_to_iso, random_id

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "broken_json", "drop")

MSG_AUTH = "Authentication required"
MSG_PERMISSIONS = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct."
)
MSG_RATE = "Rate limit exceeded. Please try again later"
MSG_BILLING = (
    "There are no more API calls available for this billing period. Please upgrade your plan "
    "or wait for the next billing period."
)
MSG_PARAMS = "Invalid request: parameter validation failed. Check your request data."
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
    action: str | None = None  # "timeout", "broken_json", "drop"


class _ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str | None = None):
        super().__init__(error_type)
        self.status = status
        self.error_type = error_type
        self.message = message

    def response(self) -> _Response:
        error: dict[str, Any] = {"type": self.error_type}
        if self.message is not None:
            error["message"] = self.message
        return _json_response(self.status, {"error": error})


def _json_response(status: int, payload: Any, **headers: str) -> _Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return _Response(status, body, headers=dict(headers))


def _not_found() -> _Response:
    return _json_response(404, {"error": "NOT_FOUND"})


# ---------------------------------------------------------------------------------------------
# Faults


class Faults:
    """Injected trouble, all off by default and deterministic for a given seed.

    - ``configure(rate=0.2, kinds=(...))``: that fraction of record-list requests gets a fault
      drawn from ``kinds`` (FAULT_KINDS). "429" alternates the documented error shape and the
      ``{"errors": [...]}`` list shape; every other "503" carries ``Retry-After: 1``; "502" is an
      HTML page from a gateway; "timeout" answers normally after ``timeout_seconds``;
      "broken_json" is a 200 whose JSON body is cut in half; "drop" sends the headers and half
      the body, then closes the socket.
    - ``inject_next(*kinds)``: the next record-list requests get these faults, in order.
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
                unknown = set(kinds) - set(FAULT_KINDS)
                if unknown or not kinds:
                    raise ValueError(f"fault kinds must be among {FAULT_KINDS}, got {kinds}")
                self.kinds = kinds
            if rate is not None:
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("rate must be within [0, 1]")
                self.rate = rate
            if timeout_seconds is not None:
                self.timeout_seconds = timeout_seconds

    def inject_next(self, *kinds: str) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
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


def _bad_request(message: str = MSG_PARAMS) -> _ApiError:
    return _ApiError(422, "INVALID_REQUEST_UNKNOWN", message)


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


def _render(
    record: FakeRecord,
    names: dict[str, str],
    by_id: bool,
    selected: set[str] | None,
    comment_count: bool,
) -> dict[str, Any]:
    fields = {}
    for fid, value in record.fields.items():
        if selected is not None and fid not in selected:
            continue
        name = names.get(fid)
        if name is not None:
            fields[fid if by_id else name] = value
    out: dict[str, Any] = {
        "id": record.id,
        "createdTime": ms_to_iso(record.created),
        "fields": fields,
    }
    if comment_count:
        out["commentCount"] = 0
    return out


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
        try:
            route = self._route(method, path)
            if route is None:
                response = _not_found()
            else:
                kind, base_id, args = route
                response = self._dispatch(kind, base_id, args, headers, query, body, now)
        except _ApiError as error:
            response = error.response()
        except Exception as error:  # a bug in the fake: say so loudly rather than hang up
            traceback.print_exc()
            message = f"fake Airtable failed: {error!r}"
            response = _json_response(500, {"error": {"type": "SERVER_ERROR", "message": message}})
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
        if parts[0] == "meta":
            if method != "GET":
                return None
            if parts == ["meta", "whoami"]:
                return ("whoami", None, [])
            if parts == ["meta", "bases"]:
                return ("bases", None, [])
            if len(parts) == 4 and parts[1] == "bases" and parts[3] == "tables":
                return ("schema", parts[2], [])
            return None
        if method == "GET" and len(parts) == 2:
            return ("list", parts[0], [parts[1]])
        if method == "POST" and len(parts) == 3 and parts[2] == "listRecords":
            return ("list_post", parts[0], [parts[1]])
        if method == "GET" and len(parts) == 3:
            return ("record", parts[0], [parts[1], parts[2]])
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
        if kind == "whoami":
            rng = random.Random(f"user/{token}")
            return _json_response(200, {"id": random_id(rng, "usr"), "scopes": []})
        if kind == "bases":
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
                raise _ApiError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", MSG_PERMISSIONS)
        if not self._admit(base_id, now):
            raise _ApiError(429, "RATE_LIMIT_REACHED", MSG_RATE)

        if kind == "schema":
            include = urllib.parse.parse_qs(query).get("include", [])
            return _json_response(200, base.schema_dict("visibleFieldIds" in include))
        if kind == "record":
            return self._get_record(base, args[0], args[1], query)

        fault = self.faults._pick()
        if fault is not None and (replaced := self.faults._error_response(fault)) is not None:
            return replaced
        opts = _options_from_query(query) if kind == "list" else _options_from_body(body, query)
        response = self._list_records(base, args[0], opts)
        response.action = fault
        return response

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
        if opts.formula is not None:
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
