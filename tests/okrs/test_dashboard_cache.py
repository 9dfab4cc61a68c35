"""The dashboard is rendered once per plan version and viewer, and served from the cache with
a token of its own for each response: every viewer still sees only their own header, links
for their role and their flash messages, and every change shows at once."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgs.models import Role
from sync.models import Connection, RunKind, RunStatus, SyncRun
from tests.factories import PathwayFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(org):
    return reverse("org_home", args=[org.slug])


def logout_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_cached_dashboard_costs_one_query_and_gets_a_working_token(
    org, owner, url, clock, django_assert_num_queries, session_queries
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get(url)  # renders and caches the page
    with django_assert_num_queries(1 + session_queries):  # the user with their memberships
        cached = browser.get(url).content.decode()
    assert "csrfhole" not in cached
    assert logout_token(cached) in cached.split("hx-headers", 1)[1][:200]  # htmx sends it too
    # The token put into the cached text is valid for this browser: logging out works.
    response = browser.post(reverse("logout"), {"csrfmiddlewaretoken": logout_token(cached)})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "typed",
    [
        "missionos-csrf-token-hole",  # the fixed marker this page once used
        "csrfhole",
        "csrfhole" + "0" * 32,
        "{{ csrf_token }}",
    ],
)
def test_text_a_user_typed_is_never_replaced_by_the_viewers_token(client, org, owner, url, typed):
    PathwayFactory(organization=org, name=f"Plan {typed} end")
    client.force_login(owner)
    for _ in range(2):  # rendered, then served from the cache
        page = client.get(url).content.decode()
        token = logout_token(page)
        assert f"Plan {typed} end" in page
        assert page.count(token) == 2  # the logout form and htmx's header, nowhere else


def test_each_viewer_gets_their_own_header_and_links_for_their_role(
    client, org, owner, member_of, url
):
    PathwayFactory(organization=org, name="Grow reach")
    member = member_of(org, Role.MEMBER, username="milo")
    client.force_login(owner)
    owners_page = client.get(url).content.decode()
    client.force_login(member)
    members_page = client.get(url).content.decode()

    assert "olivia" in owners_page and "New pathway" in owners_page
    assert "milo" in members_page and "olivia" not in members_page
    assert "New pathway" not in members_page
    assert "Grow reach" in members_page  # the same plan


def test_the_switcher_follows_a_new_membership_and_a_renamed_organization(
    client, org, other_org, owner, url, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    assert "Borealis Labs" not in client.get(url).content.decode()
    other_org.memberships.create(user=owner, role=Role.VIEWER)
    assert "Borealis Labs" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        org.name = "Acme Care"
        org.save()
    page = client.get(url).content.decode()
    assert "<h1>Acme Care</h1>" in page and "Acme Health" not in page


def test_the_page_is_rendered_again_each_minute(owner_client, url, clock, session_queries):
    """Relative times ("5 minutes ago") and the share of the cycle gone move with the clock:
    within a minute the page comes from the cache; in the next one it is rendered again, once."""

    def queries_for_a_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(url).status_code == 200
        return len(captured)

    from_the_cache = 1 + session_queries  # the user with their memberships
    clock.now = clock.now.replace(second=0, microsecond=0)  # the start of this minute
    assert queries_for_a_page() > from_the_cache  # rendered: the plan, the last sync...
    clock.advance(seconds=59)
    assert queries_for_a_page() == from_the_cache
    clock.advance(seconds=1)  # a new minute
    assert queries_for_a_page() > from_the_cache
    assert queries_for_a_page() == from_the_cache


def test_flash_messages_show_on_a_cached_dashboard_once(owner_client, url):
    owner_client.get(url)  # cached without messages
    request = RequestFactory().get(url)
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, "Pathway saved.")
    carrier = HttpResponse()
    storage.update(carrier)
    owner_client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value

    assert "Pathway saved." in owner_client.get(url).content.decode()
    assert "Pathway saved." not in owner_client.get(url).content.decode()


def test_a_sync_runs_progress_and_end_show_on_a_cached_dashboard(
    owner_client, org, url, django_capture_on_commit_callbacks
):
    """A run's saves are announced as "sync" events, which do not retire the cache themselves:
    the save of the run does (orgs/apps.py). Found by the browser test of a sync's end."""
    connection = Connection.objects.create(
        organization=org, name="Acme plans", base_id="appACME00000001", token_encrypted="x"
    )
    run = SyncRun.objects.create(
        organization=org, connection=connection, kind=RunKind.FULL, status=RunStatus.RUNNING
    )
    assert "Running" in owner_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        run.pulled = 47
        run.save(update_fields=["pulled"])
    assert "47 records so far" in owner_client.get(url, {"fragment": "sync"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        run.save(update_fields=["status", "finished_at"])
    assert "Succeeded" in owner_client.get(url).content.decode()
