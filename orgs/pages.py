"""Page flows shared by the apps: the one create/edit flow every record form uses, and whole
pages cached from the organization's plan."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from orgs import events
from orgs.selectors import memberships_of

# Stands in for the CSRF token in a cached page; each response gets its own token in its place.
CSRF_TOKEN_HOLE = "missionos-csrf-token-hole"


def form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    save: Callable[[forms.BaseForm], object],
    success_url: Callable[[object], str],
    title: str,
    cancel_url: str,
    saved_message: str,
) -> HttpResponse:
    """GET shows the form; a valid POST saves through `save` and redirects; an invalid one
    re-renders with the errors beside their fields (status 400) and saves nothing."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, saved_message)
            return redirect(success_url(saved))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": title, "cancel_url": cancel_url}
    return render(request, "form_page.html", context, status=status)


def plan_page(
    request: HttpRequest,
    template_name: str,
    *,
    name: str,
    variant: tuple,
    context: Callable[[], dict],
    timeout: int,
) -> HttpResponse:
    """A page of the request's organization rendered once per plan version for each viewer and
    `variant` (everything else the page depends on), for pages read far more often than the
    plan changes. Membership and login were checked as for any page; only the rendering is
    reused. The key holds all the header shows of the viewer, and the CSRF token, the one
    per-request value, is put into the cached text on each response. A page with flash
    messages to show is rendered afresh (showing them uses them up)."""
    if len(get_messages(request)):
        return render(request, template_name, context())
    viewer = (
        request.user.pk,
        request.user.get_username(),
        request.user.is_staff,
        request.membership.role,
        request.resolver_match.view_name,
        tuple(
            (m.organization.slug, m.organization.name) for m in memberships_of(user=request.user)
        ),
    )
    html = events.plan_cached(
        request.org.pk,
        name,
        (*viewer, *variant),
        lambda: render_to_string(
            template_name, {**context(), "csrf_token": CSRF_TOKEN_HOLE}, request
        ),
        timeout,
    )
    return HttpResponse(html.replace(CSRF_TOKEN_HOLE, get_token(request)))
