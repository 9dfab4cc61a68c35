"""The Archive page and the archive confirmation: what was archived in MissionOS, by kind."""

from __future__ import annotations

from collections import Counter

from okrs import lifecycle
from orgs.models import ARCHIVED_HERE, ARCHIVED_WITH, DELETE_IN_AIRTABLE, Organization, OrgOwned

ARCHIVE_SHOWN_PER_KIND = 100


def archived_records(*, organization: Organization) -> list[dict]:
    """Per kind (in okrs.lifecycle.KINDS' order): the records archived here on their own,
    newest first, each with `archived_with` (what went with it, counted: "3 key results").
    Rows archived with a parent come back with it and are not listed; rows the sync archived
    (gone from Airtable) and deleted ones are not this page's; those archived here and then
    deleted in Airtable are (`deleted_in_airtable`: restoring makes them anew there). One
    query a kind, and one a kind of contents."""
    groups = []
    for kind in lifecycle.KINDS.values():
        rows = (
            kind.model.objects.for_org(organization, include_archived=True)
            .filter(archived_at__isnull=False, source_extra__has_key=ARCHIVED_HERE)
            .exclude(source_extra__has_key=DELETE_IN_AIRTABLE)
        )
        top = list(
            rows.exclude(source_extra__has_key=ARCHIVED_WITH).order_by("-archived_at", "-pk")[
                :ARCHIVE_SHOWN_PER_KIND
            ]
        )
        for record in top:
            record.deleted_in_airtable = lifecycle.deleted_in_airtable(record)
        groups.append({"kind": kind, "records": top})
    _attach_with(organization, groups)
    return [group for group in groups if group["records"]]


def _attach_with(organization: Organization, groups: list[dict]) -> None:
    """Each listed record's `archived_with`: what was archived together with it, counted."""
    marks = {
        lifecycle.archive_mark(record): record for group in groups for record in group["records"]
    }
    counts: dict[str, Counter] = {mark: Counter() for mark in marks}
    if marks:
        for kind in lifecycle.content_kinds():
            rows = kind.model.objects.for_org(organization, include_archived=True).filter(
                archived_at__isnull=False, **{f"source_extra__{ARCHIVED_WITH}__in": list(marks)}
            )
            for extra in rows.values_list("source_extra", flat=True):
                mark = (extra or {}).get(ARCHIVED_WITH)
                if mark in counts:
                    counts[mark][kind.name] += 1
    for mark, record in marks.items():
        record.archived_with = [
            _count(name, n) for name, n in sorted(counts[mark].items(), key=_kind_order)
        ]


def archive_contents_summary(*, record: OrgOwned) -> list[str]:
    """What archiving `record` takes with it, for the confirmation: ["2 objectives", …]."""
    counted = Counter(lifecycle.kind_of(child).name for child in lifecycle.contents(record))
    return [_count(name, n) for name, n in sorted(counted.items(), key=_kind_order)]


def _kind_order(item: tuple[str, int]) -> int:
    return list(lifecycle.KINDS).index(item[0])


def _count(name: str, n: int) -> str:
    kind = lifecycle.KINDS[name]
    return f"{n} {kind.label.lower() if n == 1 else kind.plural.lower()}"
