"""Reads for the data health page, its dashboard card and the command."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from health.kinds import KINDS, Kind, Severity
from health.models import Finding, FindingStatus, HealthAction, HealthSnapshot
from orgs.models import Organization, Person

TREND_POINTS = 60
# Findings shown per kind on the unfiltered page; the kind's own page shows them all.
SHOWN_PER_KIND = 8


def latest_snapshot(organization: Organization) -> HealthSnapshot | None:
    return HealthSnapshot.objects.for_org(organization).first()


def trend(organization: Organization, *, points: int = TREND_POINTS) -> list[HealthSnapshot]:
    """The latest computations' scores, oldest first."""
    latest = HealthSnapshot.objects.for_org(organization).order_by("-computed_at", "-pk")
    return list(reversed(latest[:points]))


def unresolved_findings(organization: Organization) -> QuerySet[Finding]:
    return Finding.objects.for_org(organization).filter(resolved_at=None)


@dataclass
class KindGroup:
    kind: Kind
    severity: Severity
    findings: list[Finding] = field(default_factory=list)
    limit: int | None = SHOWN_PER_KIND

    @property
    def shown(self) -> list[Finding]:
        return self.findings[: self.limit] if self.limit else self.findings

    @property
    def more(self) -> int:
        return self.count - len(self.shown)

    @property
    def label(self) -> str:
        return self.kind.label

    @property
    def reassignments(self) -> list[dict]:
        """The people who left whose open tasks this group lists: {person, name, tasks}."""
        people: dict[int, dict] = {}
        for finding in self.findings:
            fix = finding.fix or {}
            if fix.get("action") == "reassign_tasks":
                entry = people.setdefault(
                    fix["person"], {"person": fix["person"], "name": fix["person_name"], "tasks": 0}
                )
                entry["tasks"] += 1
        return sorted(people.values(), key=lambda entry: (-entry["tasks"], entry["name"]))

    @property
    def count(self) -> int:
        return len(self.findings)


@dataclass
class HealthPage:
    snapshot: HealthSnapshot | None
    trend: list[HealthSnapshot]
    groups: list[KindGroup]  # the kinds with findings shown, gravest first
    counts: dict[str, int]  # kind -> open findings, whatever the filters
    dismissed: int
    status: str
    kind: str
    severity: str
    recent_fixes: list[HealthAction]
    people: list[Person]  # who can take tasks over: those who have not left


RECENT_FIXES = 10
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def health_page(
    organization: Organization, *, status: str = "open", kind: str = "", severity: str = ""
) -> HealthPage:
    """The page's findings, filtered by status (open, or "not a problem"), kind and severity,
    grouped by kind, with the recent fixes. A fixed number of queries whatever the number of
    findings."""
    findings = list(unresolved_findings(organization).order_by("kind", "-score", "pk"))
    counts: dict[str, int] = {}
    dismissed = 0
    shown: dict[str, KindGroup] = {}
    for finding in findings:
        if finding.status == FindingStatus.DISMISSED:
            dismissed += 1
            if status != FindingStatus.DISMISSED:
                continue
        else:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
            if status == FindingStatus.DISMISSED:
                continue
        if (kind and finding.kind != kind) or (severity and finding.severity != severity):
            continue
        group = shown.get(finding.kind)
        if group is None:
            kind_enum = Kind(finding.kind)
            group = shown[finding.kind] = KindGroup(
                kind_enum, KINDS[kind_enum].severity, limit=None if kind else SHOWN_PER_KIND
            )
        group.findings.append(finding)
    groups = sorted(
        shown.values(), key=lambda g: (SEVERITY_ORDER[g.severity], -g.count, g.kind.label)
    )
    return HealthPage(
        snapshot=latest_snapshot(organization),
        trend=trend(organization),
        groups=groups,
        counts=counts,
        dismissed=dismissed,
        status=status,
        kind=kind,
        severity=severity,
        recent_fixes=list(
            HealthAction.objects.for_org(organization).select_related("actor")[:RECENT_FIXES]
        ),
        people=list(Person.objects.for_org(organization).filter(departed_on=None).order_by("name")),
    )


def findings_as_json(organization: Organization) -> list[dict]:
    """Every unresolved finding in the command's JSON shape."""
    rows = []
    for finding in unresolved_findings(organization).order_by("kind", "-score", "pk"):
        rows.append(
            {
                "kind": finding.kind,
                "severity": finding.severity,
                "records": [
                    {"model": r["model"], "id": r["id"], "airtable": r.get("airtable")}
                    for r in finding.records
                ],
                "fields": [{"table": f["table"], "field": f["field"]} for f in finding.fields],
                "score": finding.score,
                "detail": finding.detail,
                "first_seen": finding.first_seen_at.isoformat(),
                "status": finding.status.value,
            }
        )
    return rows
