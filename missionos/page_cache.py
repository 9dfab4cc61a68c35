"""Whole pages cached from an organization's plan: rendered once per plan version, viewer
and variant, with a fresh CSRF token in each response."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from missionos.plan_cache import plan_cached

# Stands in for the CSRF token in a cached page; each response gets its own token in its place.
CSRF_TOKEN_HOLE = "missionos-csrf-token-hole"


def plan_page(
    request: HttpRequest,
    template_name: str,
    *,
    organization_id: int,
    name: str,
    viewer: tuple,
    variant: tuple,
    context: Callable[[], dict],
    timeout: int,
) -> HttpResponse:
    """A page of an organization rendered once per plan version for each `viewer` (all that
    the page's header shows of who is looking: orgs.selectors.header_key) and `variant`
    (everything else the page depends on), for pages read far more often than the plan
    changes. Login and membership were checked as for any page; only the rendering is reused.
    The CSRF token, the one per-request value, is put into the cached text on each response. A
    page with flash messages to show is rendered afresh (showing them uses them up)."""
    if len(get_messages(request)):
        return render(request, template_name, context())
    html = plan_cached(
        organization_id,
        name,
        (request.resolver_match.view_name, *viewer, *variant),
        lambda: render_to_string(
            template_name, {**context(), "csrf_token": CSRF_TOKEN_HOLE}, request
        ),
        timeout,
    )
    return HttpResponse(html.replace(CSRF_TOKEN_HOLE, get_token(request)))
