"""Owners manage memberships (joining is by invitation: test_invitations.py); people stay in
the directory when they leave."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from orgs.models import Membership, Person, Role
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_last_owner_cannot_be_demoted_or_removed(owner_client, org, owner):
    membership = Membership.objects.unscoped().get(user=owner, organization=org)
    response = owner_client.post(
        reverse("member_role", args=[org.slug, membership.pk]), {"role": "viewer"}, follow=True
    )
    assert "An organization needs at least one owner." in response.content.decode()
    owner_client.post(reverse("member_remove", args=[org.slug, membership.pk]))
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_can_step_down_when_another_owner_exists(owner_client, org, owner, member_of):
    member_of(org, Role.OWNER)
    membership = Membership.objects.unscoped().get(user=owner, organization=org)
    owner_client.post(reverse("member_role", args=[org.slug, membership.pk]), {"role": "admin"})
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_role_garbage_is_refused(owner_client, org, member_of):
    target = Membership.objects.unscoped().get(user=member_of(org, Role.MEMBER))
    response = owner_client.post(
        reverse("member_role", args=[org.slug, target.pk]), {"role": "superuser"}, follow=True
    )
    assert "Choose one of the listed roles." in response.content.decode()
    target.refresh_from_db()
    assert target.role == Role.MEMBER


def test_marking_a_person_departed_keeps_them(owner_client, org):
    person = PersonFactory(organization=org, name="Jo Bloggs")
    response = owner_client.post(
        reverse("person_edit", args=[org.slug, person.pk]),
        {"name": "  Jo   Bloggs ", "email": " JO@Example.org ", "departed_on": "2026-09-30"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.departed_on == datetime.date(2026, 9, 30)
    assert (person.name, person.email) == ("Jo Bloggs", "jo@example.org")
    page = owner_client.get(reverse("people_list", args=[org.slug])).content.decode()
    assert "Left 30 Sep 2026" in page


def test_person_with_bad_email_is_refused(owner_client, org):
    response = owner_client.post(
        reverse("person_create", args=[org.slug]), {"name": "Al", "email": "not an email"}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Person.objects.unscoped(include_archived=True).filter(name="Al").exists()


def test_service_checks_the_stored_role_not_the_instance(org, owner):
    """Regression: a form had already put the new role on the instance, so the last-owner
    check saw "viewer" and let the only owner demote themselves."""
    from django.core.exceptions import ValidationError

    from orgs.services import membership_change_role

    membership = Membership.objects.unscoped().get(user=owner, organization=org)
    membership.role = Role.VIEWER  # as ModelForm validation would leave it
    with pytest.raises(ValidationError):
        membership_change_role(membership=membership, role=Role.VIEWER)
    assert Membership.objects.unscoped().get(pk=membership.pk).role == Role.OWNER


def test_linking_a_person_to_an_account(owner_client, org, other_org, member_of):
    colleague = member_of(org, Role.MEMBER, username="casey")
    stranger = member_of(other_org, Role.MEMBER, username="stranger")
    person = PersonFactory(organization=org, name="Casey Wu")
    form_url = reverse("person_edit", args=[org.slug, person.pk])

    response = owner_client.post(form_url, {"name": "Casey Wu", "user": stranger.pk})
    assert response.status_code == 400  # not a member here
    assert "Select a valid choice" in response.content.decode()

    assert (
        owner_client.post(form_url, {"name": "Casey Wu", "user": colleague.pk}).status_code == 302
    )
    person.refresh_from_db()
    assert person.user == colleague

    # One directory entry per account: a second link is refused with a message, not a crash.
    twin = PersonFactory(organization=org, name="Casey W.")
    response = owner_client.post(
        reverse("person_edit", args=[org.slug, twin.pk]), {"name": "Casey W.", "user": colleague.pk}
    )
    assert response.status_code == 400
    assert "casey is already linked to Casey Wu." in response.content.decode()
    twin.refresh_from_db()
    assert twin.user is None


def test_removing_a_member_asks_first_and_keeps_their_work(owner_client, org, member_of):
    """Found in review: one click on "Remove" removed the member, with no way back."""
    member = member_of(org, Role.MEMBER, username="maya")
    membership = Membership.objects.unscoped().get(user=member, organization=org)
    remove = reverse("member_remove", args=[org.slug, membership.pk])
    members_page = owner_client.get(reverse("member_list", args=[org.slug])).content.decode()
    assert f'href="{remove}"' in members_page  # a link to the question, not a POST

    question = owner_client.get(remove).content.decode()
    assert "Remove maya from Acme Health?" in question
    assert "Nothing they recorded is deleted" in question
    assert Membership.objects.unscoped().filter(pk=membership.pk).exists()  # asking removed nothing

    owner_client.post(remove)
    assert not Membership.objects.unscoped().filter(pk=membership.pk).exists()
