"""Signing in through Supabase Auth (orgs/supabase/) against the fake in devtools/fakesupabase/,
with the real supabase-py client: the token is verified here before any Django session exists,
each bad token is refused with a message and one tokenless log line, and a Supabase user is
exactly one Django user."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model

from orgs.models import SupabaseIdentity
from orgs.supabase.errors import SignInRefused
from orgs.supabase.identities import user_for_supabase_user
from tests.factories import PASSWORD as LOCAL_PASSWORD
from tests.factories import UserFactory
from tests.orgs.supabase_helpers import PASSWORD, capture_tokens, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()
REFUSED = "Sign-in refused: the token from Supabase could not be trusted"


def signed_in_user(client):
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


# -- first sign-in, linking, one user per Supabase user ----------------------------------------


def test_first_password_sign_in_creates_the_user_and_rotates_the_session(supabase_auth, client):
    remote = supabase_auth.create_user("ada@example.org", PASSWORD)
    session = client.session
    session["before"] = "login"
    session.save()
    key_before = session.session_key

    response = sign_in(client, "ada@example.org")

    assert response.status_code == 302 and response.url == "/"
    user = signed_in_user(client)
    assert user.email == "ada@example.org" and not user.has_usable_password()
    identity = SupabaseIdentity.objects.get()
    assert (str(identity.supabase_user_id), identity.user) == (remote.id, user)
    assert client.session.session_key != key_before  # login() rotated it
    assert client.session["before"] == "login"


def test_signing_in_again_is_the_same_user(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    sign_in(client, "ada@example.org")
    first = signed_in_user(client)
    client.logout()
    sign_in(client, "ADA@example.org")
    assert signed_in_user(client) == first
    assert User.objects.count() == 1 and SupabaseIdentity.objects.count() == 1


def test_a_verified_email_links_the_existing_local_user(supabase_auth, client):
    local = UserFactory(username="ada", email="Ada.Lovelace@Example.org")
    supabase_auth.create_user("ada.lovelace@example.org", PASSWORD)

    assert sign_in(client, "ada.lovelace@example.org").status_code == 302

    assert signed_in_user(client) == local
    assert User.objects.count() == 1
    assert SupabaseIdentity.objects.get().user == local


def test_an_unverified_email_links_nothing(supabase_auth, client):
    local = UserFactory(username="ada", email="ada@example.org")
    supabase_auth.create_user("ada@example.org", PASSWORD, confirmed=False)

    response = sign_in(client, "ada@example.org")

    assert response.status_code == 200
    assert "Confirm your email address first" in response.content.decode()
    assert signed_in_user(client) is None
    assert not SupabaseIdentity.objects.exists()
    assert User.objects.get() == local


def test_an_unverified_supabase_address_is_never_attached_to_a_local_account(db):
    # A Supabase session can carry an unconfirmed address (a project without confirmations):
    # the mapping itself refuses it, whatever account has the address.
    local = UserFactory(username="ada", email="ada@example.org")
    with pytest.raises(SignInRefused) as refused:
        user_for_supabase_user(
            supabase_user_id="5f0c1d8e-7d7e-4f6a-9a31-3d2b8a4c1e10",
            email="ADA@example.org",
            email_confirmed=False,
        )
    assert refused.value.code == "unconfirmed_email"
    assert "Confirm your email address" in refused.value.message
    assert not SupabaseIdentity.objects.exists()
    assert User.objects.get() == local


def test_a_local_account_already_linked_is_not_linked_twice(supabase_auth, client):
    local = UserFactory(username="ada", email="ada@example.org")
    SupabaseIdentity.objects.create(
        user=local, supabase_user_id="5f0c1d8e-7d7e-4f6a-9a31-3d2b8a4c1e10", email="x@example.org"
    )
    supabase_auth.create_user("ada@example.org", PASSWORD)
    response = sign_in(client, "ada@example.org")
    assert "linked to another sign-in" in response.content.decode()
    assert signed_in_user(client) is None and SupabaseIdentity.objects.count() == 1


def test_wrong_password_is_refused_and_the_local_password_is_not_checked(supabase_auth, client):
    UserFactory(username="dana", email="dana@example.org")  # local password LOCAL_PASSWORD
    supabase_auth.create_user("dana@example.org", PASSWORD)

    for username, password in [
        ("dana@example.org", "not-the-password"),
        ("dana", LOCAL_PASSWORD),
        ("dana@example.org", LOCAL_PASSWORD),
    ]:
        response = client.post("/login/", {"username": username, "password": password})
        assert response.status_code == 200
        assert signed_in_user(client) is None
    assert "do not match an account" in response.content.decode()


# -- token verification ------------------------------------------------------------------------

BAD_TOKENS = {
    "alg_none": "unsigned",
    "wrong_key": "signature",
    "unknown_kid": "unknown_key",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "wrong_audience": "audience",
    "wrong_issuer": "issuer",
    "tampered": "signature",
    "hs256_with_anon_key": "algorithm",
    "missing_role": "claims",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_each_bad_token_is_refused_with_a_message_and_one_tokenless_log_line(
    kind, supabase_auth, client, caplog
):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    tokens = capture_tokens(supabase_auth)
    supabase_auth.spoil_next_token(kind)

    with caplog.at_level(logging.INFO, logger="orgs.supabase"):
        response = sign_in(client, "ada@example.org")

    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists() and not SupabaseIdentity.objects.exists()
    lines = [r for r in caplog.records if r.name.startswith("orgs.supabase")]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    assert lines[0].levelno == logging.WARNING
    assert f"refused: {BAD_TOKENS[kind]} " in lines[0].getMessage()
    (token,) = tokens
    for part in token.split("."):
        if part:
            assert part not in caplog.text
            assert part.encode() not in response.content


def test_the_next_good_token_signs_in_after_a_bad_one(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    supabase_auth.spoil_next_token("expired")
    assert sign_in(client, "ada@example.org").status_code == 200
    assert sign_in(client, "ada@example.org").status_code == 302


def test_jwks_is_cached_and_fetched_once_more_after_a_rotation(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    jwks = "/.well-known/jwks.json"

    for _ in range(3):
        assert sign_in(client, "ada@example.org").status_code == 302
        client.logout()
    assert supabase_auth.request_count(jwks) == 1

    supabase_auth.rotate_keys()  # new kid: unknown to the cached key set
    assert sign_in(client, "ada@example.org").status_code == 302
    client.logout()
    assert supabase_auth.request_count(jwks) == 2
    assert sign_in(client, "ada@example.org").status_code == 302
    assert supabase_auth.request_count(jwks) == 2  # the new key is cached now


def test_an_unknown_kid_refetches_once_then_is_refused(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    assert sign_in(client, "ada@example.org").status_code == 302
    client.logout()
    assert supabase_auth.request_count("/jwks.json") == 1

    supabase_auth.spoil_next_token("unknown_kid")
    assert REFUSED in sign_in(client, "ada@example.org").content.decode()
    assert supabase_auth.request_count("/jwks.json") == 2


def test_a_key_dropped_after_rotation_no_longer_verifies(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    old_kid = supabase_auth.signer.current.kid
    supabase_auth.rotate_keys(keep_old=False)
    kids = [key["kid"] for key in supabase_auth.signer.jwks()["keys"]]
    assert old_kid not in kids and len(kids) == 1
    assert sign_in(client, "ada@example.org").status_code == 302


def test_hs256_legacy_secret(supabase_auth_hs256, client):
    supabase_auth_hs256.create_user("ada@example.org", PASSWORD)
    assert sign_in(client, "ada@example.org").status_code == 302
    assert signed_in_user(client).email == "ada@example.org"
    assert supabase_auth_hs256.request_count("/jwks.json") == 0
    client.logout()
    supabase_auth_hs256.spoil_next_token("wrong_key")  # another secret
    assert REFUSED in sign_in(client, "ada@example.org").content.decode()
    supabase_auth_hs256.spoil_next_token("alg_none")
    assert REFUSED in sign_in(client, "ada@example.org").content.decode()


def test_hs256_is_refused_without_a_configured_secret(supabase_auth_hs256, client, settings):
    supabase_auth_hs256.create_user("ada@example.org", PASSWORD)
    settings.SUPABASE_JWT_SECRET = ""
    response = sign_in(client, "ada@example.org")
    assert "HS256 tokens are not accepted" in response.content.decode()
    assert signed_in_user(client) is None


# -- local mode ----------------------------------------------------------------------------------


def test_local_mode_is_unchanged_without_supabase_settings(client, settings):
    assert not settings.SUPABASE_URL and not settings.SUPABASE_ANON_KEY
    UserFactory(username="dana")
    page = client.get("/login/").content.decode()
    assert "Log in to MissionOS" in page and "sign-in link" not in page
    assert client.get("/auth/link/").status_code == 404
    assert client.get("/auth/callback/?code=x").status_code == 404
    response = client.post("/login/", {"username": "dana", "password": LOCAL_PASSWORD})
    assert response.status_code == 302
    assert signed_in_user(client).username == "dana"
    assert not SupabaseIdentity.objects.exists()
