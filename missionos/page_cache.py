"""Whole pages cached from an organization's plan: rendered once per plan version, viewer
and variant, with a fresh CSRF token in each response.

The token's place in the cached text is marked by a hole made afresh for each rendering and
kept beside the text: a fixed marker could be typed into a title by anyone, and would then be
shown as the viewer's token. A random one is never sent out, so no one can type it."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string

from missionos.plan_cache import plan_cached


def _csrf_hole() -> str:
    """Stands in for the CSRF token in one cached rendering (letters and digits only, so
    escaping leaves it whole)."""
    return f"csrfhole{secrets.token_hex(16)}"


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

    def holed_rendering() -> tuple[str, str]:
        hole = _csrf_hole()
        return hole, render_to_string(template_name, {**context(), "csrf_token": hole}, request)

    hole, html = plan_cached(
        organization_id,
        name,
        # "holed": entries of the earlier fixed-marker format are never read as this one
        (request.resolver_match.view_name, "holed", *viewer, *variant),
        holed_rendering,
        timeout,
    )
    return HttpResponse(html.replace(hole, get_token(request)))
