"""“My work”: a user's tasks and key results in every organization they belong to, and the
check-ins due from them; and their notification settings (the weekly check-in reminder)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from okrs import reminders, selectors
from okrs.forms import NotificationsForm
from orgs import selectors as org_selectors
from orgs import services as org_services
from orgs.shortcuts import found_or_404


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
    """Switch the weekly check-in reminder on or off, and set one's own check-in cadence in
    each organization where one has a directory entry (an admin sets anyone's on the person)."""
    enabled = reminders.reminders_enabled(user=request.user)
    people = list(org_selectors.own_people(user=request.user))
    # An unticked box sends nothing: an empty POST is still a submission (switching it off).
    data = request.POST if request.method == "POST" else None
    form = NotificationsForm(data, initial={"check_in_reminders": enabled}, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            changed = found_or_404(
                lambda: org_services.own_cadences_save(user=request.user, cadences=form.cadences())
            )
        except ValidationError as error:  # the entry itself no longer validates (its email)
            form.add_error(None, error)
        else:
            enabled = form.cleaned_data["check_in_reminders"]
            reminders.reminders_switch(user=request.user, enabled=enabled)
            messages.success(
                request,
                "Weekly check-in reminders are on."
                if enabled
                else "Weekly check-in reminders are off.",
            )
            for person in changed:
                messages.success(
                    request,
                    f"You now check in {person.get_check_in_cadence_display().lower()} "
                    f"in {person.organization.name}.",
                )
            return redirect("notifications")
    # Organizations where the user has no directory entry: no cadence of theirs to set.
    linked = {person.organization_id for person in people}
    unlinked = [
        m.organization
        for m in org_selectors.memberships_of(user=request.user)
        if m.organization_id not in linked
    ]
    context = {"form": form, "enabled": enabled, "unlinked": unlinked}
    return render(request, "okrs/notifications.html", context, status=400 if form.errors else 200)


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
