"""Writes of the data-health app: computing the findings, and marking one "not a problem"."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from health.detect import (
    Draft,
    census_fields,
    context_for,
    current_key_results,
    detect,
    scope_keys,
    scope_kinds,
)
from health.kinds import FIELD_KINDS, KINDS
from health.models import Finding, HealthSettings, HealthSnapshot
from health.score import DUPLICATE_KINDS, affected, health_score, populations
from okrs.models import CheckIn, KeyResult, Project, Task
from orgs import audit
from orgs.models import Organization
from sync.models import SyncRun

SIZED_KINDS = DUPLICATE_KINDS | FIELD_KINDS  # their score counts records, not findings


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
    *,
    organization: Organization,
    now: datetime.datetime | None = None,
    scope: dict[str, set[int]] | None = None,
) -> ComputeReport:
    """Find what is wrong now and bring the stored findings up to date: new ones open, ones
    seen again move their last-seen time (and take the latest detail), ones no longer seen are
    resolved. Saves the score's point for the trend.

    `scope` (entity -> row ids: "task", "project", "key_result") refreshes only what is about
    those rows, and the projects of those tasks: what a change-feed batch of a few records
    needs, in a few queries. The findings over the whole plan (duplicates, cells, blank rows,
    broken links) wait for the next full computation, after the next sync run."""
    now = now or timezone.now()
    thresholds = health_settings(organization)
    if scope is not None:
        scope = _widened(organization, scope)
    ctx = context_for(
        organization,
        now=now,
        abandoned_after_days=thresholds.abandoned_after_days,
        stale_key_result_weeks=thresholds.stale_key_result_weeks,
        scope=scope,
    )
    drafts = {f"{draft.kind}:{draft.key}": draft for draft in detect(ctx)}
    with transaction.atomic():
        stored = {finding.key: finding for finding in _stored(organization, scope)}
        created: list[Finding] = []
        changed: list[Finding] = []
        seen_again: list[Finding] = []  # the same as stored: only the last-seen time moves
        for key, draft in drafts.items():
            finding = stored.pop(key, None)
            content = _content(draft)
            if finding is None:
                finding = Finding(organization=organization, key=key, first_seen_at=now)
                created.append(finding)
            elif all(getattr(finding, name) == value for name, value in content.items()):
                seen_again.append(finding)
                continue
            else:
                changed.append(finding)
            for name, value in content.items():
                setattr(finding, name, value)
            finding.last_seen_at = now
        Finding.objects.bulk_create(created, batch_size=500)
        Finding.objects.for_org(organization).bulk_update(
            changed, [*CONTENT, "last_seen_at"], batch_size=500
        )
        _touch(organization, [finding.pk for finding in seen_again], now)
        gone = [finding.pk for finding in stored.values()]
        for start in range(0, len(gone), 5000):
            Finding.objects.for_org(organization).filter(pk__in=gone[start : start + 5000]).update(
                resolved_at=now
            )
        snapshot = _snapshot(organization, ctx, now)
    return ComputeReport(
        snapshot=snapshot,
        new=len(created),
        still_open=len(changed) + len(seen_again),
        resolved=len(gone),
    )


def batch_scope(run: SyncRun) -> dict[str, set[int]]:
    """The rows a change-feed batch wrote or archived, as a refresh's scope (check-ins count for
    their key results)."""
    since = run.started_at or run.queued_at
    touched = Q(last_synced_at__gte=since) | Q(archived_at__gte=since)
    scope: dict[str, set[int]] = {}
    for entity, model in (("task", Task), ("project", Project), ("key_result", KeyResult)):
        rows = model.objects.for_org(run.organization_id, include_archived=True).filter(
            touched, source_connection_id=run.connection_id
        )
        scope[entity] = set(rows.values_list("pk", flat=True))
    check_ins = CheckIn.objects.for_org(run.organization_id, include_archived=True).filter(
        touched, source_connection_id=run.connection_id, key_result__isnull=False
    )
    scope["key_result"] |= set(check_ins.values_list("key_result_id", flat=True))
    return scope


def _widened(organization: Organization, scope: dict[str, set[int]]) -> dict[str, set[int]]:
    """A task's change can make its project abandoned or not: the projects come along."""
    scope = {entity: set(ids) for entity, ids in scope.items()}
    if scope.get("task"):
        projects = Task.objects.for_org(organization, include_archived=True).filter(
            pk__in=scope["task"], project__isnull=False
        )
        scope.setdefault("project", set()).update(projects.values_list("project_id", flat=True))
    return scope


