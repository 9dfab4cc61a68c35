"""The organization switcher in the header of every page."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import QueryDict
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import SimpleLazyObject

from orgs.selectors import memberships_of


@dataclass(frozen=True)
class SwitcherEntry:
    name: str
    slug: str
    url: str
    is_current: bool


def switch_url(request, membership) -> str:
    """The nearest page to this one that `membership`'s role allows in its organization.

    Walks up this page's path (a task's edit page, the task's project, the projects list) to
    the first page that needs no object of this organization (objects have no counterpart
    elsewhere) and that the role in the other organization may open; else that organization's
    home. The filters of a list are kept, except ids and the page number: those name rows of
    this organization.
    """
    slug = membership.organization.slug
    match = request.resolver_match
    current = getattr(request, "org", None)
    if match and current is not None and "org_slug" in match.kwargs:
        prefix = f"/o/{current.slug}/"
        rest = request.path_info[len(prefix) :] if request.path_info.startswith(prefix) else ""
        parts = [p for p in rest.split("/") if p]
        while parts:
            candidate = f"/o/{slug}/{'/'.join(parts)}/"
            parts.pop()
            try:
                found = resolve(candidate)
            except Resolver404:
                continue
            if set(found.kwargs) != {"org_slug"} or not _allows(found.func, membership):
                continue
            if found.view_name == match.view_name and request.method == "GET":
                return candidate + _kept_filters(request.GET)
            return candidate
    return reverse("org_home", kwargs={"org_slug": slug})


def _allows(view, membership) -> bool:
    required = getattr(view, "required_role", None)  # orgs.permissions.require_permission
    return required is None or membership.allows(required)


def _kept_filters(params) -> str:
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        values = [v for v in values if not v.strip().isdigit()]
        if name != "page" and values:
            kept.setlist(name, values)
    return f"?{kept.urlencode()}" if kept else ""


def organization_switcher(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    current = getattr(request, "org", None)

    def entries() -> list[SwitcherEntry]:
        return [
            SwitcherEntry(
                name=m.organization.name,
                slug=m.organization.slug,
                url=switch_url(request, m),
                is_current=current is not None and m.organization_id == current.pk,
            )
            for m in memberships_of(user=request.user)
        ]

    # Lazy: fragments that do not render the header cost no query.
    return {"org_switcher": SimpleLazyObject(entries)}
