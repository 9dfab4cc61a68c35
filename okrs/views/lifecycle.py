"""Archive, restore and delete every kind of plan record (the rules: okrs.lifecycle), and the
organization's Archive page, which lists what was archived by kind with a Restore button.

Each kind gets three URLs (`<kind>_archive`, `<kind>_delete`, `<kind>_restore`), made by
`urlpatterns_for(kind)`; each needs the action that editing the kind needs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from okrs import lifecycle, selectors, services
from okrs.lifecycle import KINDS, Kind
from orgs.models import OrgOwned
from orgs.permissions import require_permission
from orgs.shortcuts import org_object_or_404, org_url


def after_url(request: HttpRequest, record: OrgOwned) -> str:
    """Where to go once `record` is archived or deleted: the page it was listed on."""
    kind = lifecycle.kind_of(record).name
    parent = {
        "objective": ("pathway_detail", "pathway_id", "pathway_id"),
        "key_result": ("objective_detail", "objective_id", "objective_id"),
        "task": ("project_detail", "project_id", "project_id"),
    }.get(kind)
    if parent and getattr(record, parent[2]):
        return org_url(request, parent[0], **{parent[1]: getattr(record, parent[2])})
    lists = {"project": "project_list", "person": "people_list"}
    return org_url(request, lists.get(kind, "org_home"))


def lifecycle_actions(request: HttpRequest, record: OrgOwned) -> list[tuple[str, str]]:
    """The edit page's "Archive…" and "Delete…" links for a stored record."""
    if record is None or record.pk is None:
        return []
    kind = lifecycle.kind_of(record)
    ids = {kind.kwarg: record.pk}
    return [
        ("Archive…", org_url(request, f"{kind.name}_archive", **ids)),
        ("Delete…", org_url(request, f"{kind.name}_delete", **ids)),
    ]


def _archive_view(kind: Kind) -> Callable:
    @require_http_methods(["GET", "POST"])
    @require_permission(kind.action)
    def archive(request: HttpRequest, org_slug: str, **ids) -> HttpResponse:
        """GET asks to confirm (and says what goes with it); POST archives."""
        record = org_object_or_404(request, kind.model, pk=ids[kind.kwarg])
        if request.method == "GET":
            context = {
                "kind": kind,
                "record": record,
                "contents": selectors.archive_contents_summary(record=record),
                "cancel_url": after_url(request, record),
            }
            return render(request, "okrs/archive_confirm.html", context)
        try:
            children = services.record_archive(record=record, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            with_them = f" with {len(children)} more" if children else ""
            messages.success(
                request, f"“{record}” archived{with_them}. Restore it from the Archive page."
            )
        return redirect(after_url(request, record))

    return archive


def _delete_view(kind: Kind) -> Callable:
    @require_http_methods(["GET", "POST"])
    @require_permission(kind.action)
    def delete(request: HttpRequest, org_slug: str, **ids) -> HttpResponse:
        """GET asks to confirm, or says what the record still holds and offers archiving;
        POST deletes an empty record (else says why not, on the same page)."""
        record = org_object_or_404(request, kind.model, pk=ids[kind.kwarg])
        held = lifecycle.holdings(record)
        if request.method == "POST" and not held:
            try:
                services.record_delete(record=record, actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, f"“{record}” deleted.")
                return redirect(after_url(request, record))
        context = {
            "kind": kind,
            "record": record,
            "held": held,
            "archive_url": org_url(request, f"{kind.name}_archive", **ids),
            "cancel_url": after_url(request, record),
        }
        status = 400 if request.method == "POST" else 200
        return render(request, "okrs/delete_confirm.html", context, status=status)

    return delete


def _restore_view(kind: Kind) -> Callable:
    @require_POST
    @require_permission(kind.action)
    def restore(request: HttpRequest, org_slug: str, **ids) -> HttpResponse:
        """Restore an archived record with what was archived with it; back to the Archive."""
        rows = kind.model.objects.for_org(request.org, include_archived=True)
        record = get_object_or_404(rows, pk=ids[kind.kwarg])
        remade = lifecycle.deleted_in_airtable(record)
        try:
            children = services.record_restore(record=record, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            with_them = f" with {len(children)} more" if children else ""
            anew = (
                " Its Airtable record had been deleted: the sync makes it anew in Airtable."
                if remade
                else ""
            )
            messages.success(request, f"“{record}” restored{with_them}.{anew}")
        return redirect(org_url(request, "archive"))

    return restore


def urlpatterns_for(kind: Kind) -> list:
    record = f"{kind.url_prefix}/<int:{kind.kwarg}>"
    return [
        path(f"{record}/archive/", _archive_view(kind), name=f"{kind.name}_archive"),
        path(f"{record}/delete/", _delete_view(kind), name=f"{kind.name}_delete"),
        path(f"{record}/restore/", _restore_view(kind), name=f"{kind.name}_restore"),
    ]


urlpatterns = [pattern for kind in KINDS.values() for pattern in urlpatterns_for(kind)]


def archive_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """What was archived in MissionOS, by kind, newest first, each with what went with it;
    every member sees it (as they saw the records), with a Restore button for the kinds they
    may restore."""
    groups = selectors.archived_records(organization=request.org)
    for group in groups:
        group["may_restore"] = request.membership.allows(group["kind"].action)
    return render(request, "okrs/archive.html", {"groups": groups})
