"""Celery tasks: take ids, call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from health import services
from orgs.models import Organization
from sync.models import SyncRun

logger = logging.getLogger(__name__)


@shared_task(name="health.compute", acks_late=True)
def compute(organization_id: int) -> None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        logger.info("findings of a deleted organization %s not computed", organization_id)
        return
    services.findings_compute(organization=organization)


def recompute_after_run(run: SyncRun) -> None:
    """After a sync run or a change-feed batch ends: the findings, once it is committed."""
    organization_id = run.organization_id
    transaction.on_commit(lambda: compute.delay(organization_id))
