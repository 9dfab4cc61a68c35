"""“My work”: a user's tasks and key results in every organization they belong to, and the
check-ins due from them; and their notification settings (the weekly check-in reminder)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from okrs import reminders, selectors
from okrs.forms import NotificationsForm


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    groups = selectors.my_work(user=request.user)
    context = {
        "groups": groups,
        "due": [item for group in groups for item in group.check_ins_due],
        "reminders_on": reminders.reminders_enabled(user=request.user),
        "mentions": selectors.my_mentions(user=request.user),
        "today": timezone.localdate(),
    }
    return render(request, "okrs/my_work.html", context)


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """Switch the weekly check-in reminder on or off."""
    enabled = reminders.reminders_enabled(user=request.user)
    # An unticked box sends nothing: an empty POST is still a submission (switching it off).
    data = request.POST if request.method == "POST" else None
    form = NotificationsForm(data, initial={"check_in_reminders": enabled})
    if request.method == "POST" and form.is_valid():
        enabled = form.cleaned_data["check_in_reminders"]
        reminders.reminders_switch(user=request.user, enabled=enabled)
        messages.success(
            request,
            "Weekly check-in reminders are on."
            if enabled
            else "Weekly check-in reminders are off.",
        )
        return redirect("notifications")
    return render(request, "okrs/notifications.html", {"form": form, "enabled": enabled})


@csrf_exempt  # a link (GET) or a mail client's one-click POST (RFC 8058): no form, no session
def reminder_unsubscribe(request: HttpRequest) -> HttpResponse:
    """The unsubscribe link of the reminder email: signed, one click, no login needed."""
    try:
        user = reminders.unsubscribe_user(request.GET.get("t", ""))
    except signing.BadSignature:
        context = {"done": False}
        return render(request, "okrs/reminder_unsubscribe.html", context, status=400)
    reminders.reminders_switch(user=user, enabled=False)
    return render(request, "okrs/reminder_unsubscribe.html", {"done": True})
