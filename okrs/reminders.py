"""The weekly check-in reminder: one email per person, listing the check-ins due from them in
every organization they belong to (okrs.selectors.check_ins_due), each with a one-click link
to its check-in form; sent once a week at most (a second run of beat in the same week sends
nothing: CheckInReminderSent), never to someone who switched it off (CheckInReminderOptOut),
and carrying a signed unsubscribe link that works without signing in."""

from __future__ import annotations

import datetime
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from okrs import cadence, selectors
from okrs.models import CheckInReminderOptOut, CheckInReminderSent, KeyResult
from orgs.models import Person

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "okrs.check-in-reminders.unsubscribe"


def unsubscribe_token(user: AbstractBaseUser) -> str:
    return signing.dumps({"user": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_user(token: str) -> AbstractBaseUser:
    """The user a signed unsubscribe token names. Raises signing.BadSignature when it was
    tampered with (or names no user)."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    user = get_user_model().objects.filter(pk=data.get("user")).first()
    if user is None:
        raise signing.BadSignature("No such user.")
    return user


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def reminders_enabled(*, user: AbstractBaseUser) -> bool:
    return not CheckInReminderOptOut.objects.filter(user=user).exists()


def reminders_switch(*, user: AbstractBaseUser, enabled: bool) -> None:
    """Switch the user's weekly check-in reminder on or off (idempotent either way)."""
    if enabled:
        CheckInReminderOptOut.objects.filter(user=user).delete()
    else:
        CheckInReminderOptOut.objects.get_or_create(user=user)


def reminder_send(*, user: AbstractBaseUser, today: datetime.date) -> int:
    """This week's reminder to one user. -> 1 if sent; 0 when nothing is due, they switched
    it off, have no address, or it has already gone out this week."""
    if not user.is_active or not user.email or not reminders_enabled(user=user):
        return 0
    week = cadence.week_of(today)
    if CheckInReminderSent.objects.filter(user=user, week_of=week).exists():
        return 0
    due = selectors.check_ins_due(user=user, today=today)
    if not due:
        return 0
    try:
        with transaction.atomic():
            # The row first, so that two runs at once cannot both send; a failed send rolls
            # it back, and the next run tries again.
            CheckInReminderSent.objects.create(user=user, week_of=week, due_count=len(due))
            _send(user=user, due=due, today=today)
    except IntegrityError:
        return 0
    return 1


def _send(*, user: AbstractBaseUser, due: list, today: datetime.date) -> None:
    query = urlencode({"t": unsubscribe_token(user)})
    context = {
        "user": user,
        "due": [(item, _absolute(item.path)) for item in due],
        "today": today,
        "my_work_url": _absolute(reverse("my_work")),
        "settings_url": _absolute(reverse("notifications")),
        "unsubscribe_url": _absolute(f"{reverse('reminder_unsubscribe')}?{query}"),
    }
    count = len(due)
    subject = f"{count} check-in{'s' if count != 1 else ''} due this week"
    message = EmailMultiAlternatives(
        subject,
        render_to_string("okrs/reminder_email.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("okrs/reminder_email.html", context), "text/html")
    message.send()


def reminders_send_all(*, today: datetime.date | None = None) -> int:
    """Beat, weekly: the reminder to everyone who owns a key result. -> how many were sent."""
    today = today or timezone.localdate()
    owners = (
        Person.objects.unscoped()
        .filter(
            user__isnull=False,
            departed_on__isnull=True,
            pk__in=KeyResult.objects.unscoped().values("owner_id"),
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    users = get_user_model().objects.filter(pk__in=list(owners)).order_by("pk")
    sent = 0
    for user in users:
        try:
            sent += reminder_send(user=user, today=today)
        except Exception:  # one bad address must not stop everyone else's
            logger.exception("check-in reminder to user %s failed", user.pk)
    return sent
