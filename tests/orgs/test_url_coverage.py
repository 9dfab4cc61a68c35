"""Every door of the URLconf is listed, and none opens onto another organization's objects.

1. The whole resolver tree is walked (every pattern, named or not, at any depth): each one is
   in a role matrix (tests/orgs/test_role_matrix.py's PAGES for the organization's pages,
   OUTSIDE_PAGES below for the few outside any organization) or in EXEMPT, with the reason. A
   view added without a line in one of them fails here; adding it is one line.
2. Every object kwarg in those URLs is registered (orgs.shortcuts.URL_OBJECTS), so a refused
   request can tell a foreign object from one of the organization's own.
3. Each role (viewer, member, admin, owner) walks every organization URL, GET and POST, with
   and without htmx, naming the objects of another organization: 404 every time (405 only
   where the method is refused whatever the id), never 200, 403 or 500, and nothing written.
   The same walk in the other organization's own URLs: 404 too.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse

from orgs.models import Membership, Role
from orgs.shortcuts import URL_OBJECTS
from tests.factories import UserFactory
from tests.orgs.test_role_matrix import PAGES, changed_tables, database_state
from tests.orgs.test_tenancy import build_objects, fill, org_patterns

ROLES = [Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER]

# Pages outside any organization: what an anonymous visitor and any signed-in member get, for
# GET and POST ("login": sent to log in).
LOGIN = "login"
OUTSIDE_PAGES: dict[str, dict[str, tuple[int | str, int]]] = {
    "home": {"get": (LOGIN, 302), "post": (LOGIN, 302)},  # to the organization used last
    "my_work": {"get": (LOGIN, 200), "post": (LOGIN, 200)},
    "notifications": {"get": (LOGIN, 200), "post": (LOGIN, 302)},
    "help": {"get": (LOGIN, 200), "post": (LOGIN, 405)},
    "logout": {"get": (405, 405), "post": (302, 302)},
}

# Not in a role matrix, each for a reason. A route prefix exempts everything under it.
EXEMPT_PREFIXES = {
    "admin/": "Django's admin: staff only, with its own permissions "
    "(tests/orgs/test_admin_scope.py)",
}
EXEMPT = {
    "login": "the way in: open to everyone by definition",
    "health": "/healthz/, the liveness probe: no database, no session, the same for everyone",
    "invitation": "an emailed link opened by its token, outside any organization until "
    "accepted (tests/orgs/test_invitations.py: anonymous to login, unknown 404, used 410, "
    "another account 403)",
    **{
        name: "a step of the Supabase Auth sign-in, a way in like login; 404 when Supabase is "
        "not configured (tests/orgs/test_supabase_flows.py)"
        for name in (
            "supabase_link",
            "supabase_code",
            "supabase_callback",
            "supabase_signup",
            "supabase_reset",
            "supabase_set_password",
        )
    },
    "reminder_unsubscribe": "the check-in reminder email's unsubscribe link: no login, "
    "authenticated by its signed token (tests/okrs/test_reminders.py: done, tampered 400)",
    "sync_feed_notify": "Airtable's webhook: no login, authenticated by the hook's MAC "
    "(tests/sync/test_feed.py)",
}


def every_pattern(resolver=None, prefix=""):
    """(route, name) of every URL pattern in the project, named or not, at any depth."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from every_pattern(entry, route)
        else:
            assert isinstance(entry, URLPattern), entry
            yield route, entry.name


def unlisted(patterns) -> list[str]:
    """The patterns in no role matrix and not exempt."""
    return [
        f"{route} ({name})"
        for route, name in patterns
        if not any(route.startswith(prefix) for prefix in EXEMPT_PREFIXES)
        and (name is None or not (name in PAGES or name in OUTSIDE_PAGES or name in EXEMPT))
    ]


