"""Issue 14: an objective page's comment threads, as its open pages fetch them when someone
comments (okrs.views.track.objective_comments): for the viewer, lists only, this organization's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from okrs import services
from orgs.models import Role
from tests.factories import KeyResultFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db


def comments_url(org, objective) -> str:
    return reverse(
        "objective_comments", kwargs={"org_slug": org.slug, "objective_id": objective.pk}
    )


@pytest.fixture
def objective(org):
    objective = ObjectiveFactory(organization=org, title="Reach every district")
    KeyResultFactory.create_batch(2, organization=org, objective=objective)
    return objective


def test_the_threads_come_for_the_viewer_as_lists_swapped_out_of_band(
    client, org, objective, member_of
):
    author, reader = member_of(org, username="ann"), member_of(org, username="ben")
    kr = objective.key_results.order_by("id").first()
    mine = services.comment_create(author=author, body="Ann's note", objective=objective)
    services.comment_create(author=reader, body="Ben's note", key_result=kr)
    client.force_login(reader)
    response = client.get(comments_url(org, objective), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    for dom_id in [f"comments-objective-{objective.pk}"] + [
        f"comments-kr-{k.pk}" for k in objective.key_results.all()
    ]:
        assert f'id="{dom_id}-list" hx-swap-oob="true"' in html
    assert "Ann&#x27;s note" in html and "Ben&#x27;s note" in html
    # Ben may change his own comment, not Ann's; and no form comes: what he types stays.
    comment_ids = [c.pk for c in kr.comments.all()]
    assert reverse("comment_edit", args=[org.slug, comment_ids[0]]) in html
    assert reverse("comment_edit", args=[org.slug, mine.pk]) not in html
    assert "<textarea" not in html and "comment-form" not in html


def test_the_page_listens_for_its_objectives_comments(client, org, objective, owner):
    client.force_login(owner)
    page = client.get(
        reverse("objective_detail", kwargs={"org_slug": org.slug, "objective_id": objective.pk})
    ).content.decode()
    # Under the test client (WSGI) there is no stream: it polls the same fragment.
    assert f'hx-get="{comments_url(org, objective)}"' in page
    assert f'id="comments-objective-{objective.pk}-list"' in page


def test_another_organizations_objective_is_404_and_visitors_log_in(
    client, org, other_org, member_of
):
    foreign = ObjectiveFactory(organization=other_org)
    client.force_login(member_of(org, Role.VIEWER))
    assert client.get(comments_url(org, foreign)).status_code == 404
    assert client.get(comments_url(other_org, foreign)).status_code == 404  # not a member
    assert client.post(comments_url(org, ObjectiveFactory(organization=org))).status_code == 405
    client.logout()
    assert client.get(comments_url(org, foreign)).status_code == 302


@pytest.mark.parametrize("comments_per_thread", [1, 12])
def test_the_threads_cost_the_same_whatever_the_number_of_comments(
    client,
    org,
    objective,
    member_of,
    comments_per_thread,
    django_assert_num_queries,
    session_queries,
):
    author = member_of(org, username="ann")
    services.comment_create(author=author, body="first", objective=objective)  # warm
    for record in [{"objective": objective}] + [
        {"key_result": kr} for kr in objective.key_results.all()
    ]:
        for number in range(comments_per_thread):
            services.comment_create(author=author, body=f"note {number}", **record)
    client.force_login(author)
    client.get(comments_url(org, objective))  # the first visit notes the membership's use
    # The user with memberships, the objective, its key results, the comments with authors.
    with django_assert_num_queries(4 + session_queries):
        response = client.get(comments_url(org, objective))
    assert response.content.decode().count('class="comment"') == 3 * comments_per_thread + 1
