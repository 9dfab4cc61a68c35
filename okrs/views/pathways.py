"""A pathway's page: its objectives, projects and progress over time."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from okrs import selectors
from okrs.charts.pages import (
    pathway_progress_chart,
)
from okrs.views import list_filters
from okrs.views.params import plan_view
from orgs import provenance
from orgs.shortcuts import found_or_404


def pathway_detail(request: HttpRequest, org_slug: str, pathway_id: int) -> HttpResponse:
    """The pathway in the dashboard's cycle and day (`?cycle=ID&as_of=YYYY-MM-DD`)."""
    view = plan_view(request.GET)
    context = found_or_404(
        lambda: selectors.pathway_page(
            organization=request.org,
            pathway_id=pathway_id,
            cycle_id=view.cycle_id,
            as_of=view.as_of,
        )
    )
    context["view"] = view
    # The lists and downloads of the pathway's objectives in the cycle this page shows.
    cycle = context["cycle"]
    context["list_query"] = urlencode(
        {"pathway": pathway_id, "cycle": cycle.pk if cycle else list_filters.ALL_CYCLES}
    )
    context["progress_chart"] = pathway_progress_chart(
        organization=request.org, pathway=context["pathway"], cycle=context["cycle"]
    )
    provenance.attach_sources(organization=request.org, records=[context["pathway"]])
    return render(request, "okrs/pathway_detail.html", context)
