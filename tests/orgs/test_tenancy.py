"""Tenancy: no page of an organization, and no object of one, is reachable from outside it.

The URLconf is walked, so every page added later is covered without anyone listing it here;
a page whose URL takes an id this file does not know how to fill fails the walk until added.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from health import services as health_services
from health.models import Finding, HealthAction
from okrs.models import CheckIn
from orgs.invitations import invitation_create
from orgs.models import Membership, Role
from sync.crypto import encrypt_token
from sync.models import Connection, SyncConflict, SyncRun
from tests.factories import (
    CheckInFactory,
    CommentFactory,
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    PersonFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Pages outside any organization. Anything org-owned must live under /o/<org_slug>/.
# sync_feed_notify: Airtable's webhook pings, authenticated by the hook's MAC, not a login.
# invitation: an emailed link, whose token names the organization.
# supabase_*: the Supabase Auth sign-in flows (links, codes, sign-up, reset), ways in like login.
ORGANIZATION_FREE_PAGES = {
    "supabase_link",
    "supabase_code",
    "supabase_callback",
    "supabase_signup",
    "supabase_reset",
    "supabase_set_password",
    "home",
    "login",
    "logout",
    "my_work",
    "notifications",
    "reminder_unsubscribe",
    "help",  # how MissionOS works: the same text for every signed-in user
    "health",
    "sync_feed_notify",
    "invitation",
}


def walk(resolvers=None, prefix=""):
    """(route, name, converter names) of every named URL pattern in the project."""
    for entry in (resolvers or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry, route)
        elif isinstance(entry, URLPattern) and entry.name:
            yield route, entry.name, set(re.findall(r"<(?:\w+:)?(\w+)>", route))


def org_patterns():
    return [(name, params) for route, name, params in walk() if "org_slug" in params]


def build_objects(organization) -> dict[str, int]:
    """One object of every kind a URL can name, all in `organization`: URL kwarg -> id."""
    key_result = KeyResultFactory(organization=organization)
    objective = key_result.objective
    task = TaskFactory(organization=organization)
    cycle = CycleFactory(organization=organization)
    check_in = CheckInFactory(organization=organization, key_result=key_result)
    comment = CommentFactory(organization=organization, objective=objective)
    membership = MembershipFactory(organization=organization, role=Role.MEMBER)
    connection = Connection.objects.create(
        organization=organization,
        name="Base",
        base_id=f"app{organization.slug[:14]:A<14}",
        token_encrypted=encrypt_token("patSECRET.token"),
        token_last4="oken",
    )
    run = SyncRun.objects.create(organization=organization, connection=connection, kind="full")
    conflict = SyncConflict.objects.create(
        organization=organization,
        connection=connection,
        entity="task",
        row_id=task.pk,
        attribute="title",
    )
    health_services.findings_compute(organization=organization)
    action = HealthAction.objects.create(
        organization=organization, kind=HealthAction.Kind.CLOSE_PROJECT, summary="Closed it"
    )
    return {
        "finding_id": Finding.objects.for_org(organization).first().pk,
        "action_id": action.pk,
        "conflict_id": conflict.pk,
        "connection_id": connection.pk,
        "run_id": run.pk,
        "cycle_id": cycle.pk,
        "pathway_id": objective.pathway_id,
        "objective_id": objective.pk,
        "key_result_id": key_result.pk,
        "check_in_id": check_in.pk,
        "comment_id": comment.pk,
        "project_id": task.project_id,
        "task_id": task.pk,
        "person_id": PersonFactory(organization=organization).pk,
        "membership_id": membership.pk,
        "invitation_id": invitation_create(
            organization=organization,
            email="pending@example.org",
            role=Role.MEMBER,
            invited_by=None,
        ).pk,
    }


def fill(name, params, slug, ids):
    unknown = params - {"org_slug"} - set(ids)
    assert not unknown, f"{name}: teach this test which object {unknown} names"
    return reverse(name, kwargs={"org_slug": slug, **{p: ids[p] for p in params - {"org_slug"}}})


@pytest.fixture
def two_orgs(org, other_org):
    mine, theirs = build_objects(org), build_objects(other_org)
    # The acting user is an owner at home, so no role check can hide a tenancy leak.
    user = UserFactory(username="insider")
    Membership.objects.create(user=user, organization=org, role=Role.OWNER)
    return user, mine, theirs


def test_every_page_outside_an_organization_is_known():
    """Django's admin is the staff-only site; every other page is here or under /o/<slug>/."""
    free = {
        name
        for route, name, params in walk()
        if "org_slug" not in params and not route.startswith("admin/")
    }
    assert free == ORGANIZATION_FREE_PAGES


def test_the_walk_finds_the_pages():
    names = {name for name, _ in org_patterns()}
    assert {"org_home", "objective_detail", "check_in_create", "member_list"} <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_non_members_get_404_on_every_url_of_another_organization(
    client, two_orgs, other_org, method
):
    user, _, theirs = two_orgs
    client.force_login(user)
    for name, params in org_patterns():
        url = fill(name, params, other_org.slug, theirs)
        response = getattr(client, method)(url)
        assert response.status_code == 404, (
            f"{method.upper()} {url} answered {response.status_code}"
        )


@pytest.mark.parametrize("method", ["get", "post"])
def test_ids_of_another_organization_in_my_urls_get_404(client, two_orgs, org, method):
    user, mine, theirs = two_orgs
    client.force_login(user)
    checked = 0
    for name, params in org_patterns():
        if params == {"org_slug"}:
            continue
        url = fill(name, params, org.slug, theirs)
        status = getattr(client, method)(url).status_code
        if status == 405:
            # A POST-only page refuses GET before looking at the id; that answer must not
            # depend on the id (the POST run checks these pages).
            own = getattr(client, method)(fill(name, params, org.slug, mine)).status_code
            assert own == 405, f"{url}: 405 for a foreign id but {own} for mine"
            continue
        assert status == 404, f"{method.upper()} {url} answered {status}"
        checked += 1
    assert checked >= 10
    assert CheckIn.objects.for_org(org, include_archived=True).count() == 1  # nothing written
    # The same URLs with my own ids do answer: tests/orgs/test_role_matrix.py, page by page.


def test_anonymous_visitors_are_sent_to_login(client, two_orgs, org):
    _, mine, _ = two_orgs
    for name, params in org_patterns():
        url = fill(name, params, org.slug, mine)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_an_unknown_organization_looks_like_a_foreign_one(client, two_orgs, other_org):
    user, *_ = two_orgs
    client.force_login(user)
    missing = client.get("/o/no-such-org/")
    foreign = client.get(f"/o/{other_org.slug}/")
    assert missing.status_code == foreign.status_code == 404
    assert other_org.name.encode() not in foreign.content
