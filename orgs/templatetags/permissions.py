"""Templates ask what the viewer may do by action name, never by role:
`{% load permissions %}` then `{% if request.membership|allows:"edit_plan" %}`."""

from __future__ import annotations

from django import template

from orgs.models import Membership

register = template.Library()


@register.filter
def allows(membership: Membership | None, action: str) -> bool:
    """Whether the member may do `action` (orgs.permissions.Action); False for no membership
    (a page outside an organization). An unknown action raises, so a typo fails the page."""
    return membership is not None and membership.allows(action)
