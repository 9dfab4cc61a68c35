"""Writes of the data-health app: computing the findings, and marking one "not a problem"."""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from health.detect import Draft, context_for, current_key_results, detect
from health.kinds import KINDS
from health.models import Finding, FindingStatus, HealthSettings, HealthSnapshot
from health.score import affected, health_score, populations
from orgs.models import Organization


@dataclass(frozen=True)
class ComputeReport:
    snapshot: HealthSnapshot
    new: int
    still_open: int
    resolved: int


def health_settings(organization: Organization) -> HealthSettings:
    """The organization's thresholds (unsaved defaults when it has set none)."""
    found = HealthSettings.objects.for_org(organization).first()
    return found or HealthSettings(organization=organization)


def _fingerprint(draft: Draft) -> str:
    """The state of what a finding is about: "not a problem" holds until it changes."""
    parts = [draft.kind, draft.key, *(f"{r.model}:{r.id}:{r.version}" for r in draft.records)]
    if not draft.records:
        parts.append(draft.detail)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def findings_compute(
    *, organization: Organization, now: datetime.datetime | None = None
) -> ComputeReport:
    """Find what is wrong now and bring the stored findings up to date: new ones open, ones
    seen again move their last-seen time (and take the latest detail), ones no longer seen are
    resolved. Saves the score's point for the trend."""
    now = now or timezone.now()
    thresholds = health_settings(organization)
    ctx = context_for(
        organization,
        now=now,
        abandoned_after_days=thresholds.abandoned_after_days,
        stale_key_result_weeks=thresholds.stale_key_result_weeks,
    )
    drafts = {f"{draft.kind}:{draft.key}": draft for draft in detect(ctx)}
    with transaction.atomic():
        stored = {
            finding.key: finding
            for finding in Finding.objects.for_org(organization)
            .filter(resolved_at=None)
            .select_for_update()
        }
        created: list[Finding] = []
        updated: list[Finding] = []
        for key, draft in drafts.items():
            finding = stored.pop(key, None)
            if finding is None:
                finding = Finding(organization=organization, key=key, first_seen_at=now)
                created.append(finding)
            else:
                updated.append(finding)
            finding.kind = draft.kind
            finding.severity = KINDS[draft.kind].severity
            finding.records = [ref.as_json() for ref in draft.records]
            finding.fields = draft.fields
            finding.detail = draft.detail
            finding.score = draft.score
            finding.fix = draft.fix
            finding.fingerprint = _fingerprint(draft)
            finding.last_seen_at = now
        Finding.objects.bulk_create(created, batch_size=500)
        Finding.objects.for_org(organization).bulk_update(
            updated,
            [
                "severity",
                "records",
                "fields",
                "detail",
                "score",
                "fix",
                "fingerprint",
                "last_seen_at",
            ],
            batch_size=500,
        )
        gone = [finding.pk for finding in stored.values()]
        if gone:
            Finding.objects.for_org(organization).filter(pk__in=gone).update(resolved_at=now)
        live = [f for f in created + updated if f.status == FindingStatus.OPEN]
        snapshot = _snapshot(organization, ctx, live, now)
    return ComputeReport(
        snapshot=snapshot, new=len(created), still_open=len(updated), resolved=len(gone)
    )


def _snapshot(organization, ctx, live: list[Finding], now) -> HealthSnapshot:
    sizes: dict[str, list[int]] = {}
    for finding in live:
        sizes.setdefault(finding.kind, []).append(len(finding.records))
    counts = {kind: affected(kind, record_counts) for kind, record_counts in sizes.items()}
    score = health_score(
        counts,
        populations(organization, current_key_results=current_key_results(ctx).count()),
    )
    by_kind = Counter(finding.kind for finding in live)
    return HealthSnapshot.objects.create(
        organization=organization,
        computed_at=now,
        score=score,
        open_findings=len(live),
        counts=dict(sorted(by_kind.items())),
    )


def finding_dismiss(*, finding: Finding, actor: AbstractBaseUser | None) -> Finding:
    """ "Not a problem": hidden until the records it is about change."""
    finding.dismissed_at = timezone.now()
    finding.dismissed_by = actor if actor is not None and actor.is_authenticated else None
    finding.dismissed_fingerprint = finding.fingerprint
    finding.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_fingerprint"])
    return finding


def finding_restore(*, finding: Finding) -> Finding:
    """Undo "not a problem"."""
    finding.dismissed_at = None
    finding.dismissed_by = None
    finding.dismissed_fingerprint = ""
    finding.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_fingerprint"])
    return finding
