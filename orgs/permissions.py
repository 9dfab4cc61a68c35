"""Who may do what: named actions, each allowed from a least role up, and the decorators.

The vocabulary is the one place that says which role an action needs. Views ask through
`require_permission("edit_plan")` (or `require_role(Role.ADMIN)`), Python through
`membership.allows("edit_plan")`, templates through the filter of `orgs.templatetags.permissions`:
`{% if request.membership|allows:"edit_plan" %}`. Nothing else compares role names to decide
what a member may do (orgs.services still guards the last owner by role: an invariant, not a
permission).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied

from orgs.models import Role


class Action(StrEnum):
    CHECK_IN = "check_in"  # record progress on a key result
    EDIT_TASKS = "edit_tasks"  # add, edit and move a project's tasks
    EDIT_PLAN = "edit_plan"  # cycles, pathways, objectives, key results, projects
    MANAGE_PEOPLE = "manage_people"  # the people directory
    MANAGE_SYNC = "manage_sync"  # Airtable connections, their mapping, schedule and runs
    MANAGE_MEMBERS = "manage_members"  # who belongs to the organization, with which role


# The least role that may do each action (roles include those below them: orgs.models.Role).
# As the views required before the vocabulary existed: tests/orgs/test_roles.py holds both.
LEAST_ROLE: dict[Action, Role] = {
    Action.CHECK_IN: Role.MEMBER,
    Action.EDIT_TASKS: Role.MEMBER,
    Action.EDIT_PLAN: Role.ADMIN,
    Action.MANAGE_PEOPLE: Role.ADMIN,
    Action.MANAGE_SYNC: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.OWNER,
}


def least_role(action_or_role: Action | Role | str) -> Role:
    """The least role that may do `action_or_role`: an action's (`LEAST_ROLE`), or the role
    itself when given one. An unknown name is an error, so that a typo fails loudly instead
    of hiding a button from everyone."""
    if action_or_role in Role.values:
        return Role(action_or_role)
    try:
        return LEAST_ROLE[Action(action_or_role)]
    except ValueError:
        raise ValueError(f"Not an action or a role: {action_or_role!r}") from None


def require_permission(action_or_role: Action | Role | str) -> Callable:
    """Allow the view only to members who may do `action_or_role` (see `least_role`).

    The organization middleware has already answered 404 to non-members; a member without
    the role gets 403, which reveals nothing they cannot already see.
    """
    required = least_role(action_or_role)  # checked once, when the view is decorated

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None or not membership.allows(required):
                raise PermissionDenied(f"This needs the {required.label.lower()} role.")
            return view(request, *args, **kwargs)

        wrapped.required_role = required  # for tests/orgs/test_permissions.py to read
        return wrapped

    return decorator


def require_role(role: Role) -> Callable:
    """Allow the view only to members whose role is at least `role`."""
    return require_permission(role)
