"""Drill-down keeps the dashboard's context: the pathway and objective pages show the cycle
and the "as of" day the dashboard showed, every link between them carries both, and the
dashboard's recent check-ins are the selected cycle's."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from okrs import selectors
from orgs.models import Membership, Role
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - days * DAY


@pytest.fixture
def two_cycles(org, other_org):
    """One pathway with an objective in last quarter and one in this quarter; the current
    objective's key result moved 20 -> 60 (check-ins 20 and 3 days ago)."""
    today = timezone.localdate()
    past = CycleFactory(
        organization=org, name="Q past", starts_on=today - 200 * DAY, ends_on=today - 110 * DAY
    )
    now = CycleFactory(
        organization=org, name="Q now", starts_on=today - 45 * DAY, ends_on=today + 45 * DAY
    )
    pathway = PathwayFactory(organization=org, name="Access")
    old = ObjectiveFactory(organization=org, pathway=pathway, cycle=past, title="Old aim")
    old_kr = KeyResultFactory(organization=org, objective=old, title="Old clinics")
    CheckInFactory(
        organization=org, key_result=old_kr, value=90, note="old note", checked_in_at=days_ago(150)
    )
    current = ObjectiveFactory(organization=org, pathway=pathway, cycle=now, title="New aim")
    kr = KeyResultFactory(
        organization=org, objective=current, start_value=0, target_value=100, current_value=60
    )
    CheckInFactory(
        organization=org, key_result=kr, value=20, note="early note", checked_in_at=days_ago(20)
    )
    CheckInFactory(
        organization=org, key_result=kr, value=60, note="late note", checked_in_at=days_ago(3)
    )
    user = UserFactory()
    Membership.objects.create(user=user, organization=org, role=Role.MEMBER)
    foreign = CycleFactory(organization=other_org)
    return {
        "past": past,
        "now": now,
        "pathway": pathway,
        "old": old,
        "current": current,
        "user": user,
        "foreign": foreign,
    }


def links(html: str, name: str, *args) -> set[str]:
    base = reverse(name, args=args)
    return {
        href.replace("&amp;", "&")
        for href in re.findall(r'href="([^"]*)"', html)
        if href.split("?")[0].split("#")[0] == base
    }


def test_the_pathway_page_shows_one_cycle_never_a_mix(client, org, two_cycles):
    client.force_login(two_cycles["user"])
    url = reverse("pathway_detail", args=[org.slug, two_cycles["pathway"].pk])
    html = client.get(url).content.decode()
    assert "New aim" in html and "Old aim" not in html  # the cycle on the day
    html = client.get(url, {"cycle": two_cycles["past"].pk}).content.decode()
    assert "Old aim" in html and "New aim" not in html
    assert "Progress in Q past" in html


def test_the_pathway_page_as_of_a_day_shows_progress_then(org, two_cycles):
    pathway = two_cycles["pathway"]
    now = selectors.pathway_page(organization=org, pathway_id=pathway.pk)
    then = selectors.pathway_page(
        organization=org, pathway_id=pathway.pk, as_of=timezone.localdate() - 10 * DAY
    )
    assert now["pathway"].progress == pytest.approx(0.6)
    assert then["pathway"].progress == pytest.approx(0.2)
    [objective] = then["objectives"]
    assert objective.progress == pytest.approx(0.2)


def test_the_objective_page_as_of_a_day_shows_values_and_check_ins_then(client, org, two_cycles):
    client.force_login(two_cycles["user"])
    url = reverse("objective_detail", args=[org.slug, two_cycles["current"].pk])
    past = (timezone.localdate() - 10 * DAY).isoformat()
    html = client.get(url, {"as_of": past}).content.decode()
    assert "early note" in html and "late note" not in html
    assert 'aria-valuenow="20"' in html
    assert "Showing the plan as it stood" in html
    assert 'class="check-in"' not in html  # no check-in into a past day
    assert "data-live" not in html
    html = client.get(url).content.decode()
    assert "late note" in html and 'class="check-in"' in html


def test_links_from_the_dashboard_down_and_back_carry_the_cycle_and_day(client, org, two_cycles):
    client.force_login(two_cycles["user"])
    past, pathway = two_cycles["past"], two_cycles["pathway"]
    day = (timezone.localdate() - 120 * DAY).isoformat()
    query = f"?cycle={past.pk}&as_of={day}"
    home = client.get(reverse("org_home", args=[org.slug]) + query).content.decode()
    assert links(home, "pathway_detail", org.slug, pathway.pk) == {
        reverse("pathway_detail", args=[org.slug, pathway.pk]) + query,
        reverse("pathway_detail", args=[org.slug, pathway.pk]) + query + "#objectives-h",
    }
    page = client.get(reverse("pathway_detail", args=[org.slug, pathway.pk]) + query)
    html = page.content.decode()
    assert links(html, "objective_detail", org.slug, two_cycles["old"].pk) == {
        reverse("objective_detail", args=[org.slug, two_cycles["old"].pk]) + query
    }
    crumbs = re.search(r'<p class="crumbs">.*?</p>', html).group(0).replace("&amp;", "&")
    assert f'href="{reverse("org_home", args=[org.slug])}{query}"' in crumbs
    objective = client.get(
        reverse("objective_detail", args=[org.slug, two_cycles["old"].pk]) + query
    ).content.decode()
    assert reverse("pathway_detail", args=[org.slug, pathway.pk]) + query in {
        href.replace("&amp;", "&") for href in re.findall(r'href="([^"]*)"', objective)
    }


def test_another_organizations_cycle_is_not_found(client, org, two_cycles):
    client.force_login(two_cycles["user"])
    url = reverse("pathway_detail", args=[org.slug, two_cycles["pathway"].pk])
    assert client.get(url, {"cycle": two_cycles["foreign"].pk}).status_code == 404
    assert client.get(url, {"cycle": "abc"}).status_code == 404


def test_recent_check_ins_on_the_dashboard_are_the_selected_cycles(org, two_cycles):
    now = selectors.dashboard(organization=org)
    assert {c.note for c in now.recent_check_ins} == {"early note", "late note"}
    past = selectors.dashboard(organization=org, cycle_id=two_cycles["past"].pk)
    assert {c.note for c in past.recent_check_ins} == {"old note"}
