"""Who may do what, for views: one decorator over the vocabulary of orgs.roles.

Nothing else compares role names to decide what a member may do (orgs.services still guards
the last owner by role: an invariant, not a permission).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied

from orgs.roles import Action, Role, least_role
from orgs.shortcuts import url_objects_or_404


def require_permission(action_or_role: Action | Role | str) -> Callable:
    """Allow the view only to members who may do `action_or_role` (see `least_role`).

    The organization middleware has already answered 404 to non-members; a member without
    the role gets 403, which reveals nothing they cannot already see, unless the URL names
    another organization's object (or none): that is 404 for every role, as for the owner.
    """
    required = least_role(action_or_role)  # checked once, when the view is decorated

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None or not membership.allows(required):
                if membership is not None:
                    url_objects_or_404(request, kwargs)
                raise PermissionDenied(f"This needs the {required.label.lower()} role.")
            return view(request, *args, **kwargs)

        wrapped.required_role = required  # for tests/orgs/test_permissions.py to read
        return wrapped

    return decorator
