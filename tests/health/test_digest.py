"""The weekly data health email: to each admin and owner who has not switched it off, one
message each, with what is new, what was fixed, the score's move and a link to the page; none
in a week with nothing to say; beat's task sends every organization's."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from health import digest, services
from health.tasks import send_digests
from orgs.models import Role
from tests.factories import PersonFactory, TaskFactory


@pytest.fixture
def team(org, member_of):
    return {
        "owner": member_of(org, Role.OWNER, email="olivia@acme.example"),
        "admin": member_of(org, Role.ADMIN, email="ada@acme.example"),
        "quiet": member_of(org, Role.ADMIN, email="quiet@acme.example"),
        "member": member_of(org, Role.MEMBER, email="mo@acme.example"),
        "no_email": member_of(org, Role.ADMIN, email=""),
    }


def week(org, now):
    """A week ago a clean plan; now a task held by someone who left."""
    services.findings_compute(organization=org, now=now - datetime.timedelta(days=8))
    gone = PersonFactory(organization=org, name="Jo Former", departed_on=datetime.date(2026, 1, 5))
    TaskFactory(organization=org, title="Call suppliers", assignee=gone)
    services.findings_compute(organization=org, now=now)


@override_settings(SITE_URL="https://okr.acme.example")
def test_admins_get_what_is_new_and_the_score_with_a_link(org, team, mailoutbox):
    now = timezone.now()
    week(org, now)
    digest.digest_switch(organization=org, user=team["quiet"], enabled=False)
    assert digest.digest_send(organization=org, now=now) == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@acme.example", "olivia@acme.example"]
    message = mailoutbox[0]
    assert message.subject.startswith("Data health of Acme Health: ")
    assert "Still assigned to Jo Former, who left on 5 Jan 2026." in message.body
    assert "(a week ago: 100)" in message.body
    assert "https://okr.acme.example/o/acme/health/" in message.body
    html = message.alternatives[0][0]
    assert 'href="https://okr.acme.example/o/acme/health/"' in html


def test_a_quiet_week_sends_nothing_and_beat_sends_every_organization(org, team, mailoutbox):
    now = timezone.now()
    services.findings_compute(organization=org, now=now - datetime.timedelta(days=8))
    services.findings_compute(organization=org, now=now)
    assert digest.digest_send(organization=org, now=now) == 0
    week(org, now)
    send_digests()
    assert len(mailoutbox) == 3  # owner and both admins with an address


def test_an_admin_switches_it_off_and_on_from_the_page(client, org, team):
    client.force_login(team["admin"])
    page = reverse("health_page", kwargs={"org_slug": org.slug})
    assert "Stop the email" in client.get(page).content.decode()
    url = reverse("health_digest", kwargs={"org_slug": org.slug})
    answer = client.post(url, {"enabled": "0"}, follow=True).content.decode()
    assert "The weekly data health email is off for you." in answer and "Email me weekly" in answer
    assert digest.digest_recipients(org) == [
        "olivia@acme.example",
        "quiet@acme.example",
    ]
    client.post(url, {"enabled": "1"})
    assert "ada@acme.example" in digest.digest_recipients(org)
    client.force_login(team["member"])
    assert client.post(url, {"enabled": "0"}).status_code == 403
