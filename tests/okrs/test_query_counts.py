"""Page query counts do not grow with the data: each page is measured in an organization of the
reference size (44 projects) and one 100× larger (4,400 projects, 22,000 tasks) side by side,
and pinned below a fixed ceiling.

Building 4,400 projects takes seconds even in bulk, so both organizations are built once for the
module, inside a transaction that is rolled back when the module ends; each test runs in a
savepoint within it, as usual."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from okrs import selectors, services
from okrs.models import Project, Task
from orgs.models import ARCHIVED_HERE, ARCHIVED_WITH, Membership, Organization, Person, Role
from tests.builders import build_organization as build
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 44, 4_400


@pytest.fixture(scope="module")
def organizations(django_db_setup, django_db_blocker):
    """The viewer and both organizations' objects, built once and rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        user = get_user_model().objects.create(username="counter")  # force_login needs no hash
        objects = {}
        for slug, size in (("small", SMALL), ("large", LARGE)):
            organization = OrganizationFactory(slug=slug)
            Membership.objects.create(user=user, organization=organization, role=Role.OWNER)
            objects[slug] = build(organization, size)
            _discuss(organization, objects[slug]["objective"], user, size // 11)
        # Check the deferred foreign keys of these rows now, once: left pending, they would be
        # checked again at the end of every test (Django's TestCase checks constraints there).
        connection.check_constraints()
        yield user, objects
        transaction.set_rollback(True)


def _discuss(organization, objective, user, count: int) -> None:
    """`count` comments on the objective and its key results, each mentioning someone (the
    counter, whose person it is, among them), and a check-in edited and one deleted."""
    people = list(Person.objects.for_org(organization).order_by("pk")[:count])
    people[0].user = user
    people[0].save()
    key_results = list(objective.key_results.all())
    for i, person in enumerate(people):
        target = {"objective": objective} if i % 2 else {"key_result": key_results[0]}
        services.comment_create(author=user, body=f"Over to @{person.name} #{i}", **target)
    for key_result in key_results[:2]:
        first = services.check_in_create(
            key_result=key_result, value=Decimal(1), confidence=5, author=user
        )
        services.check_in_update(check_in=first, value=Decimal(2), confidence=5, actor=user)
        second = services.check_in_create(
            key_result=key_result, value=Decimal(3), confidence=5, author=user
        )
        services.check_in_delete(check_in=second, actor=user)


@pytest.fixture
def viewer_client(client, organizations):
    user, objects = organizations
    client.force_login(user)
    return client, objects


# page -> (URL name, URL kwargs from the built objects, query string, queries allowed)
PAGES = {
    # Every page: the session (the cache is emptied before the measured request) and the user
    # with their memberships (orgs.auth.MembershipsBackend), then its own queries.
    # Dashboard: cycles, pathways (progress now and a week before), objectives by health,
    # at-risk list, overdue list and count, totals, check-ins, activity, last sync, the data
    # health score; +1 for the chart of each pathway's progress (computed in the database:
    # okrs.history.pathways_progress_series).
    # The dashboard's activity feed: one query per kind of record its lines name (5 at most),
    # to link archived ones to the Archive page.
    "dashboard": ("org_home", lambda o: {}, {}, 15),
    "dashboard as of a past day": ("org_home", lambda o: {}, {"as_of": "2026-01-15"}, 15),
    "overdue tasks": ("overdue_task_list", lambda o: {}, {}, 4),
    "project list": ("project_list", lambda o: {}, {}, 6),
    # +1 on Postgres: the query's words against the organization's vocabulary
    # (okrs.selectors.search.vocabulary_matches).
    "project search": ("project_list", lambda o: {}, {"q": "projct 1"}, 7),
    # Search: the vocabulary (Postgres), the pathways, then one query a kind (people,
    # objectives, projects, key results, tasks, check-ins): okrs.selectors.search.
    "search": ("search", lambda o: {}, {"q": "projct 1 onbaording"}, 10),
    # +2 each for the progress chart (key results, their check-ins: okrs.history).
    # Record pages +2 for the write-back state of their records (queued writes and open
    # conflicts: sync.selectors.attach_sources), whatever their number.
    # The objective +1 for its check-ins' earlier versions, +2 for the comments and the names
    # they mention, +1 for the deleted check-ins an admin sees.
    "objective": ("objective_detail", lambda o: {"objective_id": o["objective"].pk}, {}, 16),
    "pathway": ("pathway_detail", lambda o: {"pathway_id": o["pathway"].pk}, {}, 11),
    # The board reports: their page's plan and chart, without the cards, the write-back state
    # or the forms.
    "dashboard report": ("dashboard_report", lambda o: {}, {}, 14),  # +1: as the dashboard
    # (+1 since check-ins carry their earlier versions: okrs.selectors.track.live_check_ins)
    "objective report": ("objective_report", lambda o: {"objective_id": o["objective"].pk}, {}, 11),
    # +1 for the burn-up (its tasks' timestamps).
    "project": ("project_detail", lambda o: {"project_id": o["project"].pk}, {}, 8),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_data(viewer_client, page, django_assert_max_num_queries):
    client, objects = viewer_client
    name, kwargs_for, query, ceiling = PAGES[page]
    counts = {}
    for slug in ("small", "large"):
        url = reverse(name, kwargs={"org_slug": slug, **kwargs_for(objects[slug])})
        # Warm: marks the organization as the one used last (a write made only on a switch)
        # and loads the session the way every later request does.
        client.get(url, query)
        cache.clear()  # what the page computes, not what it found cached
        with django_assert_max_num_queries(ceiling) as captured:
            response = client.get(url, query)
        assert response.status_code == 200
        counts[slug] = len(captured)
    assert counts["small"] == counts["large"], f"{page}: {counts} at {SMALL} and {LARGE} projects"
    if page == "project list":
        listed = response.context["page"]
        assert listed.paginator.count == LARGE and len(listed.object_list) == 50


def test_a_cached_dashboard_costs_the_same_at_both_sizes(
    viewer_client, clock, django_assert_num_queries, session_queries
):
    """What nearly every request gets: the page from the cache (okrs.views.dashboard.org_home)."""
    client, _ = viewer_client
    for slug in ("small", "large"):
        url = reverse("org_home", kwargs={"org_slug": slug})
        client.get(url)
        with django_assert_num_queries(1 + session_queries):  # the user with their memberships
            assert client.get(url).status_code == 200


def test_the_archive_page_costs_the_same_at_both_sizes(
    viewer_client, django_assert_max_num_queries
):
    """A tenth of each organization's projects archived with their tasks, and some people: the
    Archive page reads one query a kind and one a kind of contents (okrs.selectors.archive)."""
    client, _ = viewer_client
    now = timezone.now()
    counts = {}
    for slug in ("small", "large"):
        organization = Organization.objects.get(slug=slug)
        projects = Project.objects.for_org(organization)
        archived = list(projects.values_list("pk", flat=True)[: projects.count() // 10])
        for pk in archived[-150:]:  # the newest: those the page lists (100 a kind at most)
            Task.objects.for_org(organization).filter(project_id=pk).update(
                archived_at=now,
                source_extra={ARCHIVED_HERE: now.isoformat(), ARCHIVED_WITH: f"project:{pk}"},
            )
        projects.filter(pk__in=archived).update(
            archived_at=now, source_extra={ARCHIVED_HERE: now.isoformat()}
        )
        Person.objects.for_org(organization).filter(
            pk__in=Person.objects.for_org(organization).values("pk")[:3]
        ).update(archived_at=now, source_extra={ARCHIVED_HERE: now.isoformat()})
        url = reverse("archive", kwargs={"org_slug": slug})
        client.get(url)
        cache.clear()
        # The session and the user with their memberships, 7 kinds, 3 kinds of contents.
        with django_assert_max_num_queries(12) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert "tasks" in response.content.decode()
        counts[slug] = len(captured)
    assert counts["small"] == counts["large"], counts


# Downloads (okrs.exports): the session, the user with their memberships, then the rows: one
# query each (two for a search, which ranks names first; one more for the plan's lists, which
# read the current cycle when none is asked for), whatever their number. Streamed CSV
# reads its rows while it is sent, so the body is read inside the measure.
EXPORTS = {
    "export_projects_csv": ({}, 3),
    "export_projects_xlsx": ({"q": "projct 1"}, 4),
    "export_tasks_csv": ({"overdue": "1"}, 3),
    "export_objectives_csv": ({}, 4),
    "export_key_results_csv": ({}, 4),
    "export_check_ins_csv": ({}, 4),
    "export_key_results_xlsx": ({"cycle": "all", "q": "result"}, 4),
    "export_tasks_xlsx": ({"q": "task"}, 4),
    "export_people_csv": ({}, 3),
}


@pytest.mark.parametrize("name", list(EXPORTS))
def test_a_download_costs_the_same_at_both_sizes(
    viewer_client, name, django_assert_max_num_queries
):
    client, _ = viewer_client
    query, ceiling = EXPORTS[name]
    counts = {}
    for slug in ("small", "large"):
        url = reverse(name, kwargs={"org_slug": slug})
        client.get(url, query)
        with django_assert_max_num_queries(ceiling) as captured:
            response = client.get(url, query)
            assert response.status_code == 200
            body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body
        counts[slug] = len(captured)
    assert counts["small"] == counts["large"], f"{name}: {counts}"


def test_my_mentions_cost_two_queries_at_both_sizes(organizations, django_assert_num_queries):
    user = get_user_model().objects.get(username="counter")
    with django_assert_num_queries(2):
        mentions = selectors.my_mentions(user=user)
    # Its person in each organization is mentioned once there; the newest first.
    assert len(mentions) == 2
    assert {m.organization.slug for m in mentions} == {"small", "large"}
    assert all('<span class="mention"' in str(m.comment.html) for m in mentions)
