"""Page query counts do not grow with the data: each page is measured in a small and a large
organization (10 and 500 projects) side by side, and pinned below a fixed ceiling."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orgs.models import Membership, Role
from tests.builders import build_organization as build
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 500


@pytest.fixture
def viewer_client(client):
    user = UserFactory(username="counter")
    small = OrganizationFactory(slug="small")
    large = OrganizationFactory(slug="large")
    Membership.objects.create(user=user, organization=small, role=Role.OWNER)
    Membership.objects.create(user=user, organization=large, role=Role.OWNER)
    client.force_login(user)
    objects = {"small": build(small, SMALL), "large": build(large, LARGE)}
    # Visit both once so that the "last organization used" write is not counted.
    for slug in objects:
        client.get(reverse("org_home", args=[slug]))
    return client, objects


# page -> (URL name, URL kwargs from the built objects, query string, queries allowed)
PAGES = {
    "dashboard": ("org_home", lambda o: {}, {}, 12),
    "project list": ("project_list", lambda o: {}, {}, 8),
    "project search": ("project_list", lambda o: {}, {"q": "projct 1"}, 8),
    "objective": ("objective_detail", lambda o: {"objective_id": o["objective"].pk}, {}, 10),
    "pathway": ("pathway_detail", lambda o: {"pathway_id": o["pathway"].pk}, {}, 9),
    "project": ("project_detail", lambda o: {"project_id": o["project"].pk}, {}, 7),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_data(viewer_client, page, django_assert_max_num_queries):
    client, objects = viewer_client
    name, kwargs_for, query, ceiling = PAGES[page]
    counts = {}
    for slug in ("small", "large"):
        url = reverse(name, kwargs={"org_slug": slug, **kwargs_for(objects[slug])})
        client.get(url, query)  # warm: later requests load the session the same way
        with django_assert_max_num_queries(ceiling) as captured:
            response = client.get(url, query)
        assert response.status_code == 200
        counts[slug] = len(captured)
    assert counts["small"] == counts["large"], f"{page}: {counts} at {SMALL} and {LARGE} projects"
    if page == "project list":
        listed = response.context["page"]
        assert listed.paginator.count == LARGE and len(listed.object_list) == 50
