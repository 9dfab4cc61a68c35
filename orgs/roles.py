"""Roles and the actions they allow: the one place that says which role an action needs.

Each role includes every permission of the ones below it. Views ask through
`orgs.permissions.require_permission(Action.EDIT_PLAN)`, Python through
`membership.allows(Action.EDIT_PLAN)`, templates through the filter of
`orgs.templatetags.permissions`: `{% if request.membership|allows:"edit_plan" %}`.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    """Membership roles; each includes every permission of the ones below it."""

    VIEWER = "viewer", "Viewer"
    MEMBER = "member", "Member"
    ADMIN = "admin", "Admin"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: Role) -> bool:
        return self.rank >= Role(required).rank


class Action(StrEnum):
    CHECK_IN = "check_in"  # record progress on a key result (and edit or delete one's own)
    COMMENT = "comment"  # comment on objectives and key results
    EDIT_TASKS = "edit_tasks"  # add, edit and move a project's tasks
    EDIT_PLAN = "edit_plan"  # cycles, pathways, objectives, key results, projects
    MANAGE_PEOPLE = "manage_people"  # the people directory
    MANAGE_SYNC = "manage_sync"  # Airtable connections, their mapping, schedule and runs
    MANAGE_MEMBERS = "manage_members"  # who belongs to the organization, with which role
    VIEW_AUDIT = "view_audit"  # read and export the audit log (orgs.audit)


# The least role that may do each action (roles include those below them: orgs.models.Role).
# As the views required before the vocabulary existed: tests/orgs/test_roles.py holds both.
LEAST_ROLE: dict[Action, Role] = {
    Action.CHECK_IN: Role.MEMBER,
    Action.COMMENT: Role.MEMBER,
    Action.EDIT_TASKS: Role.MEMBER,
    Action.EDIT_PLAN: Role.ADMIN,
    Action.MANAGE_PEOPLE: Role.ADMIN,
    Action.MANAGE_SYNC: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.OWNER,
    # Admins change the plan, the directory and the sync: they read who changed what.
    Action.VIEW_AUDIT: Role.ADMIN,
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
