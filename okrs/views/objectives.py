"""An objective's page and the check-ins recorded on it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from missionos import events
from okrs import selectors, services
from okrs.charts.pages import (
    objective_progress_chart,
)
from okrs.forms import (
    CheckInForm,
)
from okrs.models import (
    KeyResult,
)
from okrs.views.params import plan_view
from orgs import provenance
from orgs.permissions import Action, require_permission
from orgs.shortcuts import found_or_404, org_object_or_404, org_url


def _objective_context(request: HttpRequest, objective_id: int, **extra) -> dict:
    # The dashboard's cycle and day, carried by the links that lead here (`?cycle=&as_of=`).
    view = plan_view(request.GET)
    objective = found_or_404(
        lambda: selectors.objective_page(
            organization=request.org, objective_id=objective_id, as_of=view.as_of
        )
    )
    can_check_in = request.membership.allows(Action.CHECK_IN)
    forms_by_kr = extra.pop("check_in_forms", {})
    for key_result in objective.live_key_results:
        key_result.check_in_form = forms_by_kr.get(key_result.pk) or CheckInForm(
            key_result=key_result, initial={"confidence": key_result.confidence}
        )
    provenance.attach_sources(
        organization=request.org, records=[objective, *objective.live_key_results]
    )
    selectors.attach_comment_threads(
        organization=request.org,
        objective=objective,
        key_results=objective.live_key_results,
        membership=request.membership,
    )
    selectors.attach_deleted_check_ins(
        organization=request.org,
        key_results=objective.live_key_results,
        membership=request.membership,
    )
    # Also answered after a check-in, where the chart is swapped in out of band.
    progress_chart = objective_progress_chart(organization=request.org, objective=objective)
    return {
        "objective": objective,
        "view": view,
        # Checking in records today's value: not offered on the page of a past day.
        "can_check_in": can_check_in and view.as_of is None,
        "progress_chart": progress_chart,
        **extra,
    }


def objective_detail(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    """The objective. Open pages fetch `?fragment=live` (its progress and chart, swapped in out
    of band) when the plan changes, as the dashboard does."""
    context = _objective_context(request, objective_id)
    if request.GET.get("fragment") == "live":
        return render(request, "okrs/objective_detail.html#live-response", context)
    context["live_stream"] = events.live_updates_enabled(request) and context["view"].as_of is None
    return render(request, "okrs/objective_detail.html", context)


@require_POST
@require_permission(Action.CHECK_IN)
def check_in_create(request: HttpRequest, org_slug: str, key_result_id: int) -> HttpResponse:
    """Record a check-in. With htmx, answer the key result's row plus out-of-band updates of
    the objective's and pathway's progress; without JavaScript, redirect back."""
    key_result = org_object_or_404(request, KeyResult, pk=key_result_id)
    form = CheckInForm(request.POST, key_result=key_result)
    if key_result.objective_id is None:
        return _orphan_check_in(request, key_result, form)
    if form.is_valid():
        services.check_in_create(
            key_result=key_result,
            value=form.cleaned_data["value"],
            confidence=form.cleaned_data["confidence"],
            note=form.cleaned_data["note"],
            author=request.user,
        )
        if not request.htmx:
            messages.success(request, f"Checked in on “{key_result.title}”.")
            return redirect(
                org_url(request, "objective_detail", objective_id=key_result.objective_id)
            )
        context = _objective_context(
            request, key_result.objective_id, just_checked_in=key_result.pk
        )
    else:
        context = _objective_context(
            request, key_result.objective_id, check_in_forms={key_result.pk: form}
        )
    context["key_result"] = next(
        kr for kr in context["objective"].live_key_results if kr.pk == key_result.pk
    )
    if request.htmx:
        # htmx only swaps 2xx answers, so a refused form is a 200 carrying its errors.
        return render(request, "okrs/objective_detail.html#check-in-response", context)
    return render(request, "okrs/objective_detail.html", context, status=400)


def _orphan_check_in(request: HttpRequest, key_result: KeyResult, form: CheckInForm):
    """A check-in on a synced key result whose objective is gone in Airtable: there is no
    objective page to answer with, so record it (or say why not) and go to "My work", which
    lists it, with htmx too."""
    if form.is_valid():
        services.check_in_create(
            key_result=key_result,
            value=form.cleaned_data["value"],
            confidence=form.cleaned_data["confidence"],
            note=form.cleaned_data["note"],
            author=request.user,
        )
        messages.success(request, f"Checked in on “{key_result.title}”.")
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label or 'Check-in'}: {' '.join(errors)}")
    my_work_url = reverse("my_work")
    return HttpResponseClientRedirect(my_work_url) if request.htmx else redirect(my_work_url)
