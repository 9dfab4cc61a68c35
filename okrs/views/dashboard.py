"""The dashboard: a cycle now or as of a past day, rendered once per plan version and
minute and shared by its viewers; open dashboards fetch its parts again on each change."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from missionos import events, plan_cache
from missionos.page_cache import plan_page
from okrs import selectors
from okrs.charts.pages import dashboard_progress_chart
from okrs.dashboard_cards import DashboardCard, dashboard_card, dashboard_cards
from okrs.views.params import plan_view
from orgs import selectors as org_selectors
from orgs.shortcuts import found_or_404


def org_home(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The dashboard, for a cycle (`?cycle=ID`, default the current one) and now or as it stood
    on a past day (`?as_of=YYYY-MM-DD`). Open dashboards fetch it again in parts when something
    changes: `?fragment=live` (the plan) and `?fragment=sync` (the last sync)."""
    fragment = request.GET.get("fragment")
    view = plan_view(request.GET)
    as_of, as_of_problem, cycle_id = view.as_of, view.as_of_problem, view.cycle_id
    context: dict = {
        # A past day does not change: no stream, no polling.
        "live_stream": events.live_updates_enabled(request) and as_of is None,
        "live_poll": as_of is None,
        "as_of_problem": as_of_problem,
        "view_query": view.query,
        "view_suffix": view.suffix,
    }

    def card_part(card: DashboardCard) -> str:
        # Each card with its own data: two cards never see each other's names.
        return _dashboard_parts(
            request,
            context,
            {card.name: card.template},
            variant=(as_of is None,),
            data=lambda: card.data(request.org),
        )[card.name]

    def cards_context() -> dict[str, list[str]]:
        return {"cards": [card_part(card) for card in dashboard_cards()]}

    def plan_parts() -> dict[str, str]:
        return _dashboard_parts(
            request,
            context,
            {"head": "okrs/home.html#head", "live": "okrs/home.html#live"},
            variant=(cycle_id, as_of),
            data=lambda: _plan_data(request, cycle_id=cycle_id, as_of=as_of),
        )

    if fragment == "live":
        return HttpResponse(plan_parts()["live"])
    if fragment and (card := dashboard_card(fragment)):
        return HttpResponse(card_part(card))
    if as_of_problem:  # shown once, for a date typed by hand: not worth a cache entry
        return render(request, "okrs/home.html", {**context, **cards_context(), **plan_parts()})
    return plan_page(
        request,
        "okrs/home.html",
        organization_id=request.org.pk,
        name="dashboard-page",
        viewer=org_selectors.header_key(user=request.user, membership=request.membership),
        variant=(_this_minute(), context["live_stream"], cycle_id, as_of),
        context=lambda: {**context, **cards_context(), **plan_parts()},
        timeout=selectors.DASHBOARD_CACHE_SECONDS,
    )


def _plan_data(request: HttpRequest, *, cycle_id: int | None, as_of) -> dict:
    """The plan's parts' data: the dashboard and the chart of each pathway's progress."""
    dashboard = found_or_404(
        lambda: selectors.cached_dashboard(organization=request.org, cycle_id=cycle_id, as_of=as_of)
    )
    chart = dashboard_progress_chart(
        organization=request.org, pathways=dashboard.pathways, cycle=dashboard.cycle, as_of=as_of
    )
    return {"dashboard": dashboard, "progress_chart": chart}


def _this_minute() -> str:
    """Part of the key of anything cached that shows the clock ("5 minutes ago", the share of
    the cycle gone): it is rendered again each minute."""
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def _dashboard_parts(
    request: HttpRequest,
    context: dict,
    parts: dict[str, str],
    *,
    variant: tuple,
    data: Callable[[], dict],
) -> dict[str, str]:
    """Parts of the dashboard (name: template), rendered from `data()` once per plan version
    (any plan or sync change retires them, missionos.plan_cache.plan_version) for each view of
    it (`variant`): every open dashboard refetches them on each change, and leadership mostly
    reads. They depend on the role (which links a member gets) and on the clock, so both are in
    the key too."""

    def render_parts() -> dict[str, str]:
        part_context = {**context, **data()}
        return {
            part: render_to_string(template, part_context, request)
            for part, template in parts.items()
        }

    return plan_cache.plan_cached(
        request.org.pk,
        "dashboard-html-" + "-".join(parts),
        (
            request.org.slug,
            request.membership.role,
            context["live_stream"],
            _this_minute(),
            *variant,
        ),
        render_parts,
        selectors.DASHBOARD_CACHE_SECONDS,
    )
