"""The sync's entries in the organization's audit log (orgs.audit): about a connection, and
about what a run pulled from Airtable. Never the token, nor any part of it."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from orgs import audit
from sync.models import Connection, RunStatus, SyncRun

TOKEN_SHOWN = "set (not shown)"
AIRTABLE = "Airtable"  # who the log names for what the sync pulled


def audit_connection(
    connection: Connection, actor: AbstractBaseUser | None, action: str, changes: dict
) -> None:
    audit.record(
        organization_id=connection.organization_id,
        action=action,
        kind="connection",
        target_id=connection.pk,
        label=str(connection),
        changes=changes,
        actor=actor,
    )


def audit_run_pulled(run: SyncRun) -> None:
    """One entry for what a run (or change-feed batch) that succeeded wrote from Airtable:
    the counts, attributed to Airtable, not a line per record (its page lists them)."""
    counts = {
        "created": run.created,
        "updated": run.updated,
        "archived": run.archived,
        "unarchived": run.unarchived,
    }
    if run.status != RunStatus.SUCCEEDED or not any(counts.values()):
        return
    audit.record(
        organization_id=run.organization_id,
        action="synced",
        kind="sync_run",
        target_id=run.pk,
        label=f"{run.get_kind_display()} sync of {run.connection.name}",
        changes={f"records {what}": [None, count] for what, count in counts.items() if count},
        actor_label=AIRTABLE,
    )
