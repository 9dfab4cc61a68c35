"""Data-health findings, the score's history, and each organization's thresholds.

A finding is one problem: a kind and what it is about (its `key`: the records, or the base's
table and field). It is open from the computation that first sees it until one no longer does
(`resolved_at`); one that comes back later is a new finding. "Not a problem" hides it until
the records involved change (`fingerprint` differs from `dismissed_fingerprint`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from health.kinds import Kind, Severity
from orgs.models import OrgScoped


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Not a problem"
    RESOLVED = "resolved", "Resolved"


class Finding(OrgScoped):
    kind = models.CharField(max_length=40, choices=Kind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    key = models.CharField(max_length=300)  # the kind and what it is about; see health.detect
    # [{"model", "id", "label", "context", "airtable": {"base", "table", "record"} | None}]
    records = models.JSONField(default=list)
    fields = models.JSONField(default=list)  # [{"table", "field", "table_name", "field_name"}]
    detail = models.TextField()  # why, in one sentence a person understands
    score = models.FloatField(null=True, blank=True)  # a duplicate cluster's similarity
    # What fixes it from the page (health.actions), e.g. {"action": "close_project", "project": 7}
    fix = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64)  # the records' state as last seen
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["kind", "-score", "first_seen_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_unresolved_finding_per_key",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "resolved_at", "kind"]),
            # The data-health page's first findings of each kind, best first
            # (health.selectors.first_of_each_kind): read in order, no sort of them all.
            models.Index(
                fields=["organization", "kind", "-score", "id"],
                condition=models.Q(resolved_at__isnull=True),
                name="finding_open_by_kind_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"

    @property
    def status(self) -> FindingStatus:
        if self.resolved_at is not None:
            return FindingStatus.RESOLVED
        if self.dismissed_at is not None and self.dismissed_fingerprint == self.fingerprint:
            return FindingStatus.DISMISSED
        return FindingStatus.OPEN


class HealthSnapshot(OrgScoped):
    """The score and the open findings per kind after one computation: the trend's points."""

    computed_at = models.DateTimeField(default=timezone.now)
    score = models.FloatField()  # 0-100, one decimal: a fix moves it visibly
    open_findings = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # kind -> open findings

    class Meta:
        ordering = ["-computed_at", "-pk"]
        indexes = [models.Index(fields=["organization", "computed_at"])]


class HealthSettings(OrgScoped):
    """An organization's thresholds (the defaults when it has no row)."""

    abandoned_after_days = models.PositiveSmallIntegerField(default=60)
    stale_key_result_weeks = models.PositiveSmallIntegerField(default=6)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="one_health_settings_per_org")
        ]


class HealthAction(OrgScoped):
    """A fix made from the data health page: what changed, value by value, to show and undo."""

    class Kind(models.TextChoices):
        CLOSE_PROJECT = "close_project", "Closed a project"
        REASSIGN_TASKS = "reassign_tasks", "Reassigned tasks"
        MERGE_OBJECTIVES = "merge_objectives", "Merged objectives"
        MERGE_PROJECTS = "merge_projects", "Merged projects"
        MERGE_PEOPLE = "merge_people", "Merged people"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=500)
    # [{"model", "id", "label", "field", "before", "after", "shown"}] in the order applied
    changes = models.JSONField(default=list)
    finding_key = models.CharField(max_length=300, blank=True)  # what it fixed
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.summary


class DigestOptOut(OrgScoped):
    """An admin who asked not to get the organization's weekly data health email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_digest_opt_out")
        ]
