"""`supabase_auth`: a fake Supabase Auth served for the test, and settings pointing at it.

    def test_something(supabase_auth, client):
        supabase_auth.create_user("ada@example.org", "s3cret-pass")   # a confirmed user
        client.post("/login/", {"username": "ada@example.org", "password": "s3cret-pass"})
        supabase_auth.last_mail("ada@example.org")                     # links and codes sent

ES256 tokens from the project's JWKS; `supabase_auth_hs256` is a project on the legacy shared
secret (SUPABASE_JWT_SECRET set). Imported into tests/conftest.py, so any test can use them.
"""

from __future__ import annotations

import pytest

from devtools.fakesupabase import FakeSupabaseAuth
from orgs.supabase.tokens import reset_jwks_cache

ANON_KEY = "fake-anon-key-for-tests-0123456789abcdef"
JWT_SECRET = "legacy-shared-secret-of-at-least-32-characters"


def _serve(settings, *, mode: str):
    fake = FakeSupabaseAuth(anon_key=ANON_KEY, mode=mode, jwt_secret=JWT_SECRET)
    fake.start()
    settings.SUPABASE_URL = fake.url
    settings.SUPABASE_ANON_KEY = ANON_KEY
    settings.SUPABASE_JWT_SECRET = JWT_SECRET if mode == "hs256" else ""
    reset_jwks_cache()
    return fake


@pytest.fixture
def supabase_auth(settings):
    fake = _serve(settings, mode="es256")
    try:
        yield fake
    finally:
        fake.stop()
        reset_jwks_cache()


@pytest.fixture
def supabase_auth_hs256(settings):
    fake = _serve(settings, mode="hs256")
    try:
        yield fake
    finally:
        fake.stop()
        reset_jwks_cache()
