"""The organization switcher in the header of every page."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from orgs.selectors import memberships_of


@dataclass(frozen=True)
class SwitcherEntry:
    name: str
    slug: str
    url: str
    is_current: bool


def switch_url(request, slug: str) -> str:
    """The same kind of page in another organization, or that organization's home.

    A page about one object (a project, an objective) has no counterpart elsewhere, so only
    pages identified by the organization alone keep their kind across the switch.
    """
    match = request.resolver_match
    if match and set(match.kwargs) == {"org_slug"}:
        try:
            return reverse(match.view_name, kwargs={"org_slug": slug})
        except NoReverseMatch:
            pass
    return reverse("org_home", kwargs={"org_slug": slug})


def organization_switcher(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    current = getattr(request, "org", None)

    def entries() -> list[SwitcherEntry]:
        return [
            SwitcherEntry(
                name=m.organization.name,
                slug=m.organization.slug,
                url=switch_url(request, m.organization.slug),
                is_current=current is not None and m.organization_id == current.pk,
            )
            for m in memberships_of(user=request.user)
        ]

    # Lazy: fragments that do not render the header cost no query.
    return {"org_switcher": SimpleLazyObject(entries)}
