"""Airtable connections, their field mapping, and the record of every sync run."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from orgs.models import OrgScoped

BASE_ID_VALIDATOR = RegexValidator(
    r"^app[A-Za-z0-9]{14}$", "An Airtable base id looks like app followed by 14 letters or digits."
)

SYNC_RUN_TARGET = "sync_run"  # its kind of activity-feed target (registered in sync/apps.py)


class Connection(OrgScoped):
    """One Airtable base synced into one organization."""

    name = models.CharField(max_length=120)
    base_id = models.CharField(max_length=17, validators=[BASE_ID_VALIDATOR])
    # Encrypted at rest (sync.crypto); only the last four characters are ever shown.
    token_encrypted = models.TextField(editable=False)
    token_last4 = models.CharField(max_length=4, editable=False)
    # The mapping (sync.mapping.document.Mapping.to_dict()), keyed by table and field ids.
    mapping = models.JSONField(default=dict, blank=True)
    # The base's schema as last read from the metadata API, for the mapping page.
    schema = models.JSONField(default=dict, blank=True, editable=False)
    schema_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Write-back settings per table id: {"id_field": "fld…" (the MissionOS ID field creates
    # are upserted on), "read_only": bool}. A table not listed is writable, without id field.
    write_settings = models.JSONField(default=dict, blank=True)
    # What the token may do, from Airtable's whoami (empty: not known yet).
    token_scopes = models.JSONField(default=list, blank=True, editable=False)
    # Why writes cannot be made at all right now (a token without write scope, a read-only
    # base), said on the connection page; cleared by the next write that succeeds.
    write_blocked = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "base_id"], name="unique_base_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.base_id})"

    def __repr__(self) -> str:  # never the token
        return f"<Connection {self.pk} {self.base_id} token …{self.token_last4}>"


class RunKind(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full"
    # A batch of the change feed (Airtable's webhooks): records changed in Airtable, applied
    # within seconds. Runs beside full and incremental ones, never blocking them.
    CHANGES = "changes", "Live changes"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncRun(OrgScoped):
    """One sync of one connection: what it did, how far it got, and what went wrong."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=12, choices=RunKind.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Incremental runs pull records modified since this time (the previous successful start).
    modified_since = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Progress, updated as pages arrive.
    tables_total = models.PositiveIntegerField(default=0)
    tables_done = models.PositiveIntegerField(default=0)
    current_table = models.CharField(max_length=200, blank=True)
    pulled = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    # Outcome.
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    unarchived = models.PositiveIntegerField(default=0)
    issue_count = models.PositiveIntegerField(default=0)
    # A full run's census of the mapped tables, for data health's empty fields:
    # {table id: {"records": n, "filled": {field id: records with a value}}}
    field_fill = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["connection", "status", "-queued_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync of {self.connection_id} ({self.status})"

    def activity_target(self) -> tuple[str, int | None, str]:
        return SYNC_RUN_TARGET, self.pk, ""

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def airtable_record_url(base_id: str, table_id: str, record_id: str) -> str:
    """A record's row in Airtable: https://airtable.com/<base>/<table>/<record>."""
    return f"https://airtable.com/{base_id}/{table_id}/{record_id}"


class SyncIssue(OrgScoped):
    """Something a run could not make sense of; the record was kept as well as it could be.

    One row per problem (connection, table, record, kind, field and the reason's key), kept
    while the problem lasts: a run that finds it again updates it (a record unchanged in
    Airtable leaves it as it is), one that finds the record without it removes it
    (sync.reconcile.issues). `run` is the run that first found it, `last_seen_run` the last
    run that wrote the record or its links; each run's own count is SyncRun.issue_count.
    """

    class Kind(models.TextChoices):
        VALUE = "value", "Value that does not fit"
        LINK = "link", "Link to a missing record"
        REQUIRED = "required", "Required field empty"
        OVERWRITE = "overwrite", "MissionOS edit overwritten"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="issues")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="issues")
    last_seen_run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Tells apart two problems of one kind in one field (sync.reconcile.issues.problem_key).
    problem_key = models.CharField(max_length=16)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    table_id = models.CharField(max_length=32)
    table_name = models.CharField(max_length=200)
    record_id = models.CharField(max_length=32)
    field_id = models.CharField(max_length=32, blank=True)
    field_name = models.CharField(max_length=200, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["table_name", "record_id", "field_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "table_id", "record_id", "kind", "field_id", "problem_key"],
                name="one_sync_issue_per_problem",
            )
        ]

    def __str__(self) -> str:
        return f"{self.table_name} {self.record_id} {self.field_name}: {self.reason}"

    def airtable_url(self, base_id: str) -> str:
        """The record's row in Airtable, where the problem is fixed."""
        return airtable_record_url(base_id, self.table_id, self.record_id)


