"""The data health page: viewers see findings, admins recompute and mark them "not a problem"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from health import actions, charts, digest, selectors, services
from health.kinds import Kind, Severity
from health.models import Finding, FindingStatus, HealthAction
from missionos.forms import row_id
from okrs.models import Project
from orgs.models import Person
from orgs.permissions import Action, require_permission
from orgs.shortcuts import org_object_or_404


def _choice(value: str, choices) -> str:
    return value if value in choices else ""


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
        "can_fix": request.membership.allows(Action.EDIT_PLAN),
        "digest_on": digest.digest_enabled(organization=request.org, user=request.user),
    }
    return render(request, "health/page.html", context)


@require_POST
@require_permission(Action.EDIT_PLAN)
def health_recompute(request: HttpRequest, org_slug: str) -> HttpResponse:
    report = services.findings_compute(organization=request.org)
    messages.success(
        request,
        f"Data health computed: {report.snapshot.score:g}/100, {report.new} new finding(s), "
        f"{report.resolved} resolved.",
    )
    return redirect("health_page", org_slug=org_slug)


@require_POST
@require_permission(Action.EDIT_PLAN)
def finding_dismiss(request: HttpRequest, org_slug: str, finding_id: int) -> HttpResponse:
    finding = org_object_or_404(request, Finding, pk=finding_id, resolved_at=None)
    if request.POST.get("undo"):
        services.finding_restore(finding=finding, actor=request.user)
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


def _id(value: str) -> int:
    """A row id from a form: ValueError for anything that cannot be one (missionos.forms)."""
    number = row_id(value)
    if number is None:
        raise ValueError(value)
    return number


def _plan(request: HttpRequest, data) -> actions.Plan:
    """The action a form asks for, planned (raises ValidationError on anything it cannot do)."""
    org = request.org
    kind = data.get("action", "")
    try:
        if kind == HealthAction.Kind.CLOSE_PROJECT:
            project = org_object_or_404(request, Project, pk=_id(data.get("project", "")))
            return actions.plan_close_project(project=project, status=data.get("status", ""))
        if kind == HealthAction.Kind.REASSIGN_TASKS:
            departed = org_object_or_404(request, Person, pk=_id(data.get("person", "")))
            to_id = data.get("to", "")
            if not to_id:
                raise ValidationError("Choose who takes the tasks.")
            to = org_object_or_404(request, Person, pk=_id(to_id))
            return actions.plan_reassign_tasks(organization=org, departed=departed, to=to)
        if kind == "merge":
            ids = [_id(value) for value in data.getlist("ids")]
            survivor = _id(data.get("survivor", ""))
            return actions.plan_merge(
                organization=org,
                model=data.get("model", ""),
                survivor_id=survivor,
                ids=ids,
                delete_in_airtable=data.get("delete") == "1",
            )
    except ValueError:
        raise ValidationError("That form was incomplete: choose again.") from None
    raise ValidationError("Unknown action.")


@require_permission(Action.EDIT_PLAN)
def action_preview(request: HttpRequest, org_slug: str) -> HttpResponse:
    """GET: what the action will change, to confirm. POST: do it, and offer the undo."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        plan = _plan(request, data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_page(request, org_slug)
    if request.method == "POST" and data.get("confirm"):
        action = actions.action_apply(organization=request.org, plan=plan, actor=request.user)
        # The findings the fix is about, at once (the rest of the plan is as it was).
        scope = actions.refresh_scope(plan.changes)
        services.findings_compute(organization=request.org, scope=scope)
        messages.success(
            request,
            f"{action.summary}: {len(action.changes)} change(s), on their way to Airtable. "
            "Undo it from the list of recent fixes below.",
        )
        return _back_to_page(request, org_slug)
    merging = data.get("action") == "merge"
    context = {"plan": plan, "fields": _hidden_fields(data), "merging": merging}
    if merging:
        context["candidates"] = _merge_candidates(request, data)
    return render(request, "health/preview.html", context)


def _hidden_fields(data) -> list[tuple[str, str]]:
    names = ("action", "project", "status", "person", "to", "model", "survivor", "ids", "delete")
    return [(name, value) for name in names for value in data.getlist(name)]


def _merge_candidates(request: HttpRequest, data) -> list:
    model = actions.MODELS.get(data.get("model", ""))
    values = [*data.getlist("ids"), data.get("survivor", "")]
    ids = {pk for pk in map(row_id, values) if pk is not None}
    return list(model.objects.for_org(request.org).filter(pk__in=ids)) if model else []


@require_POST
@require_permission(Action.EDIT_PLAN)
def action_undo(request: HttpRequest, org_slug: str, action_id: int) -> HttpResponse:
    action = org_object_or_404(request, HealthAction, pk=action_id)
    try:
        report = actions.action_undo(action=action, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_page(request, org_slug)
    services.findings_compute(organization=request.org, scope=actions.refresh_scope(action.changes))
    text = f"Undone: {action.summary} ({report.undone} change(s) reversed"
    if report.kept:
        text += f"; {len(report.kept)} left as they are: " + "; ".join(report.kept[:5])
    messages.success(request, text + ").")
    return _back_to_page(request, org_slug)


@require_POST
@require_permission(Action.EDIT_PLAN)
def digest_update(request: HttpRequest, org_slug: str) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"
    digest.digest_switch(organization=request.org, user=request.user, enabled=enabled)
    messages.success(
        request,
        "You will get the weekly data health email."
        if enabled
        else "The weekly data health email is off for you.",
    )
    return _back_to_page(request, org_slug)
