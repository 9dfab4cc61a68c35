"""Resolve the organization in the URL once per request.

Every URL pattern that names an organization does so as `<slug:org_slug>`. For those, this
middleware requires a login, finds the user's membership (among those loaded with the user:
orgs.selectors.memberships_of), answers 404 when there is none (missing and foreign look the
same), and sets `request.org` and `request.membership`. Because it keys on the URL kwarg, a new
page is covered without anyone remembering to add it.

Nothing here outlives the request: the memberships come with the user on every request, so a
member removed or given another role is treated so from their next request on. The session
remembers the role it was last used with in each organization; when the role has changed since,
the session gets a new key (`cycle_key`), as Django gives it one at login.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from orgs.selectors import membership_for_slug
from orgs.services import membership_mark_used

SESSION_ORG_KEY = "missionos:org"
SESSION_ROLES_KEY = "missionos:roles"  # organization id (str) -> the role the session is for


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.org = None
        request.membership = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("org_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for_slug(user=request.user, slug=slug)
        if membership is None:
            raise Http404("No such organization.")
        request.membership = membership
        request.org = membership.organization
        roles = request.session.get(SESSION_ROLES_KEY, {})
        org_key = str(membership.organization_id)
        if roles.get(org_key) != membership.role:
            if org_key in roles:  # the role changed since this session last used it
                request.session.cycle_key()
            request.session[SESSION_ROLES_KEY] = {**roles, org_key: membership.role}
        # Remember the organization only when it changes: one write per switch, not per page.
        if request.session.get(SESSION_ORG_KEY) != membership.organization_id:
            membership_mark_used(membership=membership)
            request.session[SESSION_ORG_KEY] = membership.organization_id
        return None
