"""Editing, deleting and restoring check-ins, and comments on objectives and key results."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from missionos.form_flow import form_page
from okrs import selectors, services
from okrs.forms import CheckInForm, CommentForm
from okrs.models import CheckIn, Comment, KeyResult, Objective
from orgs.permissions import Action, require_permission
from orgs.shortcuts import found_or_404, org_object_or_404, org_url


def _check_in_return_url(request: HttpRequest, key_result: KeyResult) -> str:
    if key_result.objective_id is None:
        return reverse("my_work")
    return org_url(request, "objective_detail", objective_id=key_result.objective_id)


def _changeable_check_in(request: HttpRequest, check_in_id: int, **lookups) -> CheckIn:
    check_in = org_object_or_404(
        request,
        CheckIn.objects.select_related("key_result"),
        pk=check_in_id,
        key_result__isnull=False,
        **lookups,
    )
    if not services.check_in_changeable(check_in=check_in, membership=request.membership):
        raise PermissionDenied("Only its author or an admin may change this check-in.")
    return check_in


@require_permission(Action.CHECK_IN)
def check_in_edit(request: HttpRequest, org_slug: str, check_in_id: int) -> HttpResponse:
    """Edit one's own check-in (admins: any); the version before is kept in its history."""
    check_in = _changeable_check_in(request, check_in_id)
    key_result = check_in.key_result
    back = _check_in_return_url(request, key_result)
    initial = {"value": check_in.value, "confidence": check_in.confidence, "note": check_in.note}
    return form_page(
        request,
        form=CheckInForm(request.POST or None, key_result=key_result, initial=initial),
        save=lambda form: services.check_in_update(
            check_in=check_in,
            value=form.cleaned_data["value"],
            confidence=form.cleaned_data["confidence"],
            note=form.cleaned_data["note"],
            actor=request.user,
        ),
        success_url=lambda saved: back,
        title=f"Edit check-in on {key_result}",
        cancel_url=back,
        saved_message="Check-in updated.",
    )


@require_POST
@require_permission(Action.CHECK_IN)
def check_in_delete(request: HttpRequest, org_slug: str, check_in_id: int) -> HttpResponse:
    check_in = _changeable_check_in(request, check_in_id)
    services.check_in_delete(check_in=check_in, actor=request.user)
    messages.success(request, "Check-in deleted. Admins can still see and restore it.")
    return redirect(_check_in_return_url(request, check_in.key_result))


@require_POST
@require_permission(Action.EDIT_PLAN)
def check_in_restore(request: HttpRequest, org_slug: str, check_in_id: int) -> HttpResponse:
    # Deleted check-ins are archived: looked up with them (still only this organization's).
    check_in = get_object_or_404(
        CheckIn.objects.for_org(request.org, include_archived=True).select_related("key_result"),
        pk=check_in_id,
        key_result__isnull=False,
    )
    try:
        services.check_in_restore(check_in=check_in, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Check-in restored.")
    return redirect(_check_in_return_url(request, check_in.key_result))


def _comments_response(request: HttpRequest, record: Objective | KeyResult, form=None):
    context = {
        "thread": selectors.comment_thread(
            organization=request.org, record=record, membership=request.membership
        ),
        "comment_form": form,
    }
    return render(request, "okrs/comments.html#comments", context)


def _comment_post(request: HttpRequest, record: Objective | KeyResult, **target) -> HttpResponse:
    form = CommentForm(request.POST, prefix_id=_thread_id(record))
    if form.is_valid():
        services.comment_create(author=request.user, body=form.cleaned_data["body"], **target)
        form = None
        if not request.htmx:
            messages.success(request, "Comment posted.")
    elif not request.htmx:
        messages.error(request, "Comment: " + " ".join(form.errors.get("body", ["refused."])))
    if request.htmx:
        return _comments_response(request, record, form)
    objective_id = record.pk if isinstance(record, Objective) else record.objective_id
    if objective_id is None:
        return redirect(reverse("my_work"))
    return redirect(org_url(request, "objective_detail", objective_id=objective_id))


def _thread_id(record: Objective | KeyResult) -> str:
    return (
        f"comments-objective-{record.pk}"
        if isinstance(record, Objective)
        else (f"comments-kr-{record.pk}")
    )


@require_GET
def objective_comments(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    """Every comment thread of the objective's page (its own and its key results'), each to
    be swapped in out of band: what an open page fetches when it hears that one changed
    (missionos.events.publish_comments). Rendered for the viewer (their own Edit and Delete),
    and only the lists: the forms, and whatever is typed in them, stay as they are."""
    objective = found_or_404(
        lambda: selectors.objective_comment_threads(
            organization=request.org, objective_id=objective_id, membership=request.membership
        )
    )
    threads = [objective.comment_thread] + [kr.comment_thread for kr in objective.live_key_results]
    return render(request, "okrs/comments.html#live-lists", {"threads": threads})


@require_POST
@require_permission(Action.COMMENT)
def objective_comment_create(
    request: HttpRequest, org_slug: str, objective_id: int
) -> HttpResponse:
    objective = org_object_or_404(request, Objective, pk=objective_id)
    return _comment_post(request, objective, objective=objective)


@require_POST
@require_permission(Action.COMMENT)
def key_result_comment_create(
    request: HttpRequest, org_slug: str, key_result_id: int
) -> HttpResponse:
    key_result = org_object_or_404(request, KeyResult, pk=key_result_id)
    return _comment_post(request, key_result, key_result=key_result)


def _own_comment(request: HttpRequest, comment_id: int) -> Comment:
    comment = org_object_or_404(
        request, Comment.objects.select_related("objective", "key_result"), pk=comment_id
    )
    if not services.comment_changeable(comment=comment, membership=request.membership):
        raise PermissionDenied("Only its author may change this comment.")
    return comment


def _comment_return_url(request: HttpRequest, comment: Comment) -> str:
    objective_id = comment.objective_id or comment.key_result.objective_id
    if objective_id is None:
        return reverse("my_work")
    return org_url(request, "objective_detail", objective_id=objective_id)


@require_permission(Action.COMMENT)
def comment_edit(request: HttpRequest, org_slug: str, comment_id: int) -> HttpResponse:
    comment = _own_comment(request, comment_id)
    back = _comment_return_url(request, comment)
    return form_page(
        request,
        form=CommentForm(request.POST or None, initial={"body": comment.body}),
        save=lambda form: services.comment_update(
            comment=comment, body=form.cleaned_data["body"], actor=request.user
        ),
        success_url=lambda saved: back,
        title="Edit comment",
        cancel_url=back,
        saved_message="Comment updated.",
    )


@require_POST
@require_permission(Action.COMMENT)
def comment_delete(request: HttpRequest, org_slug: str, comment_id: int) -> HttpResponse:
    comment = _own_comment(request, comment_id)
    back = _comment_return_url(request, comment)
    services.comment_delete(comment=comment, actor=request.user)
    messages.success(request, "Comment deleted.")
    return redirect(back)
