"""Writes for a connection's periodic syncs: an incremental one every so often, a full one nightly.

The schedules are django-celery-beat periodic tasks named `sync:<connection id>:<kind>`, which
call the `sync.scheduled_sync` task.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from sync.models import Connection, RunKind
from sync.services.auditing import audit_connection

DEFAULT_INCREMENTAL_MINUTES = 60
DEFAULT_FULL_HOUR = 2  # 02:00 UTC, nightly, plus the connection's own minute


def full_sync_minute(connection: Connection) -> int:
    """The minute past its hour a connection's nightly full sync starts, from its id: the
    bases of a fleet that keep the default hour start over the hour, not all at 02:00 (where
    they would wait behind each other for the workers)."""
    return connection.pk % 60


def _schedule_name(connection: Connection, kind: RunKind) -> str:
    return f"sync:{connection.pk}:{kind}"


def connection_schedule(
    *,
    connection: Connection,
    incremental_every_minutes: int | None = DEFAULT_INCREMENTAL_MINUTES,
    full_at_hour: int | None = DEFAULT_FULL_HOUR,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Change the connection's two periodic syncs (None switches one off), in the audit log."""
    before = connection_schedule_state(connection=connection)
    with transaction.atomic():
        schedule_set(
            connection=connection,
            incremental_every_minutes=incremental_every_minutes,
            full_at_hour=full_at_hour,
        )
        after = connection_schedule_state(connection=connection)
        changes = {
            name: [before[name], after[name]] for name in after if before[name] != after[name]
        }
        if changes:
            audit_connection(connection, actor, "changed schedule", changes)


def schedule_set(
    *,
    connection: Connection,
    incremental_every_minutes: int | None = DEFAULT_INCREMENTAL_MINUTES,
    full_at_hour: int | None = DEFAULT_FULL_HOUR,
) -> None:
    """Create or change the connection's two periodic syncs (None switches one off)."""
    if incremental_every_minutes is not None and not 5 <= incremental_every_minutes <= 1440:
        raise ValidationError(
            {"incremental_every_minutes": "Choose between 5 minutes and 1,440 (a day)."}
        )
    if full_at_hour is not None and not 0 <= full_at_hour <= 23:
        raise ValidationError({"full_at_hour": "Choose an hour from 0 to 23 (UTC)."})
    with transaction.atomic():
        for kind, enabled in (
            (RunKind.INCREMENTAL, incremental_every_minutes is not None),
            (RunKind.FULL, full_at_hour is not None),
        ):
            defaults = {
                "task": "sync.scheduled_sync",
                "kwargs": f'{{"connection_id": {connection.pk}, "kind": "{kind}"}}',
                "enabled": enabled,
                "interval": None,
                "crontab": None,
            }
            if kind == RunKind.INCREMENTAL and enabled:
                defaults["interval"] = _shared_schedule(
                    IntervalSchedule,
                    every=incremental_every_minutes,
                    period=IntervalSchedule.MINUTES,
                )
            elif kind == RunKind.FULL and enabled:
                defaults["crontab"] = _shared_schedule(
                    CrontabSchedule,
                    minute=str(full_sync_minute(connection)),
                    hour=str(full_at_hour),
                    day_of_week="*",
                    day_of_month="*",
                    month_of_year="*",
                    timezone="UTC",
                )
            existing = PeriodicTask.objects.filter(name=_schedule_name(connection, kind)).first()
            if not enabled and existing is None:
                continue
            if not enabled:
                existing.enabled = False
                existing.save(update_fields=["enabled"])
                continue
            PeriodicTask.objects.update_or_create(
                name=_schedule_name(connection, kind), defaults=defaults
            )


def _shared_schedule(model, **fields):
    """The schedule row every connection with these settings shares. django-celery-beat's
    tables have no unique constraint, so two connections saved at the same moment can both
    create one (bench/fleet.py did, connecting four bases at a time): take the oldest of
    those rather than fail every later connect on get_or_create's MultipleObjectsReturned."""
    found = model.objects.filter(**fields).order_by("pk").first()
    return found or model.objects.create(**fields)


def connection_schedule_state(*, connection: Connection) -> dict:
    """The connection's schedules as the connection page's form shows them."""
    tasks = {
        task.name: task
        for task in PeriodicTask.objects.select_related("interval", "crontab").filter(
            name__startswith=f"sync:{connection.pk}:"
        )
    }
    incremental = tasks.get(_schedule_name(connection, RunKind.INCREMENTAL))
    full = tasks.get(_schedule_name(connection, RunKind.FULL))
    return {
        "incremental_every_minutes": incremental.interval.every
        if incremental and incremental.enabled and incremental.interval
        else None,
        "full_at_hour": int(full.crontab.hour) if full and full.enabled and full.crontab else None,
    }
