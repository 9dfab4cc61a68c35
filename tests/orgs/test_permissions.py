"""The permission vocabulary (orgs.permissions): actions, the least role of each, and the one
way templates ask (`request.membership|allows:"edit_plan"`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from orgs.models import Membership, Role
from orgs.roles import LEAST_ROLE, Action, least_role
from sync.models import Connection, RunKind, RunStatus, SyncRun
from tests.factories import KeyResultFactory, PersonFactory, TaskFactory

# What each view that changes something (or shows admin pages) needs, by action.
VIEW_ACTIONS = {
    "check_in_create": Action.CHECK_IN,
    # Then only its author, or an admin (okrs.services.check_in_changeable).
    "check_in_edit": Action.CHECK_IN,
    "check_in_delete": Action.CHECK_IN,
    "check_in_restore": Action.EDIT_PLAN,
    "objective_comment_create": Action.COMMENT,
    "key_result_comment_create": Action.COMMENT,
    # Then only its author (okrs.services.comment_changeable).
    "comment_edit": Action.COMMENT,
    "comment_delete": Action.COMMENT,
    "task_create": Action.EDIT_TASKS,
    "task_edit": Action.EDIT_TASKS,
    "task_status": Action.EDIT_TASKS,
    "cycle_create": Action.EDIT_PLAN,
    "cycle_carry_over": Action.EDIT_PLAN,
    "objective_review_note": Action.EDIT_PLAN,
    "pathway_create": Action.EDIT_PLAN,
    "pathway_edit": Action.EDIT_PLAN,
    "objective_create": Action.EDIT_PLAN,
    "objective_edit": Action.EDIT_PLAN,
    "key_result_create": Action.EDIT_PLAN,
    "key_result_edit": Action.EDIT_PLAN,
    "project_create": Action.EDIT_PLAN,
    "project_edit": Action.EDIT_PLAN,
    "person_create": Action.MANAGE_PEOPLE,
    "person_edit": Action.MANAGE_PEOPLE,
    "member_list": Action.MANAGE_MEMBERS,
    "member_role": Action.MANAGE_MEMBERS,
    "member_remove": Action.MANAGE_MEMBERS,
    "invitation_revoke": Action.MANAGE_MEMBERS,
    "audit_log": Action.VIEW_AUDIT,
    "audit_csv": Action.VIEW_AUDIT,
    "sync_connections": Action.MANAGE_SYNC,
    "sync_connection": Action.MANAGE_SYNC,
    "sync_now": Action.MANAGE_SYNC,
    "sync_schedule": Action.MANAGE_SYNC,
    "sync_token": Action.MANAGE_SYNC,
    "sync_mapping": Action.MANAGE_SYNC,
    "sync_run": Action.MANAGE_SYNC,
    "sync_run_progress": Action.MANAGE_SYNC,
    "sync_writes": Action.MANAGE_SYNC,
    "sync_conflict_resolve": Action.EDIT_TASKS,
    "health_recompute": Action.EDIT_PLAN,
    "finding_dismiss": Action.EDIT_PLAN,
    "health_fix": Action.EDIT_PLAN,
    "health_undo": Action.EDIT_PLAN,
    "health_digest": Action.EDIT_PLAN,
    "cycle_edit": Action.EDIT_PLAN,
    # okrs/views/lifecycle.py: archiving, deleting and restoring need what editing does.
    **{
        f"{kind}_{verb}": action
        for kind, action in (
            ("cycle", Action.EDIT_PLAN),
            ("pathway", Action.EDIT_PLAN),
            ("objective", Action.EDIT_PLAN),
            ("key_result", Action.EDIT_PLAN),
            ("project", Action.EDIT_PLAN),
            ("task", Action.EDIT_TASKS),
            ("person", Action.MANAGE_PEOPLE),
        )
        for verb in ("archive", "delete", "restore")
    },
}


def _named_views(resolver: URLResolver):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _named_views(pattern)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, pattern.callback


def test_every_guarded_view_needs_the_least_role_of_its_action():
    """The vocabulary says what the views' decorators require: the same role for each."""
    guarded = {
        name: view.required_role
        for name, view in _named_views(get_resolver())
        if hasattr(view, "required_role")
    }
    assert guarded == {name: LEAST_ROLE[action] for name, action in VIEW_ACTIONS.items()}


def test_least_role_of_actions_and_roles():
    assert least_role("edit_plan") == least_role(Action.EDIT_PLAN) == Role.ADMIN
    assert least_role("check_in") == Role.MEMBER
    assert least_role("manage_members") == Role.OWNER
    # A role stands for itself, so `require_permission(Role.ADMIN)` and `allows(Role.ADMIN)` work.
    assert least_role(Role.ADMIN) == least_role("admin") == Role.ADMIN
    assert set(LEAST_ROLE) == set(Action)
    with pytest.raises(ValueError, match="edit_plans"):
        least_role("edit_plans")


