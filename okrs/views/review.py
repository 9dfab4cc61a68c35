"""The end-of-cycle review: a cycle's page (its objectives' final scores, carrying the unfinished
ones over), an objective's page (its score, what moved, the closing note)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from okrs import selectors, services
from okrs.forms import CarryOverForm, ObjectiveReviewForm
from okrs.models import Cycle, Objective
from orgs.permissions import Action, require_permission
from orgs.shortcuts import found_or_404, org_object_or_404, org_url


def _carry_over_form(request: HttpRequest, review, data=None) -> CarryOverForm:
    unfinished = [score.objective.pk for score in review.unfinished]
    cycles = Cycle.objects.for_org(request.org).filter(
        pk__in=[cycle.pk for cycle in review.later_cycles]
    )
    return CarryOverForm(
        data,
        # Any unfinished one is accepted (one carried over already is reported, not copied
        # again); only those not carried over yet are offered.
        objectives=Objective.objects.for_org(request.org).filter(pk__in=unfinished),
        offered=[score.objective for score in review.carryable],
        cycles=cycles.order_by("starts_on", "pk"),
        initial={
            "objectives": [score.objective.pk for score in review.carryable],
            "next_cycle": review.next_cycle,
        },
    )


def _cycle_review_page(request: HttpRequest, review, form=None, status=200) -> HttpResponse:
    can_edit = request.membership.allows(Action.EDIT_PLAN)
    context = {
        "review": review,
        "can_edit": can_edit,
        "form": form or (_carry_over_form(request, review) if can_edit else None),
    }
    return render(request, "okrs/cycle_review.html", context, status=status)


def cycle_review(request: HttpRequest, org_slug: str, cycle_id: int) -> HttpResponse:
    review = found_or_404(
        lambda: selectors.cycle_review(organization=request.org, cycle_id=cycle_id)
    )
    return _cycle_review_page(request, review)


@require_POST
@require_permission(Action.EDIT_PLAN)
def cycle_carry_over(request: HttpRequest, org_slug: str, cycle_id: int) -> HttpResponse:
    review = found_or_404(
        lambda: selectors.cycle_review(organization=request.org, cycle_id=cycle_id)
    )
    form = _carry_over_form(request, review, request.POST)
    if not form.is_valid():
        return _cycle_review_page(request, review, form=form, status=400)
    next_cycle = form.cleaned_data["next_cycle"]
    done = services.cycle_carry_over(
        cycle=review.cycle,
        next_cycle=next_cycle,
        objectives=list(form.cleaned_data["objectives"]),
        actor=request.user,
    )
    if done.created:
        messages.success(
            request,
            f"Carried {len(done.created)} objective{'s' if len(done.created) != 1 else ''} "
            f"and {done.key_results} key result{'s' if done.key_results != 1 else ''} "
            f"over into {next_cycle}.",
        )
    if done.already:
        titles = ", ".join(
            f"“{objective}” (into {done.copies[objective.pk].cycle})" for objective in done.already
        )
        messages.info(request, f"Already carried over, so not copied again: {titles}.")
    return redirect(org_url(request, "cycle_review", cycle_id=review.cycle.pk))


def _objective_review_page(request: HttpRequest, page, form=None, status=200) -> HttpResponse:
    can_edit = request.membership.allows(Action.EDIT_PLAN)
    if can_edit and form is None:
        form = ObjectiveReviewForm(initial={"note": page.review.note if page.review else ""})
    context = {"page": page, "objective": page.score.objective, "can_edit": can_edit, "form": form}
    return render(request, "okrs/objective_review.html", context, status=status)


def objective_review(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    page = found_or_404(
        lambda: selectors.objective_review(organization=request.org, objective_id=objective_id)
    )
    return _objective_review_page(request, page)


@require_POST
@require_permission(Action.EDIT_PLAN)
def objective_review_note(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    objective = org_object_or_404(request, Objective, pk=objective_id)
    form = ObjectiveReviewForm(request.POST)
    if not form.is_valid():
        page = selectors.objective_review(organization=request.org, objective_id=objective.pk)
        return _objective_review_page(request, page, form=form, status=400)
    services.objective_review_save(
        objective=objective, note=form.cleaned_data["note"], actor=request.user
    )
    messages.success(request, "Closing note saved.")
    return redirect(org_url(request, "objective_review", objective_id=objective.pk))
