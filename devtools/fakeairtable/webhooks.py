"""Webhooks of the fake Airtable: hooks, the payloads they collect, their notification pings.

The hub is the model's ``change_listener`` (see model.py): every committed transaction on a
base (an API request, a control-API call, one direct model call) becomes one payload for each
hook of that base that is enabled, unexpired and whose filters match:

- ``dataTypes``: "tableData" (records created, changed, destroyed), "tableFields" (fields
  created, changed: name/type, destroyed), "tableMetadata" (a table's name);
- ``recordChangeScope``: one table (its ``tbl`` id, or its view's id);
- ``watchDataInFieldIds``: changed records only when one of these cells changed;
- ``fromSources``: "publicApi" (API writes), "client" (the control API, direct model calls).

``includes``: ``includePreviousCellValues`` adds ``previous`` to changed records,
``includeCellValuesInFieldIds`` ("all" or ids) adds the ``unchanged`` cells,
``includePreviousFieldDefinitions`` adds ``previous`` to changed fields. Cell values use the
webhook format: a select is ``{id, name, color}``, a link ``[{id, name}]`` (the linked record's
primary value), anything else as the REST API gives it; a cleared cell is ``null``.

Time is the model's clock (``FakeAirtable(clock=...)``): a hook expires 7 days after its
creation or its last refresh (listing its payloads also extends it); an expired hook shows
``isHookEnabled: false``, collects nothing and cannot be refreshed; payloads older than 7 days
are purged. ``expire(id)`` / ``disable(id)`` do that now, for tests.

Notifications: after each payload a hook with a ``notificationUrl`` (and notifications enabled)
collects, a background thread POSTs ``{"base": {"id"}, "webhook": {"id"}, "timestamp"}`` with
``X-Airtable-Content-MAC: hmac-sha256=<hex>`` (HMAC-SHA256 of the body keyed with the decoded
``macSecretBase64``) and records ``lastNotificationResult``; a failed ping is not retried here
(``willBeRetried: false``). ``wait_for_notifications()`` waits until every ping was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_request, permission_denied
from .model import Commit, FakeTable, TableChanges, ms_to_iso, random_id

if TYPE_CHECKING:
    from .model import FakeAirtableModel

DAY_MS = 24 * 3600 * 1000
HOOK_LIFETIME_MS = 7 * DAY_MS
PAYLOAD_RETENTION_MS = 7 * DAY_MS
MAX_HOOKS_PER_BASE = 10
MAX_PAYLOADS_PER_PAGE = 50
DATA_TYPES = ("tableData", "tableFields", "tableMetadata")
NOTIFICATION_TIMEOUT_SECONDS = 5.0


@dataclass
class StoredPayload:
    number: int  # the cursor that returns it first
    timestamp_ms: int
    body: dict[str, Any]


@dataclass
class FakeWebhook:
    id: str
    base_id: str
    notification_url: str | None
    specification: dict[str, Any]  # as sent (camelCase keys)
    mac_secret: bytes
    expiration_ms: int
    enabled: bool = True  # False once disabled (``disable()``)
    notifications_enabled: bool = True
    next_number: int = 1  # cursorForNextPayload
    payloads: list[StoredPayload] = field(default_factory=list)
    last_notification_result: dict[str, Any] | None = None
    last_successful_notification_ms: int | None = None

    @property
    def filters(self) -> dict[str, Any]:
        return self.specification["options"]["filters"]

    @property
    def includes(self) -> dict[str, Any]:
        return self.specification["options"].get("includes") or {}

    def is_enabled(self, now_ms: int) -> bool:
        return self.enabled and now_ms < self.expiration_ms

    def to_api(self, now_ms: int) -> dict[str, Any]:
        """One entry of ``GET /v0/bases/{base}/webhooks``."""
        last_ok = self.last_successful_notification_ms
        return {
            "id": self.id,
            "specification": json.loads(json.dumps(self.specification)),
            "notificationUrl": self.notification_url,
            "cursorForNextPayload": self.next_number,
            "lastNotificationResult": self.last_notification_result,
            "areNotificationsEnabled": self.notifications_enabled,
            "lastSuccessfulNotificationTime": None if last_ok is None else ms_to_iso(last_ok),
            "isHookEnabled": self.is_enabled(now_ms),
            "expirationTime": ms_to_iso(self.expiration_ms),
        }


def _not_found(hook_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"Could not find webhook {hook_id}")


# ---------------------------------------------------------------------------------------------
# Cell values in the webhook format


def webhook_cell(table: FakeTable, field_id: str, value: Any) -> Any:
    field = table._fields.get(field_id)
    if value is None or field is None:
        return value
    kind = field["type"]
    if kind in ("singleSelect", "multipleSelects"):
        choices = {c.get("name"): c for c in (field.get("options") or {}).get("choices") or []}

        def choice(name: Any) -> dict[str, Any]:
            found = choices.get(name) or {"id": None, "name": name}
            return {k: found[k] for k in ("id", "name", "color") if k in found}

        return choice(value) if kind == "singleSelect" else [choice(v) for v in value]
    if kind == "multipleRecordLinks":
        linked_id = (field.get("options") or {}).get("linkedTableId") or table.id
        linked = table.base.find_table(linked_id)
        out = []
        for record_id in value:
            name = None
            if linked is not None and (record := linked._records.get(record_id)) is not None:
                primary = record.fields.get(linked.primary_field_id)
                name = None if primary is None else str(primary)
            out.append({"id": record_id, "name": name})
        return out
    return value


def _cells(table: FakeTable, values: Mapping[str, Any]) -> dict[str, Any]:
    return {fid: webhook_cell(table, fid, v) for fid, v in values.items() if fid in table._fields}


# ---------------------------------------------------------------------------------------------
# The hub


class WebhookHub:
    """All hooks of one fake Airtable (thread-safe: everything runs under the model lock)."""

    def __init__(self, model: FakeAirtableModel, seed: int = 0):
        self.model = model
        self.hooks: dict[str, FakeWebhook] = {}
        self._rng = random.Random(f"webhooks/{seed}")
        self._outbox: queue.Queue[tuple[str, str, bytes, bytes] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- the change listener -------------------------------------------------------------------

    def watching(self, base_id: str) -> bool:
        now = self.model.now_ms()
        return any(h.base_id == base_id and h.is_enabled(now) for h in self.hooks.values())

    def committed(self, commit: Commit) -> None:
        now = commit.timestamp_ms
        for hook in self.hooks.values():
            if hook.base_id != commit.base.id or not hook.is_enabled(now):
                continue
            body = self._payload_for(hook, commit)
            if body is None:
                continue
            self._purge(hook, now)
            hook.payloads.append(StoredPayload(hook.next_number, now, body))
            hook.next_number += 1
            if hook.notification_url and hook.notifications_enabled:
                self._notify(hook, now)

    def _payload_for(self, hook: FakeWebhook, commit: Commit) -> dict[str, Any] | None:
        filters = hook.filters
        sources = filters.get("fromSources") or []
        if sources and commit.source not in sources:
            return None
        data_types = set(filters.get("dataTypes") or ())
        scope = filters.get("recordChangeScope")
        tables: dict[str, Any] = {}
        for table_id, changes in commit.tables.items():
            table = commit.base._tables[table_id]
            if scope and scope not in (table_id, table.view_id):
                continue
            out: dict[str, Any] = {}
            if "tableData" in data_types:
                out.update(self._record_changes(hook, table, changes))
            if "tableFields" in data_types:
                out.update(self._field_changes(hook, table, changes))
            if "tableMetadata" in data_types and changes.metadata:
                previous = {k: v[0] for k, v in changes.metadata.items()}
                current = {k: v[1] for k, v in changes.metadata.items()}
                if table.description:
                    current.setdefault("description", table.description)
                out["changedMetadata"] = {"current": current, "previous": previous}
            if out:
                tables[table_id] = out
        if not tables:
            return None
        return {
            "timestamp": ms_to_iso(commit.timestamp_ms),
            "baseTransactionNumber": commit.transaction_number,
            "actionMetadata": {
                "source": commit.source,
                "sourceMetadata": json.loads(json.dumps(commit.source_metadata)),
            },
            "payloadFormat": "v0",
            "changedTablesById": tables,
        }

    @staticmethod
    def _record_changes(
        hook: FakeWebhook, table: FakeTable, changes: TableChanges
    ) -> dict[str, Any]:
        includes = hook.includes
        watched = set(hook.filters.get("watchDataInFieldIds") or ())
        with_previous = bool(includes.get("includePreviousCellValues"))
        with_cells = includes.get("includeCellValuesInFieldIds")
        out: dict[str, Any] = {}
        changed = {}
        for record_id, cells in changes.changed_records.items():
            if watched and watched.isdisjoint(cells):
                continue
            entry: dict[str, Any] = {
                "current": {
                    "cellValuesByFieldId": _cells(table, {f: v[1] for f, v in cells.items()})
                }
            }
            if with_previous:
                previous = _cells(table, {f: v[0] for f, v in cells.items()})
                entry["previous"] = {"cellValuesByFieldId": previous}
            record = table._records.get(record_id)
            if with_cells and record is not None:
                wanted = record.fields if with_cells == "all" else with_cells
                unchanged = {
                    f: record.fields[f] for f in wanted if f in record.fields and f not in cells
                }
                if unchanged:
                    entry["unchanged"] = {"cellValuesByFieldId": _cells(table, unchanged)}
            changed[record_id] = entry
        if changed:
            out["changedRecordsById"] = changed
        created = {}
        for record_id in changes.created_records:
            record = table._records.get(record_id)
            if record is not None:
                created[record_id] = {
                    "createdTime": ms_to_iso(record.created),
                    "cellValuesByFieldId": _cells(table, record.fields),
                }
        if created:
            out["createdRecordsById"] = created
        if changes.destroyed_record_ids:
            out["destroyedRecordIds"] = list(changes.destroyed_record_ids)
        return out

    @staticmethod
    def _field_changes(
        hook: FakeWebhook, table: FakeTable, changes: TableChanges
    ) -> dict[str, Any]:
        with_previous = bool(hook.includes.get("includePreviousFieldDefinitions"))
        out: dict[str, Any] = {}
        created = {
            fid: {"name": table._fields[fid]["name"], "type": table._fields[fid]["type"]}
            for fid in changes.created_fields
            if fid in table._fields
        }
        if created:
            out["createdFieldsById"] = created
        changed = {}
        for fid, entry in changes.changed_fields.items():
            item: dict[str, Any] = {"current": {k: v[1] for k, v in entry.items()}}
            if with_previous:
                item["previous"] = {k: v[0] for k, v in entry.items()}
            changed[fid] = item
        if changed:
            out["changedFieldsById"] = changed
        if changes.destroyed_field_ids:
            out["destroyedFieldIds"] = list(changes.destroyed_field_ids)
        return out

    @staticmethod
    def _purge(hook: FakeWebhook, now_ms: int) -> None:
        cut = now_ms - PAYLOAD_RETENTION_MS
        if hook.payloads and hook.payloads[0].timestamp_ms < cut:
            hook.payloads = [p for p in hook.payloads if p.timestamp_ms >= cut]

    # -- the API -------------------------------------------------------------------------------

    def _hook(self, base_id: str, hook_id: str) -> FakeWebhook:
        hook = self.hooks.get(hook_id)
        if hook is None or hook.base_id != base_id:
            raise _not_found(hook_id)
        return hook

    def create(
        self, base_id: str, body: Any, scopes: Iterable[str] | None = None
    ) -> tuple[FakeWebhook, dict[str, Any]]:
        """``POST /v0/bases/{base}/webhooks`` -> (the hook, ``{id, macSecretBase64,
        expirationTime}``). ``scopes``: the token's, which must cover the data types."""
        if not isinstance(body, dict) or set(body) - {"notificationUrl", "specification"}:
            raise bad_request()
        url = body.get("notificationUrl")
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            raise bad_request("Invalid request: notificationUrl must be an http(s) URL or null")
        spec = self._check_specification(base_id, body.get("specification"))
        needed = scopes_for_data_types(spec["options"]["filters"]["dataTypes"])
        if scopes is not None and not needed <= set(scopes):
            raise permission_denied()
        with self.model.lock:
            if sum(1 for h in self.hooks.values() if h.base_id == base_id) >= MAX_HOOKS_PER_BASE:
                raise ApiError(
                    422,
                    "TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE",
                    f"A base can have at most {MAX_HOOKS_PER_BASE} webhooks",
                )
            while True:
                hook_id = random_id(self._rng, "ach")
                if hook_id not in self.hooks:
                    break
            now = self.model.now_ms()
            hook = FakeWebhook(
                hook_id,
                base_id,
                url,
                spec,
                self._rng.randbytes(32),
                now + HOOK_LIFETIME_MS,
            )
            self.hooks[hook_id] = hook
            return hook, {
                "id": hook_id,
                "macSecretBase64": base64.b64encode(hook.mac_secret).decode("ascii"),
                "expirationTime": ms_to_iso(hook.expiration_ms),
            }

    def _check_specification(self, base_id: str, spec: Any) -> dict[str, Any]:
        def refuse(why: str) -> ApiError:
            return bad_request(f"Invalid request: the webhook specification is invalid: {why}")

        if not isinstance(spec, dict) or not isinstance(spec.get("options"), dict):
            raise refuse("specification.options is required")
        filters = spec["options"].get("filters")
        if not isinstance(filters, dict):
            raise refuse("options.filters is required")
        data_types = filters.get("dataTypes")
        if (
            not isinstance(data_types, list)
            or not data_types
            or not set(data_types) <= set(DATA_TYPES)
        ):
            raise refuse(f"filters.dataTypes must list some of {', '.join(DATA_TYPES)}")
        scope = filters.get("recordChangeScope")
        if scope is not None:
            base = self.model.bases.get(base_id)
            tables = base.tables if base is not None else []
            if not any(scope in (t.id, t.view_id) for t in tables):
                raise refuse(f"recordChangeScope {scope!r} is not a table or view of the base")
        for key in ("watchDataInFieldIds", "fromSources"):
            value = filters.get(key)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                raise refuse(f"filters.{key} must be a list of strings")
        includes = spec["options"].get("includes")
        if includes is not None and not isinstance(includes, dict):
            raise refuse("options.includes must be an object")
        return json.loads(json.dumps(spec))

    def list_hooks(self, base_id: str) -> dict[str, Any]:
        with self.model.lock:
            now = self.model.now_ms()
            hooks = [h.to_api(now) for h in self.hooks.values() if h.base_id == base_id]
            return {"webhooks": hooks}

    def list_payloads(
        self, base_id: str, hook_id: str, cursor: int = 1, limit: int = MAX_PAYLOADS_PER_PAGE
    ) -> dict[str, Any]:
        """``GET …/webhooks/{id}/payloads?cursor=&limit=`` (extends the hook's life)."""
        with self.model.lock:
            hook = self._hook(base_id, hook_id)
            now = self.model.now_ms()
            self._purge(hook, now)
            if hook.is_enabled(now):
                hook.expiration_ms = now + HOOK_LIFETIME_MS
            kept = [p for p in hook.payloads if p.number >= cursor]
            page = kept[:limit]
            next_cursor = page[-1].number + 1 if page else min(cursor, hook.next_number)
            return {
                "payloads": [json.loads(json.dumps(p.body)) for p in page],
                "cursor": next_cursor,
                "mightHaveMore": len(kept) > len(page),
            }

    def refresh(self, base_id: str, hook_id: str) -> dict[str, Any]:
        with self.model.lock:
            hook = self._hook(base_id, hook_id)
            now = self.model.now_ms()
            if not hook.is_enabled(now):
                raise ApiError(
                    422,
                    "CANNOT_REFRESH_DISABLED_WEBHOOK",
                    "Cannot refresh a webhook that is disabled or expired: create a new one",
                )
            hook.expiration_ms = now + HOOK_LIFETIME_MS
            return {"expirationTime": ms_to_iso(hook.expiration_ms)}

    def delete(self, base_id: str, hook_id: str) -> dict[str, Any]:
        with self.model.lock:
            self._hook(base_id, hook_id)
            del self.hooks[hook_id]
            return {}

    def enable_notifications(self, base_id: str, hook_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("enable"), bool):
            raise bad_request()
        with self.model.lock:
            self._hook(base_id, hook_id).notifications_enabled = body["enable"]
            return {}

    # -- for tests and demos -------------------------------------------------------------------

    def expire(self, hook_id: str) -> None:
        """The hook's 7 days are over now: it stops collecting, as an unrefreshed one does."""
        with self.model.lock:
            self.hooks[hook_id].expiration_ms = self.model.now_ms()

    def disable(self, hook_id: str) -> None:
        """Disable the hook (as Airtable does after failed pings): ``isHookEnabled`` false."""
        with self.model.lock:
            self.hooks[hook_id].enabled = False

    def for_base(self, base_id: str) -> list[FakeWebhook]:
        with self.model.lock:
            return [h for h in self.hooks.values() if h.base_id == base_id]

    # -- notifications -------------------------------------------------------------------------

    def _notify(self, hook: FakeWebhook, now_ms: int) -> None:
        body = json.dumps(
            {
                "base": {"id": hook.base_id},
                "webhook": {"id": hook.id},
                "timestamp": ms_to_iso(now_ms),
            },
            separators=(",", ":"),
        ).encode("ascii")
        with self._idle:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._send_loop, name="fakeairtable:webhooks", daemon=True
                )
                self._thread.start()
        assert hook.notification_url is not None
        self._outbox.put((hook.id, hook.notification_url, body, hook.mac_secret))

    def _send_loop(self) -> None:
        while True:
            job = self._outbox.get()
            if job is None:
                return
            try:
                self._send(*job)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send(self, hook_id: str, url: str, body: bytes, secret: bytes) -> None:
        mac = hmac.new(secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Airtable-Content-MAC": f"hmac-sha256={mac}",
            },
        )
        started = time.monotonic()
        error: str | None = None
        try:
            with self._opener.open(request, timeout=NOTIFICATION_TIMEOUT_SECONDS) as response:
                response.read()
        except urllib.error.HTTPError as failure:
            error = f"The notification URL answered {failure.code}"
        except OSError as failure:
            error = f"The notification URL could not be reached: {failure}"
        duration_ms = (time.monotonic() - started) * 1000
        with self.model.lock:
            hook = self.hooks.get(hook_id)
            if hook is None:
                return
            now = self.model.now_ms()
            result: dict[str, Any] = {
                "success": error is None,
                "completionTimestamp": ms_to_iso(now),
                "durationMs": round(duration_ms, 3),
                "retryNumber": 0,
                "willBeRetried": False,
            }
            if error is None:
                hook.last_successful_notification_ms = now
            else:
                result["error"] = {"message": error}
            hook.last_notification_result = result

    def wait_for_notifications(self, timeout: float = 10.0) -> bool:
        """Block until every queued ping was sent and its result recorded. -> False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop the sending thread (pings still queued are sent first)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._outbox.put(None)
            thread.join(timeout=NOTIFICATION_TIMEOUT_SECONDS + 1)
        self._thread = None


def scopes_for_data_types(data_types: Iterable[str]) -> set[str]:
    """The scopes a token needs to create a hook for these data types (besides webhook:manage)."""
    needed = set()
    for kind in data_types:
        needed.add("data.records:read" if kind == "tableData" else "schema.bases:read")
    return needed
