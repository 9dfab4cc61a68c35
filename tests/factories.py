"""Factories that keep every related object inside one organization.

Pass `organization=` to the outermost factory; sub-factories follow it through
`factory.SelfAttribute`, so a key result's objective, pathway and cycle share its organization.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from okrs.models import (
    CheckIn,
    Comment,
    Cycle,
    KeyResult,
    MetricType,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Membership, Organization, Person, Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.MEMBER


class OrgOwnedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    organization = factory.SubFactory(OrganizationFactory)


class PersonFactory(OrgOwnedFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.LazyAttribute(lambda p: f"{p.name.lower().replace(' ', '.')}@example.org")


class CycleFactory(OrgOwnedFactory):
    class Meta:
        model = Cycle

    name = "This quarter"
    starts_on = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=45))
    ends_on = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=45))


class PathwayFactory(OrgOwnedFactory):
    class Meta:
        model = Pathway

    name = factory.Sequence(lambda n: f"Pathway {n}")


class ObjectiveFactory(OrgOwnedFactory):
    class Meta:
        model = Objective

    title = factory.Sequence(lambda n: f"Objective {n}")
    pathway = factory.SubFactory(
        PathwayFactory, organization=factory.SelfAttribute("..organization")
    )
    cycle = factory.SubFactory(CycleFactory, organization=factory.SelfAttribute("..organization"))


class KeyResultFactory(OrgOwnedFactory):
    class Meta:
        model = KeyResult

    title = factory.Sequence(lambda n: f"Key result {n}")
    objective = factory.SubFactory(
        ObjectiveFactory, organization=factory.SelfAttribute("..organization")
    )
    metric_type = MetricType.NUMBER
    start_value = Decimal(0)
    current_value = Decimal(0)
    target_value = Decimal(100)


class CheckInFactory(OrgOwnedFactory):
    class Meta:
        model = CheckIn

    key_result = factory.SubFactory(
        KeyResultFactory, organization=factory.SelfAttribute("..organization")
    )
    value = Decimal(10)


class CommentFactory(OrgOwnedFactory):
    """A comment on an objective (made directly: `okrs.services.comment_create` finds its
    mentions)."""

    class Meta:
        model = Comment

    objective = factory.SubFactory(
        ObjectiveFactory, organization=factory.SelfAttribute("..organization")
    )
    body = factory.Sequence(lambda n: f"Comment {n}")


class ProjectFactory(OrgOwnedFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    pathway = factory.SubFactory(
        PathwayFactory, organization=factory.SelfAttribute("..organization")
    )
    status = ProjectStatus.ACTIVE


class TaskFactory(OrgOwnedFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
    project = factory.SubFactory(
        ProjectFactory, organization=factory.SelfAttribute("..organization")
    )
    status = TaskStatus.TODO
