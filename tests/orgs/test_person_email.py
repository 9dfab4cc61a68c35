"""One person per email in an organization, whatever its case: the form and the service refuse
a second with a message naming the first; the database holds it; other organizations may."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from orgs import services
from orgs.models import Membership, Person, Role
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    user = UserFactory()
    Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
    client.force_login(user)
    return client


@pytest.mark.parametrize("typed", ["maya@northwind.example", "  Maya@NorthWind.Example "])
def test_a_second_person_with_the_same_email_is_refused_naming_the_first(admin_client, org, typed):
    PersonFactory(organization=org, name="Maya Okafor", email="maya@northwind.example")
    response = admin_client.post(
        reverse("person_create", args=[org.slug]), {"name": "Maya O.", "email": typed}
    )
    assert response.status_code == 400  # the form again, with its errors
    assert "Maya Okafor already has the email maya@northwind.example" in response.content.decode()
    assert Person.objects.for_org(org).count() == 1


def test_editing_a_person_keeps_their_own_email(admin_client, org):
    maya = PersonFactory(organization=org, name="Maya", email="maya@northwind.example")
    response = admin_client.post(
        reverse("person_edit", args=[org.slug, maya.pk]),
        {"name": "Maya Okafor", "email": "MAYA@northwind.example"},
    )
    assert response.status_code == 302
    maya.refresh_from_db()
    assert (maya.name, maya.email) == ("Maya Okafor", "maya@northwind.example")


def test_the_service_refuses_too_and_departed_people_count(org):
    PersonFactory(
        organization=org, name="Jo Former", email="jo@x.example", departed_on="2026-01-01"
    )
    with pytest.raises(ValidationError) as refused:
        services.person_save(person=Person(organization=org, name="Jo", email="JO@x.example"))
    assert refused.value.message_dict["email"] == [
        "Jo Former (departed) already has the email jo@x.example: edit that person instead."
    ]


def test_the_database_refuses_a_repeat_in_any_case_but_not_blanks_or_other_orgs(org, other_org):
    PersonFactory(organization=org, email="sam@x.example")
    PersonFactory(organization=org, email="")
    PersonFactory(organization=org, email="")  # no email: as many as there are
    PersonFactory(organization=other_org, email="sam@x.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(organization=org, email="Sam@X.example")
