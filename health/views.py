"""The data health page: viewers see findings, admins recompute and mark them "not a problem"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from health import charts, selectors, services
from health.kinds import Kind, Severity
from health.models import Finding, FindingStatus
from orgs.models import Role
from orgs.permissions import Action, require_permission
from orgs.shortcuts import org_object_or_404


def _choice(value: str, choices) -> str:
    return value if value in choices else ""


@require_permission(Role.VIEWER)
def health_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    status = request.GET.get("status", FindingStatus.OPEN)
    page = selectors.health_page(
        request.org,
        status=status if status == FindingStatus.DISMISSED else FindingStatus.OPEN,
        kind=_choice(request.GET.get("kind", ""), Kind.values),
        severity=_choice(request.GET.get("severity", ""), Severity.values),
    )
    context = {
        "page": page,
        "kinds": Kind.choices,
        "severities": Severity.choices,
        "trend_chart": charts.score_trend(page.trend, now=timezone.now()),
    }
    return render(request, "health/page.html", context)


@require_POST
@require_permission(Action.EDIT_PLAN)
def health_recompute(request: HttpRequest, org_slug: str) -> HttpResponse:
    report = services.findings_compute(organization=request.org)
    messages.success(
        request,
        f"Data health computed: {report.snapshot.score}/100, {report.new} new finding(s), "
        f"{report.resolved} resolved.",
    )
    return redirect("health_page", org_slug=org_slug)


@require_POST
@require_permission(Action.EDIT_PLAN)
def finding_dismiss(request: HttpRequest, org_slug: str, finding_id: int) -> HttpResponse:
    finding = org_object_or_404(request, Finding, pk=finding_id, resolved_at=None)
    if request.POST.get("undo"):
        services.finding_restore(finding=finding)
        messages.success(request, "Shown again among the open findings.")
    else:
        services.finding_dismiss(finding=finding, actor=request.user)
        messages.success(request, "Marked not a problem: hidden until the records involved change.")
    return _back_to_page(request, org_slug)


def _back_to_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The page with the filters the form was sent from (known values only)."""
    query = QueryDict(mutable=True)
    for name, choices in (
        ("status", FindingStatus.values),
        ("kind", Kind.values),
        ("severity", Severity.values),
    ):
        if (value := request.POST.get(name, "")) in choices:
            query[name] = value
    url = reverse("health_page", kwargs={"org_slug": org_slug})
    return redirect(f"{url}?{query.urlencode()}" if query else url)
