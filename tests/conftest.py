from __future__ import annotations

import pytest
from django.core.cache import cache

from orgs.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: ids repeat between tests (SQLite reuses them after
    a rollback) and between runs (Redis outlives the test database)."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def session_queries(settings) -> int:
    """Queries a request spends loading its session: none when sessions are read from the
    cache (with Redis: settings.SESSION_ENGINE), one from the database otherwise."""
    return 0 if "cache" in settings.SESSION_ENGINE else 1


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme Health", slug="acme")


@pytest.fixture
def other_org(db):
    """A second organization kept at hand in every view test: its objects must stay out of reach."""
    return OrganizationFactory(name="Borealis Labs", slug="borealis")


@pytest.fixture
def member_of(db):
    """`member_of(org, role)` -> a user with that role in that organization."""

    def make(organization, role=Role.MEMBER, **user_fields):
        user = UserFactory(**user_fields)
        MembershipFactory(user=user, organization=organization, role=role)
        return user

    return make


@pytest.fixture
def owner(org, member_of):
    return member_of(org, Role.OWNER, username="olivia")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
