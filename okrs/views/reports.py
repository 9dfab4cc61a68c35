"""The board reports: the dashboard and an objective as one printed page, in PDF (WeasyPrint,
through missionos.pdf), with their charts. The same filters as the pages: the dashboard's
`?cycle=` and `?as_of=`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from missionos import pdf
from okrs import selectors
from okrs.charts.pages import dashboard_progress_chart, objective_progress_chart
from okrs.charts.printed import printed
from okrs.views.params import int_or_none, past_date
from orgs.shortcuts import found_or_404

# Read from disk by WeasyPrint: the report's page layout (its charts carry their own colours).
REPORT_STYLES = ("css/report.css",)
# The chart's width in CSS pixels: half of an A4 landscape page, less the margins and the gap.
CHART_WIDTH = 480


def dashboard_report_html(request: HttpRequest) -> str:
    """The HTML the dashboard's PDF is made from (`?cycle=`, `?as_of=` as on the dashboard)."""
    as_of, _ = past_date(request.GET.get("as_of"))
    cycle_id = request.GET.get("cycle") or None
    if cycle_id is not None and int_or_none(cycle_id) is None:
        raise Http404("No such cycle.")
    dashboard = found_or_404(
        lambda: selectors.cached_dashboard(
            organization=request.org, cycle_id=int_or_none(cycle_id), as_of=as_of
        )
    )
    chart = dashboard_progress_chart(
        organization=request.org, pathways=dashboard.pathways, cycle=dashboard.cycle, as_of=as_of
    )
    context = {
        "dashboard": dashboard,
        "progress_chart": chart and printed(chart, width=CHART_WIDTH),
        "printed_at": timezone.now(),
    }
    return render_to_string("okrs/report_dashboard.html", context, request)


def objective_report_html(request: HttpRequest, objective_id: int) -> str:
    objective = found_or_404(
        lambda: selectors.objective_page(organization=request.org, objective_id=objective_id)
    )
    chart = objective_progress_chart(organization=request.org, objective=objective)
    context = {
        "objective": objective,
        "progress_chart": chart and printed(chart, width=CHART_WIDTH),
        "printed_at": timezone.now(),
    }
    return render_to_string("okrs/report_objective.html", context, request)


def dashboard_report(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _pdf_response(request, lambda: dashboard_report_html(request), "board-report")


def objective_report(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    return _pdf_response(
        request,
        lambda: objective_report_html(request, objective_id),
        f"objective-{objective_id}-report",
    )


def _pdf_response(request: HttpRequest, html, name: str) -> HttpResponse:
    """The PDF of `html()`; where PDFs cannot be made, a page that says so (503), after the
    same 404s as the page (another organization's objective is not found either way)."""
    page = html()
    if reason := pdf.pdf_unavailable():
        return render(request, "okrs/report_unavailable.html", {"reason": reason}, status=503)
    content = pdf.render_document(page, stylesheets=REPORT_STYLES).write_pdf()
    response = HttpResponse(content, content_type="application/pdf")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'inline; filename="{request.org.slug}-{name}-{day}.pdf"'
    return response