@pytest.mark.parametrize("role", list(Role))
def test_a_membership_allows_actions_and_roles(role):
    membership = Membership(role=role)
    for action, least in LEAST_ROLE.items():
        assert membership.allows(action) == membership.allows(str(action)) == role.allows(least)
    for other in Role:
        assert membership.allows(other) == role.allows(other)


def test_the_template_filter_asks_the_membership():
    template = Template(
        '{% load permissions %}{% if m|allows:"edit_plan" %}yes{% else %}no{% endif %}'
    )
    assert template.render(Context({"m": Membership(role=Role.ADMIN)})) == "yes"
    assert template.render(Context({"m": Membership(role=Role.MEMBER)})) == "no"
    assert template.render(Context({"m": None})) == "no"  # outside an organization
    typo = Template('{% load permissions %}{% if m|allows:"edit_plans" %}yes{% endif %}')
    with pytest.raises(ValueError):
        typo.render(Context({"m": Membership(role=Role.OWNER)}))


# Each role sees a link exactly when it may use it.


@pytest.fixture
def pages(org):
    key_result = KeyResultFactory(organization=org)
    objective = key_result.objective
    task = TaskFactory(organization=org, project__pathway=objective.pathway)
    person = PersonFactory(organization=org)
    connection = Connection.objects.create(
        organization=org, name="Acme plans", base_id="appACME00000001", token_encrypted="x"
    )
    run = SyncRun.objects.create(
        organization=org,
        connection=connection,
        kind=RunKind.FULL,
        status=RunStatus.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )

    def at(name, **kwargs):
        return reverse(name, kwargs={"org_slug": org.slug, **kwargs})

    # page -> [(the link's address, the action it needs)]
    return {
        at("org_home"): [
            (at("pathway_create"), Action.EDIT_PLAN),
            (at("objective_create"), Action.EDIT_PLAN),
            (at("cycle_create"), Action.EDIT_PLAN),
            (at("sync_run", run_id=run.pk), Action.MANAGE_SYNC),
            (at("sync_connections"), Action.MANAGE_SYNC),  # the navigation (base.html)
            (at("member_list"), Action.MANAGE_MEMBERS),
            (at("audit_log"), Action.VIEW_AUDIT),
        ],
        at("project_list"): [(at("project_create"), Action.EDIT_PLAN)],
        at("project_detail", project_id=task.project_id): [
            (at("project_edit", project_id=task.project_id), Action.EDIT_PLAN),
            (at("task_create", project_id=task.project_id), Action.EDIT_TASKS),
        ],
        at("pathway_detail", pathway_id=objective.pathway_id): [
            (at("pathway_edit", pathway_id=objective.pathway_id), Action.EDIT_PLAN),
            (at("objective_create") + f"?pathway={objective.pathway_id}", Action.EDIT_PLAN),
        ],
        at("objective_detail", objective_id=objective.pk): [
            (at("objective_edit", objective_id=objective.pk), Action.EDIT_PLAN),
            (at("key_result_create", objective_id=objective.pk), Action.EDIT_PLAN),
            (at("key_result_edit", key_result_id=key_result.pk), Action.EDIT_PLAN),
        ],
        at("people_list"): [
            (at("person_create"), Action.MANAGE_PEOPLE),
            (at("person_edit", person_id=person.pk), Action.MANAGE_PEOPLE),
        ],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_the_links_it_may_use(client, org, member_of, pages, role):
    client.force_login(member_of(org, role))
    for page, links in pages.items():
        html = client.get(page).content.decode()
        for address, action in links:
            shown = f'href="{address}"' in html
            assert shown == role.allows(LEAST_ROLE[action]), f"{role} on {page}: {address}"


# Templates ask by action; none compares role names.

ROLE_NAME = "|".join(Role.values)
ROLE_COMPARISON = re.compile(
    rf"""\brole\s*(==|!=|\bin\b|\bnot in\b)\s*["']({ROLE_NAME})["']"""
    rf"""|["']({ROLE_NAME})["']\s*(==|!=)\s*[\w.]*\brole\b"""
)


def role_comparisons(text: str) -> list[int]:
    """The line numbers of `text` where a role is compared with a role's name."""
    return [n for n, line in enumerate(text.splitlines(), 1) if ROLE_COMPARISON.search(line)]


def test_the_scan_finds_role_comparisons():
    assert role_comparisons(
        "<p>\n{% if request.membership.role == 'admin' or request.membership.role == 'owner' %}"
        '\n{% if "viewer" != membership.role %}\n{% if role in "owner" %}'
        '\n{% if request.membership|allows:"edit_plan" %}'
        # The role form marks the member's current role: that compares no role name.
        "\n{% if membership.role == value %} selected{% endif %}"
    ) == [2, 3, 4]


def test_no_template_compares_role_names():
    found = [
        f"{path.relative_to(settings.BASE_DIR)}:{line}"
        for directory in settings.TEMPLATES[0]["DIRS"]
        for path in sorted(Path(directory).rglob("*.html"))
        for line in role_comparisons(path.read_text())
    ]
    assert not found, 'Ask `request.membership|allows:"<action>"` instead: ' + ", ".join(found)
