"""Airtable's webhooks API (the change feed), and the records a change names, fetched by id.

pyairtable builds the URLs and bodies and validates the answers with its models
(`CreateWebhook`, `Webhook`, `WebhookPayloads`, `WebhookNotification`); every request goes
through `AirtableClient.request`, so the change feed shares the base's rate limiter and the
sync's retry policy with the pulls. What the payloads mean for the sync (`FeedChanges`) is
worked out here too, as plain data: no ORM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.views.decorators.debug import sensitive_variables
from pyairtable.models.webhook import (
    CreateWebhook,
    CreateWebhookResponse,
    Webhook,
    WebhookNotification,
    WebhookPayload,
    WebhookPayloads,
    WebhookSpecification,
)

from sync.airtable.client import PAGE_SIZE, AirtableClient

# tableData for records created, changed and destroyed; tableFields so a renamed or deleted
# field is noticed at once rather than by the next run's schema check.
DATA_TYPES = ("tableData", "tableFields")
PAYLOADS_PER_REQUEST = 50  # Airtable's maximum
# Record ids per filterByFormula: `RECORD_ID()='rec…'` is 31 characters, so 100 of them stay
# well under the 16,000-character URL at which pyairtable switches to POST.
IDS_PER_FORMULA = PAGE_SIZE
MAC_PREFIX = "hmac-sha256="


def feed_specification() -> dict:
    """One hook per base, for every table: a hook filters by one table at most, so the tables
    that are not mapped are skipped when payloads are applied."""
    return {"options": {"filters": {"dataTypes": list(DATA_TYPES)}}}


class WebhookClient:
    """The webhook endpoints of one base, through an AirtableClient's pacing and retries."""

    def __init__(self, client: AirtableClient) -> None:
        self.client = client
        self.base = client.api.base(client.base_id)

    def _hook_url(self, webhook_id: str, tail: str = "") -> str:
        return f"{self.base.urls.webhooks}/{webhook_id}{tail}"

    def create(self, notification_url: str | None) -> CreateWebhookResponse:
        """A new hook (the MAC secret is in this answer only: store it)."""
        spec = WebhookSpecification.model_validate(feed_specification())
        body = CreateWebhook(notification_url=notification_url, specification=spec).model_dump(
            by_alias=True, exclude_unset=True
        )
        answer = self.client.request(
            "POST", self.base.urls.webhooks, json=body, what="a new webhook"
        )
        return CreateWebhookResponse.model_validate(answer)

    def hooks(self) -> list[Webhook]:
        answer = self.client.request("GET", self.base.urls.webhooks, what="the base's webhooks")
        return [Webhook.model_validate(item) for item in answer.get("webhooks", [])]

    def payloads(self, webhook_id: str, cursor: int) -> WebhookPayloads:
        """One page of payloads from `cursor` on (one request: what an idle poll costs)."""
        answer = self.client.request(
            "GET",
            self._hook_url(webhook_id, "/payloads"),
            params={"cursor": cursor, "limit": PAYLOADS_PER_REQUEST},
            what=f"the payloads of webhook {webhook_id}",
        )
        return WebhookPayloads.model_validate(answer)

    def refresh(self, webhook_id: str) -> datetime | None:
        """Another 7 days for the hook; its new expiry."""
        answer = self.client.request(
            "POST", self._hook_url(webhook_id, "/refresh"), what=f"webhook {webhook_id}"
        )
        expiry = (answer or {}).get("expirationTime")
        return datetime.fromisoformat(expiry.replace("Z", "+00:00")) if expiry else None

    def delete(self, webhook_id: str) -> None:
        self.client.request("DELETE", self._hook_url(webhook_id), what=f"webhook {webhook_id}")

    def records(self, table_id: str, record_ids: Iterable[str]) -> Iterator[list[dict]]:
        """The records with these ids (AirtableClient.records_by_id), as one page."""
        yield self.client.records_by_id(table_id, record_ids)


@sensitive_variables("mac_secret_base64", "secret", "expected")
def verify_notification(body: bytes, mac_header: str, mac_secret_base64: str) -> bool:
    """Whether the ping's `X-Airtable-Content-MAC` is the HMAC-SHA256 of its raw body keyed with
    the hook's secret. Constant-time (pyairtable's `from_request` compares with `!=`)."""
    if not mac_header.startswith(MAC_PREFIX):
        return False
    secret = base64.b64decode(mac_secret_base64)
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, mac_header[len(MAC_PREFIX) :].strip().lower())


def parse_notification(body: bytes) -> WebhookNotification | None:
    """The ping's content ({base, webhook, timestamp}); None when it is not one."""
    try:
        return WebhookNotification.model_validate_json(body)
    except ValueError:
        return None


def notification_webhook_id(body: bytes) -> str:
    """The hook a ping claims to come from, read before its MAC can be checked (the hook's
    secret verifies it); "" when the body is not a ping."""
    notification = parse_notification(body)
    return notification.webhook.id if notification else ""


@dataclass
class TableChanges:
    """What the payloads say about one table, merged: records to fetch again, records gone,
    fields renamed (id -> new name) or gone."""

    upserted: set[str] = field(default_factory=set)
    destroyed: set[str] = field(default_factory=set)
    renamed_fields: dict[str, str] = field(default_factory=dict)
    destroyed_fields: set[str] = field(default_factory=set)
    fields_changed: bool = False  # any field created, changed or destroyed

    def __bool__(self) -> bool:
        return bool(self.upserted or self.destroyed or self.fields_changed)


@dataclass
class FeedChanges:
    tables: dict[str, TableChanges] = field(default_factory=lambda: defaultdict(TableChanges))
    destroyed_tables: set[str] = field(default_factory=set)
    payloads: int = 0
    errors: list[str] = field(default_factory=list)  # payloads Airtable marks as errors

    @property
    def fields_changed(self) -> bool:
        return bool(self.destroyed_tables) or any(t.fields_changed for t in self.tables.values())

    def __bool__(self) -> bool:
        return bool(self.destroyed_tables) or any(self.tables.values())


def merge_payloads(payloads: Iterable[WebhookPayload], changes: FeedChanges | None = None):
    """Fold payloads, oldest first, into the record ids and fields that changed per table. A
    record destroyed after it changed is only destroyed; ids are all that is kept, since the
    records are fetched again through the REST API (the payloads' cell format differs)."""
    changes = FeedChanges() if changes is None else changes
    for payload in payloads:
        changes.payloads += 1
        if payload.error:
            changes.errors.append(payload.error_code or "error")
        changes.destroyed_tables.update(payload.destroyed_table_ids)
        for table_id, table in payload.changed_tables_by_id.items():
            merged = changes.tables[table_id]
            for record_id in [*table.created_records_by_id, *table.changed_records_by_id]:
                merged.upserted.add(record_id)
                merged.destroyed.discard(record_id)
            for record_id in table.destroyed_record_ids:
                merged.destroyed.add(record_id)
                merged.upserted.discard(record_id)
            for field_id, changed in table.changed_fields_by_id.items():
                merged.fields_changed = True
                if changed.current.name:
                    merged.renamed_fields[field_id] = changed.current.name
            if table.created_fields_by_id:
                merged.fields_changed = True
            if table.destroyed_field_ids:
                merged.fields_changed = True
                merged.destroyed_fields.update(table.destroyed_field_ids)
    return changes
