"""Celery tasks of the OKRs app: thin, each calls one service."""

from __future__ import annotations

from celery import shared_task

from okrs import reminders


@shared_task(name="okrs.send_check_in_reminders")
def send_check_in_reminders() -> int:
    """Beat, weekly: each person's email of the check-ins due from them."""
    return reminders.reminders_send_all()