class PendingWrite(OrgScoped):
    """A row MissionOS changed (or made) that Airtable has not been told of: the write-back's
    transactional outbox. Queued in the same transaction as the change (sync.writeback.journal),
    so a rolled-back change queues nothing; removed in the transaction that records the write
    as done, so a worker that dies mid-push leaves it queued. One entry per row: changes made
    while it waits are folded in (the push sends the row's values as they are then)."""

    class State(models.TextChoices):
        PENDING = "pending", "Saving to Airtable"
        FAILED = "failed", "Not saved"
        WAITING = "waiting", "Waiting for a linked record"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="writes")
    entity = models.CharField(max_length=20)
    row_id = models.BigIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Bumped by every change folded in: the push removes the entry only if no change came
    # while it was writing.
    version = models.PositiveIntegerField(default=1)
    changed_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Why Airtable refused it (shown on the record's page and the connection page).
    reason = models.TextField(blank=True)
    # A create sent whose answer was lost: the retry must find the record, not make another.
    create_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "row_id"], name="one_pending_write_per_row")
        ]
        indexes = [models.Index(fields=["connection", "state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.row_id} → Airtable ({self.state})"


class SyncConflict(OrgScoped):
    """A field changed both in MissionOS and in Airtable since they last agreed. Neither side
    is overwritten until a person chooses (sync.services.conflict_resolve)."""

    class Resolution(models.TextChoices):
        MISSIONOS = "missionos", "Kept MissionOS's value"
        AIRTABLE = "airtable", "Took Airtable's value"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="conflicts")
    entity = models.CharField(max_length=20)
    row_id = models.BigIntegerField()
    attribute = models.CharField(max_length=40)
    field_id = models.CharField(max_length=32, blank=True)
    field_name = models.CharField(max_length=200, blank=True)
    # Both sides as values (JSON: the model value, the raw cell) and as shown to a person.
    missionos_value = models.JSONField(null=True, blank=True)
    missionos_shown = models.TextField(blank=True)
    missionos_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    missionos_at = models.DateTimeField(null=True, blank=True)
    airtable_cell = models.JSONField(null=True, blank=True)
    airtable_shown = models.TextField(blank=True)
    airtable_seen_at = models.DateTimeField(default=timezone.now)
    detected_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "row_id", "attribute"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_conflict_per_field",
            )
        ]

    def __str__(self) -> str:
        return f"conflict on {self.entity} {self.row_id} {self.attribute}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class FeedState(models.TextChoices):
    OFF = "off", "Off"  # nothing mapped yet, or not set up
    ACTIVE = "active", "Active"
    NO_PERMISSION = "no_permission", "No permission"
    FAILED = "failed", "Failed"


class ChangeFeed(OrgScoped):
    """A connection's change feed: the Airtable webhook that reports changes to its base, and
    how far its payloads have been applied (sync.services.feed)."""

    connection = models.OneToOneField(
        Connection, on_delete=models.CASCADE, related_name="change_feed"
    )
    state = models.CharField(max_length=16, choices=FeedState.choices, default=FeedState.OFF)
    message = models.TextField(blank=True)  # why it is not active, in words for the page
    webhook_id = models.CharField(max_length=32, blank=True, db_index=True)
    # Encrypted at rest like the token (sync.crypto): it verifies the pings' MAC.
    mac_secret_encrypted = models.TextField(blank=True, editable=False)
    notification_url = models.URLField(max_length=500, blank=True)  # empty: polled
    # The first payload not applied yet; saved only once a batch is applied (at least once).
    cursor = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)  # of the current webhook
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)  # last batch applied

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["webhook_id"],
                condition=~models.Q(webhook_id=""),
                name="unique_change_feed_webhook",
            )
        ]

    def __str__(self) -> str:
        return f"Change feed of {self.connection_id} ({self.state})"

    def __repr__(self) -> str:  # never the secret
        return f"<ChangeFeed {self.pk} {self.webhook_id or '-'} {self.state}>"
