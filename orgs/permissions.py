"""Role checks: one decorator, used by every view that changes something."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied

from orgs.models import Role


def require_role(role: Role) -> Callable:
    """Allow the view only to members whose role is at least `role`.

    The organization middleware has already answered 404 to non-members; a member without
    the role gets 403, which reveals nothing they cannot already see.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None or not membership.allows(role):
                raise PermissionDenied(f"This needs the {Role(role).label.lower()} role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