def _stored(organization: Organization, scope: dict[str, set[int]] | None) -> list[Finding]:
    unresolved = Finding.objects.for_org(organization).filter(resolved_at=None)
    if scope is None:
        return list(unresolved.select_for_update())
    keys = scope_keys(scope)
    found: list[Finding] = list(unresolved.filter(kind__in=scope_kinds(scope)).select_for_update())
    for start in range(0, len(keys), 500):
        found += unresolved.filter(key__in=keys[start : start + 500]).select_for_update()
    return found


CONTENT = ("kind", "severity", "records", "fields", "detail", "score", "fix", "fingerprint")


def _content(draft: Draft) -> dict:
    """What a stored finding holds of its draft (the fields compared, then written)."""
    return {
        "kind": draft.kind,
        "severity": KINDS[draft.kind].severity,
        "records": [ref.as_json() for ref in draft.records],
        "fields": draft.fields,
        "detail": draft.detail,
        "score": draft.score,
        "fix": draft.fix,
        "fingerprint": _fingerprint(draft),
    }


def _touch(organization: Organization, pks: list[int], now: datetime.datetime) -> None:
    """Move the last-seen time of findings seen again unchanged: one UPDATE per chunk."""
    findings = Finding.objects.for_org(organization)
    for start in range(0, len(pks), 5000):
        findings.filter(pk__in=pks[start : start + 5000]).update(last_seen_at=now)


def _snapshot(organization, ctx, now) -> HealthSnapshot:
    """The score and counts of what is open now (not "not a problem"), from the database: the
    same after a full computation as after a refresh of a few rows."""
    live = (
        Finding.objects.for_org(organization)
        .filter(resolved_at=None)
        .exclude(dismissed_at__isnull=False, fingerprint=F("dismissed_fingerprint"))
    )
    by_kind = dict(live.values_list("kind").annotate(n=Count("pk")).order_by())
    counts = {kind: n for kind, n in by_kind.items() if kind not in SIZED_KINDS}
    sized = live.filter(kind__in=SIZED_KINDS).values_list("kind", "records")
    sizes: dict[str, list[int]] = {}
    for kind, records in sized:
        sizes.setdefault(kind, []).append(len(records))
    counts.update({kind: affected(kind, record_counts) for kind, record_counts in sizes.items()})
    score = health_score(
        counts,
        populations(
            organization,
            current_key_results=current_key_results(ctx.unscoped).count(),
            fields=census_fields(ctx),
        ),
    )
    return HealthSnapshot.objects.create(
        organization=organization,
        computed_at=now,
        score=score,
        open_findings=sum(by_kind.values()),
        counts=dict(sorted(by_kind.items())),
    )


@transaction.atomic
def finding_dismiss(*, finding: Finding, actor: AbstractBaseUser | None) -> Finding:
    """ "Not a problem": hidden until the records it is about change."""
    finding.dismissed_at = timezone.now()
    finding.dismissed_by = actor if actor is not None and actor.is_authenticated else None
    finding.dismissed_fingerprint = finding.fingerprint
    finding.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_fingerprint"])
    _audit_finding(finding, actor, "dismissed", ["open", "not a problem"])
    return finding


@transaction.atomic
def finding_restore(*, finding: Finding, actor: AbstractBaseUser | None = None) -> Finding:
    """Undo "not a problem"."""
    was_dismissed = finding.dismissed_at is not None
    finding.dismissed_at = None
    finding.dismissed_by = None
    finding.dismissed_fingerprint = ""
    finding.save(update_fields=["dismissed_at", "dismissed_by", "dismissed_fingerprint"])
    if was_dismissed:
        _audit_finding(finding, actor, "restored", ["not a problem", "open"])
    return finding


def _audit_finding(finding: Finding, actor, action: str, status: list[str]) -> None:
    audit.record(
        organization_id=finding.organization_id,
        action=action,
        kind="finding",
        target_id=finding.pk,
        label=f"{finding.get_kind_display()}: {finding.detail}",
        changes={"status": status},
        actor=actor,
    )
