"""The tenancy in the ORM: an organization-owned query that nobody scoped does not run.

Every way a queryset reaches the database is tried on every organization-owned model, so a
new model (or a Django release with a new way to run a query) is covered without anyone
listing it here.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Prefetch, Subquery

from okrs.models import KeyResult, Objective, Task
from orgs.models import Membership, OrgScoped, Person
from orgs.tenancy import UnscopedQueryError, live_q
from tests.factories import KeyResultFactory, PersonFactory, TaskFactory

pytestmark = pytest.mark.django_db

ORG_SCOPED_MODELS = [
    model
    for model in apps.get_models()
    if issubclass(model, OrgScoped) and not model._meta.abstract
]

WAYS_TO_RUN = {
    "iterate": lambda qs: list(qs),
    "len": lambda qs: len(qs),
    "bool": lambda qs: bool(qs),
    "index": lambda qs: qs[0],
    "get": lambda qs: qs.get(pk=1),
    "first": lambda qs: qs.first(),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "aggregate": lambda qs: qs.aggregate(n=Count("pk")),
    "values_list": lambda qs: list(qs.values_list("pk", flat=True)),
    "iterator": lambda qs: list(qs.iterator()),
    "in_bulk": lambda qs: qs.in_bulk([1]),
    "update": lambda qs: qs.update(organization_id=1),
    "delete": lambda qs: qs.delete(),
    "get_or_create": lambda qs: qs.get_or_create(pk=1),
}


def test_every_org_owned_model_is_found():
    names = {model.__name__ for model in ORG_SCOPED_MODELS}
    assert {"Person", "Pathway", "Objective", "KeyResult", "CheckIn", "Task", "Activity"} <= names
    assert {"Connection", "SyncRun", "SyncIssue"} <= names


@pytest.mark.parametrize("way", WAYS_TO_RUN)
@pytest.mark.parametrize("model", [*ORG_SCOPED_MODELS, Membership], ids=lambda m: m.__name__)
def test_an_unscoped_query_raises(model, way):
    with pytest.raises(UnscopedQueryError, match=rf"{model.__name__}\.objects\.for_org"):
        WAYS_TO_RUN[way](model.objects.filter(pk__gt=0))


def test_an_unscoped_async_iteration_raises():
    with pytest.raises(UnscopedQueryError):
        Person.objects.all().aiterator()


def test_the_error_says_where_the_query_ran():
    with pytest.raises(UnscopedQueryError, match=r"test_scoped_queries\.py:\d+"):
        Person.objects.count()


def test_scoped_queries_see_only_their_organization(org, other_org):
    mine = PersonFactory(organization=org, name="Mine")
    PersonFactory(organization=other_org, name="Theirs")
    assert list(Person.objects.for_org(org)) == [mine]
    assert Person.objects.unscoped().count() == 2


def test_scoping_survives_chaining(org, other_org):
    PersonFactory(organization=org, name="Ada")
    PersonFactory(organization=other_org, name="Ada")
    chained = Person.objects.for_org(org).filter(name="Ada").exclude(pk=0).order_by("pk")
    assert chained.tenancy_scope == "org"
    assert chained.count() == 1


def test_cross_organization_pages_see_every_organization_of_the_member(org, other_org, member_of):
    user = member_of(org)
    PersonFactory(organization=org)
    PersonFactory(organization=other_org)
    assert {p.organization_id for p in Person.objects.for_member(user)} == {org.pk}


def test_archived_rows_are_left_out_unless_asked_for(org):
    live = TaskFactory(organization=org)
    archived = TaskFactory(organization=org, project=live.project)
    Task.objects.for_org(org).filter(pk=archived.pk).update(archived_at=live.created_at)
    assert list(Task.objects.for_org(org)) == [live]
    assert set(Task.objects.for_org(org, include_archived=True)) == {live, archived}
    assert list(Task.objects.unscoped()) == [live]
    assert list(live.project.tasks.live()) == [live]
    assert live.project.tasks.filter(live_q()).count() == 1


def test_related_managers_and_prefetches_are_scoped_by_their_parent(org, other_org):
    key_result = KeyResultFactory(organization=org)
    KeyResultFactory(organization=other_org)
    objective = Objective.objects.for_org(org).get(pk=key_result.objective_id)
    assert list(objective.key_results.all()) == [key_result]  # a related manager runs
    [prefetched] = Objective.objects.for_org(org).prefetch_related(
        Prefetch("key_results", queryset=KeyResult.objects.order_by("pk"))
    )
    assert list(prefetched.key_results.all()) == [key_result]
    assert KeyResult.objects.for_org(org).get().objective == objective  # a forward link runs


def test_a_subquery_needs_no_scope_of_its_own(org):
    key_result = KeyResultFactory(organization=org)
    latest_title = KeyResult.objects.filter(objective=OuterRef("pk")).values("title")[:1]
    [objective] = Objective.objects.for_org(org).annotate(kr=Subquery(latest_title))
    assert objective.kr == key_result.title


def test_model_validation_still_checks_uniqueness(org, member_of):
    user = member_of(org)
    PersonFactory(organization=org, user=user)
    twin = Person(organization=org, name="Twin", user=user)
    with pytest.raises(ValidationError, match="already linked"):
        twin.full_clean()


def test_memberships_are_read_for_a_user_or_an_organization(org, other_org, member_of):
    user = member_of(org)
    assert [m.organization for m in Membership.objects.for_user(user)] == [org]
    assert Membership.objects.for_org(other_org).count() == 0
