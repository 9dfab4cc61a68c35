"""Celery tasks: take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from health import digest, services
from okrs.models import CheckIn
from orgs.models import Organization, OrgOwned
from sync.models import RunKind, SyncRun
from sync.reconcile.adapters import model_entity

logger = logging.getLogger(__name__)


@shared_task(name="health.compute", acks_late=True)
def compute(
    organization_id: int, batch_id: int | None = None, rows: dict[str, list[int]] | None = None
) -> None:
    """All the findings; only those about a change-feed batch's rows (`batch_id`), or about
    rows written in MissionOS (`rows`: entity -> ids)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("findings of a deleted organization %s not computed", organization_id)
        return
    scope = None
    if batch_id is not None:
        batch = SyncRun.objects.for_org(organization).filter(pk=batch_id).first()
        scope = services.batch_scope(batch) if batch is not None else None
    elif rows is not None:
        scope = {entity: set(ids) for entity, ids in rows.items()}
    services.findings_compute(organization=organization, scope=scope)


class _RowsWritten:
    """The rows one transaction wrote, per organization: queued as one refresh each when it
    commits (a bulk reassignment of 500 tasks is one task, not 500). Registered with
    on_commit, so a rollback drops it with everything it collected."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, set[int]]] = {}

    def add(self, organization_id: int, entity: str, pk: int) -> None:
        self.rows.setdefault(organization_id, {}).setdefault(entity, set()).add(pk)

    def __call__(self) -> None:
        for organization_id, rows in self.rows.items():
            compute.delay(organization_id, rows={e: sorted(ids) for e, ids in rows.items()})


def refresh_after_write(*, record: OrgOwned, actor=None) -> None:
    """orgs.changes listener: a row written in MissionOS (a task reassigned on its form, a
    check-in) refreshes the findings about it, once its transaction commits."""
    entity, pk = _scope_of(record)
    if entity is None:
        return
    connection = transaction.get_connection()
    pending = next(
        (func for _, func, *_ in connection.run_on_commit if isinstance(func, _RowsWritten)),
        None,
    )
    if pending is None or not connection.in_atomic_block:
        pending = _RowsWritten()
        transaction.on_commit(pending)
    pending.add(record.organization_id, entity, pk)


def _scope_of(record: OrgOwned) -> tuple[str | None, int]:
    """What a refresh looks at for a written row: tasks, projects and key results themselves;
    a check-in's key result. (Who left, or a title, waits for the next full computation.)"""
    entity = model_entity(type(record))
    if entity in ("task", "project", "key_result"):
        return entity, record.pk
    if isinstance(record, CheckIn) and record.key_result_id:
        return "key_result", record.key_result_id
    return None, 0


def recompute_after_run(run: SyncRun) -> None:
    """After a sync run (every finding) or a change-feed batch (those about its few rows)
    ends, once that is committed."""
    organization_id = run.organization_id
    batch_id = run.pk if run.kind == RunKind.CHANGES else None
    transaction.on_commit(lambda: compute.delay(organization_id, batch_id))


@shared_task(name="health.send_digests")
def send_digests() -> None:
    """Beat, weekly: each organization's data health email to its admins."""
    for organization in Organization.objects.order_by("pk"):
        digest.digest_send(organization=organization)
