"""The data health page: viewers see findings, admins compute and mark them "not a problem";
another organization's finding answers 404; the page's queries do not grow with its findings;
the dashboard shows the score and links to the page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from health import selectors, services
from health.kinds import Kind
from health.models import Finding, FindingStatus, HealthAction
from health.selectors import SHOWN_PER_KIND
from okrs.models import Task
from orgs.models import Person, Role
from tests.factories import PersonFactory, TaskFactory


def plant_departed(org, count: int = 1) -> None:
    """Open tasks held by someone who left: one high finding each."""
    gone = PersonFactory(organization=org, name="Jo Former", departed_on=datetime.date(2026, 1, 31))
    for index in range(count):
        TaskFactory(organization=org, title=f"Orphaned {index}", assignee=gone)


def page_url(org, **query) -> str:
    url = reverse("health_page", kwargs={"org_slug": org.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def computed(org):
    plant_departed(org)
    services.findings_compute(organization=org)
    return Finding.objects.for_org(org).get(kind=Kind.TASK_DEPARTED_ASSIGNEE)


def test_a_viewer_sees_the_score_and_the_findings(client, org, member_of, computed):
    client.force_login(member_of(org, Role.VIEWER))
    html = client.get(page_url(org)).content.decode()
    assert "Data health" in html and "/100" in html
    assert "Still assigned to Jo Former, who left on 31 Jan 2026." in html
    assert "Tasks held by people who left" in html
    assert "Not a problem" not in html  # viewers see, admins act
    assert "Compute now" not in html


def test_filters_by_kind_and_severity_and_refuse_garbage(owner_client, org, computed):
    html = owner_client.get(page_url(org, kind="task_unassigned")).content.decode()
    assert "Jo Former" not in html and "No open finding of that kind" in html
    html = owner_client.get(page_url(org, kind="<script>", severity="x")).content.decode()
    assert "Jo Former" in html  # unknown values are ignored, not an error
    html = owner_client.get(page_url(org, severity="high")).content.decode()
    assert "Jo Former" in html


def test_an_admin_marks_a_finding_not_a_problem_and_back(client, org, member_of, computed):
    client.force_login(member_of(org, Role.ADMIN))
    url = reverse("finding_dismiss", kwargs={"org_slug": org.slug, "finding_id": computed.pk})
    answer = client.post(url, {"kind": "task_departed_assignee", "next": "https://evil.example"})
    assert answer.status_code == 302
    assert answer["Location"] == page_url(org, kind="task_departed_assignee")
    computed.refresh_from_db()
    assert computed.status == FindingStatus.DISMISSED
    html = client.get(page_url(org)).content.decode()
    assert "Still assigned to Jo Former" not in html and "1 marked not a problem" in html
    html = client.get(page_url(org, status="dismissed")).content.decode()
    assert "Still assigned to Jo Former" in html and "Show again" in html
    client.post(url, {"undo": "1"})
    computed.refresh_from_db()
    assert computed.status == FindingStatus.OPEN


def test_members_cannot_act_and_outsiders_get_404(client, org, other_org, member_of, computed):
    url = reverse("finding_dismiss", kwargs={"org_slug": org.slug, "finding_id": computed.pk})
    client.force_login(member_of(org, Role.MEMBER))
    assert client.post(url).status_code == 403
    assert (
        client.post(reverse("health_recompute", kwargs={"org_slug": org.slug})).status_code == 403
    )
    # An admin of another organization: that organization's URL with this finding's id.
    client.force_login(member_of(other_org, Role.ADMIN))
    foreign = reverse(
        "finding_dismiss", kwargs={"org_slug": other_org.slug, "finding_id": computed.pk}
    )
    assert client.post(foreign).status_code == 404
    assert client.get(page_url(org)).status_code == 404  # not a member of this one
    computed.refresh_from_db()
    assert computed.status == FindingStatus.OPEN


def test_compute_now_reports_what_changed(owner_client, org):
    plant_departed(org, 2)
    answer = owner_client.post(
        reverse("health_recompute", kwargs={"org_slug": org.slug}), follow=True
    )
    new = Finding.objects.for_org(org).count()
    assert new >= 2 and f"{new} new finding(s), 0 resolved." in answer.content.decode()


@pytest.mark.parametrize("findings", [1, 40])
def test_the_page_costs_the_same_queries_whatever_its_findings(
    owner_client, org, findings, django_assert_num_queries, session_queries
):
    plant_departed(org, findings)
    services.findings_compute(organization=org)
    owner_client.get(page_url(org))  # warm whatever the first request loads once
    # user and membership, the counts by kind, the findings shown (the first of each kind),
    # the reassignments of the departed people's tasks, latest snapshot, trend, recent fixes,
    # people, the viewer's weekly email switch
    with django_assert_num_queries(session_queries + 9):
        assert owner_client.get(page_url(org)).status_code == 200


def test_the_dashboard_shows_the_score_and_links_to_the_page(owner_client, org, computed):
    html = owner_client.get(reverse("org_home", kwargs={"org_slug": org.slug})).content.decode()
    assert 'id="health-status"' in html
    assert page_url(org) in html and "/100" in html


def test_a_fix_is_previewed_then_applied_then_undone(client, org, member_of, computed):
    admin = member_of(org, Role.ADMIN)
    client.force_login(admin)
    gone = Person.objects.for_org(org).get(name="Jo Former")
    maya = PersonFactory(organization=org, name="Maya Okafor")
    html = client.get(page_url(org)).content.decode()
    assert "Give Jo Former's open task (1) to" in html
    fix = reverse("health_fix", kwargs={"org_slug": org.slug})
    query = {"action": "reassign_tasks", "person": gone.pk, "to": maya.pk}
    preview = client.get(fix, query)
    assert "Orphaned 0: Jo Former → Maya Okafor" in preview.content.decode()
    assert "<h1>Give Jo Former&#x27;s open tasks to Maya Okafor?</h1>" in preview.content.decode()
    assert Task.objects.for_org(org).get(title="Orphaned 0").assignee == gone  # nothing yet
    done = client.post(fix, {**query, "confirm": "1"}, follow=True).content.decode()
    assert "Reassigned Jo Former&#x27;s open tasks to Maya Okafor: 1 change(s)" in done
    assert Task.objects.for_org(org).get(title="Orphaned 0").assignee == maya
    action = HealthAction.objects.for_org(org).get()
    assert action.actor == admin and action.changes[0]["before"] == gone.pk
    undo = reverse("health_undo", kwargs={"org_slug": org.slug, "action_id": action.pk})
    assert "Undone:" in client.post(undo, follow=True).content.decode()
    assert Task.objects.for_org(org).get(title="Orphaned 0").assignee == gone


def test_a_fix_with_garbage_or_another_organizations_ids_changes_nothing(
    client, org, other_org, member_of, computed
):
    client.force_login(member_of(org, Role.ADMIN))
    fix = reverse("health_fix", kwargs={"org_slug": org.slug})
    stranger = PersonFactory(organization=other_org, name="Stranger")
    gone = Person.objects.for_org(org).get(name="Jo Former")
    answer = client.post(
        fix, {"action": "reassign_tasks", "person": gone.pk, "to": stranger.pk, "confirm": "1"}
    )
    assert answer.status_code == 404
    answer = client.get(fix, {"action": "reassign_tasks", "person": "x"}, follow=True)
    assert "That form was incomplete" in answer.content.decode()
    answer = client.get(fix, {"action": "launch_rockets"}, follow=True)
    assert "Unknown action." in answer.content.decode()
    answer = client.get(fix, {"action": "reassign_tasks", "person": gone.pk}, follow=True)
    assert "Choose who takes the tasks." in answer.content.decode()
    assert not HealthAction.objects.for_org(org).exists()
    client.force_login(member_of(org, Role.MEMBER))
    assert client.get(fix, {"action": "reassign_tasks"}).status_code == 403


@pytest.mark.parametrize("size", [1, 30])
def test_a_computation_costs_the_same_queries_at_two_sizes(org, size, django_assert_num_queries):
    """Detectors read in a fixed number of queries, whatever the number of rows or findings
    (the schema, the latest runs and the check-ins are read once per computation)."""
    plant_departed(org, size)
    services.findings_compute(organization=org)  # the first creates; the second compares
    with django_assert_num_queries(QUERIES_PER_COMPUTATION):
        services.findings_compute(organization=org)


# Pinned so that a query per row, or a detector reading again what another read, shows. Most
# are counts: the score's populations (one per synced model), and one read per detector.
QUERIES_PER_COMPUTATION = 55


def test_the_page_reads_the_first_of_each_kind_and_counts_them_all(org):
    """The page's groups are counted in the database and read 8 rows each (an old base has
    tens of thousands of findings): the count, "more" and the reassignments cover them all."""
    plant_departed(org, SHOWN_PER_KIND + 4)
    services.findings_compute(organization=org)
    dismissed = Finding.objects.for_org(org).filter(kind=Kind.TASK_DEPARTED_ASSIGNEE).first()
    services.finding_dismiss(finding=dismissed, actor=None)

    page = selectors.health_page(org)
    group = next(g for g in page.groups if g.kind == Kind.TASK_DEPARTED_ASSIGNEE)
    assert (len(group.shown), group.count, group.more) == (SHOWN_PER_KIND, 11, 3)
    best_first = (
        Finding.objects.for_org(org)
        .filter(kind=Kind.TASK_DEPARTED_ASSIGNEE, resolved_at=None)
        .exclude(pk=dismissed.pk)
        .order_by("-score", "pk")
        .values_list("pk", flat=True)
    )
    assert [finding.pk for finding in group.shown] == list(best_first[:SHOWN_PER_KIND])
    assert [entry["tasks"] for entry in group.reassignments] == [11]
    assert page.counts[Kind.TASK_DEPARTED_ASSIGNEE] == 11 and page.dismissed == 1

    whole_kind = selectors.health_page(org, kind=Kind.TASK_DEPARTED_ASSIGNEE)
    assert len(whole_kind.groups[0].shown) == whole_kind.groups[0].count == 11
    not_a_problem = selectors.health_page(org, status=FindingStatus.DISMISSED)
    assert [f.pk for g in not_a_problem.groups for f in g.shown] == [dismissed.pk]
