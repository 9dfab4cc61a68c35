"""Reads for the data health page, its dashboard card and the command."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

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
    findings: list[Finding] = field(default_factory=list)  # the first `limit` (all: None)
    limit: int | None = SHOWN_PER_KIND
    count: int = 0  # the kind's findings under the page's filters, shown or not
    # The people who left whose open tasks this group lists: {person, name, tasks}.
    reassignments: list[dict] = field(default_factory=list)

    @property
    def shown(self) -> list[Finding]:
        return self.findings[: self.limit] if self.limit else self.findings

    @property
    def more(self) -> int:
        return self.count - len(self.shown)

    @property
    def label(self) -> str:
        return self.kind.label


# "Not a problem" and the records unchanged since (Finding.status, in SQL).
DISMISSED_Q = Q(dismissed_at__isnull=False, dismissed_fingerprint=F("fingerprint"))


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


def first_of_each_kind(
    findings: QuerySet[Finding], limit: int = SHOWN_PER_KIND
) -> QuerySet[Finding]:
    """`findings` by kind, best score first, the first `limit` of each kind: one query.

    On Postgres, one `LIMIT` per kind in a UNION ALL, each read in order from the index of
    unresolved findings by kind and score (`finding_open_by_kind_score`): a few rows each,
    however many findings there are. A window over them all sorted every open finding (10,953
    at 100x the demo, spilling to disk: 16 of the page's 31 ms of SQL). SQLite allows no
    LIMIT inside a UNION, so there the window ranks them."""
    if connection.vendor == "postgresql":
        first = [findings.filter(kind=kind).order_by("-score", "pk")[:limit] for kind in Kind]
        return first[0].union(*first[1:], all=True).order_by("kind", "-score", "pk")
    return (
        findings.order_by("kind", "-score", "pk")
        .annotate(
            place=Window(
                RowNumber(), partition_by=[F("kind")], order_by=[F("score").desc(), F("pk")]
            )
        )
        .filter(place__lte=limit)
    )


RECENT_FIXES = 10
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


def health_page(
    organization: Organization, *, status: str = "open", kind: str = "", severity: str = ""
) -> HealthPage:
    """The page's findings, filtered by status (open, or "not a problem"), kind and severity,
    grouped by kind, with the recent fixes. A fixed number of queries whatever the number of
    findings."""
    unresolved = unresolved_findings(organization)
    # Counted in the database and only the rows shown read: an old base has tens of thousands
    # of findings (most of them past-due tasks), and the page shows 8 of each kind.
    counts: dict[str, int] = {}
    dismissed = 0
    listed_dismissed = status == FindingStatus.DISMISSED
    group_sizes: dict[str, int] = {}  # each kind's findings under the page's filters
    for row in (
        unresolved.order_by()
        .values("kind", "severity")
        .annotate(open=Count("pk", filter=~DISMISSED_Q), dismissed=Count("pk", filter=DISMISSED_Q))
    ):
        if row["open"]:
            counts[row["kind"]] = counts.get(row["kind"], 0) + row["open"]
        dismissed += row["dismissed"]
        if (not kind or row["kind"] == kind) and (not severity or row["severity"] == severity):
            size = row["dismissed"] if listed_dismissed else row["open"]
            group_sizes[row["kind"]] = group_sizes.get(row["kind"], 0) + size
    listed = unresolved.filter(DISMISSED_Q if listed_dismissed else ~DISMISSED_Q)
    if severity:
        listed = listed.filter(severity=severity)
    rows = (
        listed.filter(kind=kind).order_by("kind", "-score", "pk")
        if kind
        else first_of_each_kind(listed)
    )
    shown: dict[str, KindGroup] = {}
    for finding in rows:
        group = shown.get(finding.kind)
        if group is None:
            kind_enum = Kind(finding.kind)
            group = shown[finding.kind] = KindGroup(
                kind_enum,
                KINDS[kind_enum].severity,
                limit=None if kind else SHOWN_PER_KIND,
                count=group_sizes.get(finding.kind, 0),
            )
        group.findings.append(finding)
    departed = shown.get(Kind.TASK_DEPARTED_ASSIGNEE)
    if departed is not None:
        departed.reassignments = sorted(
            (
                {"person": row["person"], "name": row["name"], "tasks": row["tasks"]}
                for row in listed.filter(
                    kind=Kind.TASK_DEPARTED_ASSIGNEE, fix__action="reassign_tasks"
                )
                .order_by()
                .values(person=F("fix__person"), name=F("fix__person_name"))
                .annotate(tasks=Count("pk"))
            ),
            key=lambda entry: (-entry["tasks"], entry["name"]),
        )
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
