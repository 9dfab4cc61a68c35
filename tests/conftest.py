from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from orgs.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.supabase_fixtures import supabase_auth, supabase_auth_hs256  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: ids repeat between tests (SQLite reuses them after
    a rollback) and between runs (Redis outlives the test database)."""
    cache.clear()


@pytest.fixture(autouse=True)
def short_worker_pings(settings):
    # Pages ask whether a worker is there (missionos.workers); with Redis and no worker each
    # unanswered ping would wait its full second.
    settings.WORKER_PING_SECONDS = 0.2


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class StoppedClock:
    """What `django.utils.timezone.now()` answers while the `clock` fixture holds it."""

    def __init__(self, now: datetime.datetime) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock on: `clock.advance(minutes=1)`."""
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> StoppedClock:
    """Stop Django's clock (`timezone.now()`, which `timezone.localtime()` and `localdate()`
    read too) where it stands, so that a test's requests all fall in the same minute whatever
    the wall clock does meanwhile; only `clock.advance(...)` moves it. For pages cached per
    minute (the dashboard: okrs.views.dashboard), whose second request is a cache hit only
    within one."""
    stopped = StoppedClock(timezone.now())
    monkeypatch.setattr(timezone, "now", stopped)
    return stopped


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
