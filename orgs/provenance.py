"""Where a synced record comes from, asked of whichever app syncs it.

Every plan row carries its provenance (orgs.models.OrgOwned: source table, record id and
connection), but what a connection is belongs to the sync app above. The sync registers the
function that turns provenance into a `record.source` the pages show ("From Airtable": base,
table, record link); without one, no record has a source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from orgs.models import Organization, OrgOwned

SourceResolver = Callable[..., None]  # (*, organization, records: list[OrgOwned]) -> None

_resolver: SourceResolver | None = None


def register_source_resolver(resolver: SourceResolver) -> None:
    """Called from the sync app's ready(): it sets `record.source` on each record given."""
    global _resolver
    if _resolver is not None and _resolver is not resolver:
        raise ValueError("a record source resolver is already registered")
    _resolver = resolver


def attach_sources(*, organization: Organization, records: Iterable[OrgOwned]) -> None:
    """Set `record.source` on each record (None for records made in MissionOS)."""
    records = list(records)
    if _resolver is None:
        for record in records:
            record.source = None
        return
    _resolver(organization=organization, records=records)