def test_every_url_pattern_is_in_a_role_matrix_or_exempt():
    patterns = list(every_pattern())
    assert len(patterns) > 50  # the admin's included: the walk goes deep
    missing = unlisted(patterns)
    assert not missing, (
        "say who may use these URLs: a line in PAGES (tests/orgs/test_role_matrix.py) for an "
        "organization's page, in OUTSIDE_PAGES for one outside any, or in EXEMPT with the "
        f"reason: {missing}"
    )
    names = {name for _, name in patterns}
    stale = (PAGES.keys() | OUTSIDE_PAGES.keys() | EXEMPT.keys()) - names
    assert not stale, f"these entries name no URL any more: {sorted(stale)}"
    organization_free = {name for route, name in patterns if "<slug:org_slug>" not in route}
    assert not organization_free & PAGES.keys(), "PAGES is for organization URLs"


# The project's URLconf with two views nobody listed: one named, one not.
urlpatterns = [
    path("", include("missionos.urls")),
    path("o/<slug:org_slug>/reports/", lambda request, org_slug: None, name="reports"),
    path("o/<slug:org_slug>/export/", lambda request, org_slug: None),
]


def test_the_walk_finds_a_view_nobody_listed():
    assert unlisted(every_pattern(get_resolver(__name__))) == [
        "o/<slug:org_slug>/reports/ (reports)",
        "o/<slug:org_slug>/export/ (None)",
    ]


def test_every_object_kwarg_is_registered():
    kwargs = {
        param
        for route, _ in every_pattern()
        for param in re.findall(r"<(?:\w+:)?(\w+)>", route)
        # Foreign ids are an organization's matter; outside one, a URL names nothing it owns
        # (the invitation's token is tested with its page).
        if param != "org_slug" and "<slug:org_slug>" in route
    }
    assert kwargs, "the walk found no object kwarg"
    missing = kwargs - URL_OBJECTS.keys()
    assert not missing, f"register_url_object(...) in the app's ready() for {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OUTSIDE_PAGES))
def test_pages_outside_an_organization(client, org, member_of, name):
    url = reverse(name)
    for method, (anonymous, member) in OUTSIDE_PAGES[name].items():
        response = getattr(Client(), method)(url)
        if anonymous == LOGIN:
            assert response.status_code == 302, (method, url)
            assert response.url.startswith(reverse("login")), (method, url)
        else:
            assert response.status_code == anonymous, (method, url)
        for role in ROLES:
            browser = Client()
            browser.force_login(member_of(org, role))
            status = getattr(browser, method)(url).status_code
            assert status == member, f"{method.upper()} {url} as {role}: {status}"


# -- the walk with another organization's objects, as each role --------------------------


@pytest.fixture
def two_orgs_with_roles(org, other_org):
    mine, theirs = build_objects(org), build_objects(other_org)
    users = {}
    for role in ROLES:
        users[role] = UserFactory(username=f"{role}-of-acme")
        Membership.objects.create(user=users[role], organization=org, role=role)
    db_connection.check_constraints()
    return users, mine, theirs


def visit(client: Client, method: str, url: str, htmx: bool):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return getattr(client, method)(url, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_404_for_another_organizations_objects(
    two_orgs_with_roles, org, other_org, role, method, htmx
):
    users, mine, theirs = two_orgs_with_roles
    client = Client()
    client.force_login(users[role])
    before = database_state()
    checked = 0
    for name, params in org_patterns():
        # Their organization's URL, their objects: not a member there.
        theirs_url = fill(name, params, other_org.slug, theirs)
        status = visit(client, method, theirs_url, htmx).status_code
        assert status == 404, f"{role}: {method.upper()} {theirs_url} answered {status}"
        if params == {"org_slug"}:
            continue
        # My organization's URL naming their object.
        url = fill(name, params, org.slug, theirs)
        status = visit(client, method, url, htmx).status_code
        if status == 405:
            # The method is refused before any lookup: the same answer for my own object.
            own = visit(client, method, fill(name, params, org.slug, mine), htmx).status_code
            assert own == 405, f"{url}: 405 for a foreign id but {own} for mine"
            continue
        assert status == 404, f"{role}: {method.upper()} {url} answered {status}"
        checked += 1
    assert checked >= (10 if method == "get" else 20)
    changed = changed_tables(before, database_state())
    assert not changed, f"{role} changed {changed} through foreign ids"
