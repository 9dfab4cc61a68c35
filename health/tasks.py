"""Celery tasks: take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from health import digest, services
from orgs.models import Organization
from sync.models import RunKind, SyncRun

logger = logging.getLogger(__name__)


@shared_task(name="health.compute", acks_late=True)
def compute(organization_id: int, batch_id: int | None = None) -> None:
    """All the findings; with `batch_id` (a change-feed batch), only those about its rows."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("findings of a deleted organization %s not computed", organization_id)
        return
    scope = None
    if batch_id is not None:
        batch = SyncRun.objects.for_org(organization).filter(pk=batch_id).first()
        scope = services.batch_scope(batch) if batch is not None else None
    services.findings_compute(organization=organization, scope=scope)


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
