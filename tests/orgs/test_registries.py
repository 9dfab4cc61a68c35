"""The registries through which the apps above orgs and okrs tell them what they own: what an
activity line can point at, the dashboard's cards, where a synced record comes from."""

from __future__ import annotations

import pytest
from django.urls import reverse

from okrs.dashboard_cards import DashboardCard, dashboard_card, dashboard_cards, register_card
from orgs.activity import TargetKind, register_target, target_choices, target_kind
from orgs.models import Activity


def test_every_app_registered_its_activity_targets():
    names = {name for name, _ in target_choices()}
    assert {"person", "cycle", "pathway", "objective", "project", "sync_run"} <= names
    assert target_kind("sync_run").unattended_actor == "Airtable"
    assert target_kind("person").required == "manage_people"


def test_the_activity_field_offers_the_registered_kinds():
    field = Activity._meta.get_field("target")
    assert dict(field.choices) == dict(target_choices())


def test_two_apps_cannot_claim_one_target_kind():
    with pytest.raises(ValueError, match="already registered"):
        register_target(TargetKind("pathway", "Something else"))
    register_target(target_kind("pathway"))  # the same kind again is harmless


def test_the_sync_card_is_on_the_dashboard():
    card = dashboard_card("sync")
    assert card in dashboard_cards()
    assert card.template == "sync/dashboard_card.html"
    with pytest.raises(ValueError, match="already registered"):
        register_card(DashboardCard("sync", "other.html", lambda organization: {}))


@pytest.mark.django_db
def test_a_line_of_an_unregistered_kind_links_nowhere(org, member_of, client):
    Activity.objects.create(
        organization=org, verb="did", subject="Something retired", target="retired_kind"
    )
    client.force_login(member_of(org))
    page = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Something retired" in page
    assert "retired_kind" not in page
