"""The fake Supabase Auth (devtools/fakesupabase/) through the real supabase-py client: each
endpoint, GoTrue's error codes, PKCE checked at the exchange, key rotation, HS256 mode, the
bad tokens it issues on request and its control API."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from supabase import ClientOptions, create_client
from supabase_auth import SyncMemoryStorage
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from devtools.fakesupabase import BAD_TOKEN_KINDS, FakeSupabaseAuth

KEY = "anon-key-for-the-fake-0123456789abcdef"
PASSWORD = "s3cret-pass-phrase"


def sign_in_token(fake) -> str:
    credentials = {"email": "ada@example.org", "password": PASSWORD}
    return client_for(fake).auth.sign_in_with_password(credentials).session.access_token


@pytest.fixture
def fake():
    with FakeSupabaseAuth(anon_key=KEY) as served:
        yield served


def client_for(fake, key=KEY):
    storage = SyncMemoryStorage()
    options = ClientOptions(auto_refresh_token=False, persist_session=False, storage=storage)
    client = create_client(fake.url, key, options)
    client.storage_ = storage
    return client


def verifier_of(client) -> str:
    (value,) = [v for k, v in client.storage_.storage.items() if k.endswith("code-verifier")]
    return value.partition("/")[0]


def follow(link: str) -> str:
    response = requests.get(link, allow_redirects=False, timeout=5)
    assert response.status_code == 303
    return response.headers["Location"]


def verify_with_jwks(fake, token: str) -> dict:
    key = jwt.PyJWKClient(fake.jwks_url).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        audience="authenticated",
        issuer=fake.issuer,
        options={"require": ["exp", "sub", "aud", "iss", "role"]},
    )


def test_password_grant_issues_a_session_with_a_verifiable_es256_token(fake):
    user = fake.create_user("ada@example.org", PASSWORD)
    response = client_for(fake).auth.sign_in_with_password(
        {"email": "ADA@example.org", "password": PASSWORD}
    )
    session = response.session
    assert session.token_type == "bearer" and session.expires_in == 3600
    assert session.user.id == user.id and session.user.email_confirmed_at is not None
    header = jwt.get_unverified_header(session.access_token)
    assert header["alg"] == "ES256" and header["kid"] == fake.signer.current.kid
    claims = verify_with_jwks(fake, session.access_token)
    assert claims["sub"] == user.id and claims["role"] == "authenticated"
    assert claims["amr"][0]["method"] == "password"


@pytest.mark.parametrize(
    ("email", "password", "code"),
    [
        ("ada@example.org", "wrong", "invalid_credentials"),
        ("nobody@example.org", PASSWORD, "invalid_credentials"),
        ("eve@example.org", PASSWORD, "email_not_confirmed"),
    ],
)
def test_password_grant_refusals(fake, email, password, code):
    fake.create_user("ada@example.org", PASSWORD)
    fake.create_user("eve@example.org", PASSWORD, confirmed=False)
    with pytest.raises(AuthApiError) as refused:
        client_for(fake).auth.sign_in_with_password({"email": email, "password": password})
    assert (refused.value.status, refused.value.code) == (400, code)


def test_the_apikey_header_is_required(fake):
    fake.create_user("ada@example.org", PASSWORD)
    with pytest.raises(AuthApiError) as refused:
        client_for(fake, key="not-the-key").auth.sign_in_with_password(
            {"email": "ada@example.org", "password": PASSWORD}
        )
    assert refused.value.status == 401 and "Invalid API key" in refused.value.message
    bare = requests.post(f"{fake.url}/auth/v1/token?grant_type=password", json={}, timeout=5)
    assert bare.status_code == 401 and bare.json()["message"] == "No API key found in request"
    assert requests.get(fake.jwks_url, timeout=5).status_code == 200  # public, like Supabase's


def test_legacy_error_shape_without_the_api_version_header(fake):
    response = requests.post(
        f"{fake.url}/auth/v1/token?grant_type=password",
        json={"email": "x@example.org", "password": "y"},
        headers={"apikey": KEY},
        timeout=5,
    )
    assert response.json() == {
        "code": 400,
        "error_code": "invalid_credentials",
        "msg": "Invalid login credentials",
    }
    assert response.headers["X-Supabase-Api-Version"] == "2024-01-01"


def test_magic_link_pkce_exchange_checks_the_verifier(fake):
    fake.create_user("ada@example.org", PASSWORD)
    client = client_for(fake)
    client.auth.sign_in_with_otp(
        {"email": "ada@example.org", "options": {"email_redirect_to": "http://app/cb?flow=1"}}
    )
    verifier = verifier_of(client)
    mail = fake.last_mail("ada@example.org", "magiclink")
    assert mail.link.startswith(f"{fake.issuer}/verify?token=pkce_") and len(mail.code) == 6
    location = follow(mail.link)
    assert location.startswith("http://app/cb?flow=1&code=")
    auth_code = location.rsplit("code=", 1)[1]

    with pytest.raises(AuthApiError) as refused:
        client_for(fake).auth.exchange_code_for_session(
            {"auth_code": auth_code, "code_verifier": "y" * 64}
        )
    assert (refused.value.status, refused.value.code) == (403, "bad_code_verifier")

    session = (
        client_for(fake)
        .auth.exchange_code_for_session({"auth_code": auth_code, "code_verifier": verifier})
        .session
    )
    assert session.user.email == "ada@example.org"
    with pytest.raises(AuthApiError) as again:
        client_for(fake).auth.exchange_code_for_session(
            {"auth_code": auth_code, "code_verifier": verifier}
        )
    assert (again.value.status, again.value.code) == (404, "flow_state_not_found")


def test_otp_code_verify_and_expiry(fake):
    fake.create_user("ada@example.org", PASSWORD)
    client = client_for(fake)
    client.auth.sign_in_with_otp({"email": "ada@example.org"})
    code = fake.last_mail("ada@example.org").code
    with pytest.raises(AuthApiError) as wrong:
        client.auth.verify_otp({"email": "ada@example.org", "token": "12345", "type": "email"})
    assert (wrong.value.status, wrong.value.code) == (403, "otp_expired")
    session = client.auth.verify_otp(
        {"email": "ada@example.org", "token": code, "type": "email"}
    ).session
    assert session.user.email == "ada@example.org"
    with pytest.raises(AuthApiError):  # used once
        client.auth.verify_otp({"email": "ada@example.org", "token": code, "type": "email"})

    client.auth.sign_in_with_otp({"email": "ada@example.org"})
    mail = fake.last_mail("ada@example.org")
    fake.expire_mail()
    with pytest.raises(AuthApiError) as expired:
        client.auth.verify_otp({"token_hash": mail.token_hash, "type": "magiclink"})
    assert expired.value.code == "otp_expired"
    location = follow(mail.link)
    assert "error_code=otp_expired" in location


def test_otp_without_creating_users(fake):
    with pytest.raises(AuthApiError) as refused:
        client_for(fake).auth.sign_in_with_otp(
            {"email": "nobody@example.org", "options": {"should_create_user": False}}
        )
    assert (refused.value.status, refused.value.code) == (422, "otp_disabled")


def test_implicit_link_without_pkce_puts_the_session_in_the_fragment(fake):
    fake.create_user("ada@example.org", PASSWORD)
    requests.post(
        f"{fake.url}/auth/v1/otp",
        json={"email": "ada@example.org"},
        headers={"apikey": KEY},
        timeout=5,
    )
    location = follow(fake.last_mail("ada@example.org").link)
    assert "#access_token=" in location and "type=magiclink" in location


def test_sign_up_confirm_link_and_existing_addresses(fake):
    client = client_for(fake)
    response = client.auth.sign_up(
        {
            "email": "new@example.org",
            "password": PASSWORD,
            "options": {"email_redirect_to": "http://app/cb"},
        }
    )
    assert response.session is None and response.user.email_confirmed_at is None
    mail = fake.last_mail("new@example.org", "signup")
    auth_code = follow(mail.link).rsplit("code=", 1)[1]
    session = client.auth.exchange_code_for_session(
        {"auth_code": auth_code, "code_verifier": verifier_of(client)}
    ).session
    assert session.user.email_confirmed_at is not None

    again = client_for(fake).auth.sign_up({"email": "new@example.org", "password": PASSWORD})
    assert again.session is None and again.user.id != session.user.id  # GoTrue tells nothing
    assert len(fake.mail_to("new@example.org")) == 1

    with pytest.raises(AuthWeakPasswordError) as weak:
        client_for(fake).auth.sign_up({"email": "weak@example.org", "password": "12345"})
    assert weak.value.status == 422 and weak.value.reasons == ["length"]


def test_recovery_then_update_user_password(fake):
    fake.create_user("ada@example.org", PASSWORD)
    client = client_for(fake)
    client.auth.reset_password_for_email("ada@example.org", {"redirect_to": "http://app/cb"})
    assert client.storage_.storage  # the verifier, marked as a recovery's
    assert next(iter(client.storage_.storage.values())).endswith("/PASSWORD_RECOVERY")
    auth_code = follow(fake.last_mail("ada@example.org", "recovery").link).rsplit("code=", 1)[1]
    session = client.auth.exchange_code_for_session(
        {"auth_code": auth_code, "code_verifier": verifier_of(client)}
    ).session

    fresh = client_for(fake)
    fresh.auth.set_session(session.access_token, session.refresh_token)
    with pytest.raises(AuthApiError) as same:
        fresh.auth.update_user({"password": PASSWORD})
    assert (same.value.status, same.value.code) == (422, "same_password")
    fresh.auth.update_user({"password": "a-new-passphrase"})
    assert fake.find_user("ada@example.org").password == "a-new-passphrase"

    client_for(fake).auth.reset_password_for_email("nobody@example.org")  # 200, nothing sent
    assert fake.mail_to("nobody@example.org") == []


def test_get_user_refresh_and_logout(fake):
    fake.create_user("ada@example.org", PASSWORD)
    client = client_for(fake)
    session = client.auth.sign_in_with_password(
        {"email": "ada@example.org", "password": PASSWORD}
    ).session
    assert client.auth.get_user(session.access_token).user.email == "ada@example.org"

    refreshed = client.auth.refresh_session(session.refresh_token).session
    assert refreshed.refresh_token != session.refresh_token
    with pytest.raises(AuthApiError) as reused:
        client_for(fake).auth.refresh_session(session.refresh_token)
    assert reused.value.code == "refresh_token_already_used"

    client.auth.sign_out()
    assert fake.requests[-1].path == "/auth/v1/logout" and fake.requests[-1].status == 204
    with pytest.raises(AuthApiError) as gone:
        client_for(fake).auth.get_user(refreshed.access_token)
    assert (gone.value.status, gone.value.code) == (403, "session_not_found")
    with pytest.raises(AuthApiError) as bad:
        client_for(fake).auth.get_user(refreshed.access_token[:-4] + "AAAA")
    assert (bad.value.status, bad.value.code) == (403, "bad_jwt")


def test_key_rotation_keeps_or_drops_the_old_key(fake):
    fake.create_user("ada@example.org", PASSWORD)
    old_token, old_kid = sign_in_token(fake), fake.signer.current.kid
    new_kid = fake.rotate_keys()
    assert new_kid != old_kid
    assert {k["kid"] for k in requests.get(fake.jwks_url, timeout=5).json()["keys"]} == {
        old_kid,
        new_kid,
    }
    new_token = sign_in_token(fake)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    verify_with_jwks(fake, old_token)
    verify_with_jwks(fake, new_token)
    fake.drop_old_keys()
    with pytest.raises(jwt.PyJWKClientError):
        verify_with_jwks(fake, old_token)
    with pytest.raises(AuthApiError):  # the fake no longer accepts it either
        client_for(fake).auth.get_user(old_token)


def test_hs256_mode(fake):
    fake.set_mode("hs256", jwt_secret="s" * 40)
    fake.create_user("ada@example.org", PASSWORD)
    token = (
        client_for(fake)
        .auth.sign_in_with_password({"email": "ada@example.org", "password": PASSWORD})
        .session.access_token
    )
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="authenticated", issuer=fake.issuer)
    assert requests.get(fake.jwks_url, timeout=5).json() == {"keys": []}


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
def test_each_bad_token_fails_verification(fake, kind):
    fake.create_user("ada@example.org", PASSWORD)
    fake.spoil_next_token(kind)
    bad, good = sign_in_token(fake), sign_in_token(fake)  # only the next one is spoiled
    verify_with_jwks(fake, good)
    with pytest.raises(jwt.PyJWTError):
        verify_with_jwks(fake, bad)
    if kind == "alg_none":
        assert jwt.get_unverified_header(bad)["alg"] == "none" and bad.endswith(".")
    if kind == "expired":
        assert jwt.decode(bad, options={"verify_signature": False})["exp"] < time.time()


def test_control_api_over_http(fake):
    control = f"{fake.url}/_control"
    created = requests.post(
        f"{control}/users", json={"email": "ada@example.org", "password": PASSWORD}, timeout=5
    )
    assert created.status_code == 200 and created.json()["email_confirmed_at"]
    client_for(fake).auth.sign_in_with_otp({"email": "ada@example.org"})
    mail = requests.get(f"{control}/mailbox", params={"to": "ada@example.org"}, timeout=5).json()
    assert [m["kind"] for m in mail["mail"]] == ["magiclink"]
    kid = requests.post(f"{control}/rotate", json={}, timeout=5).json()["kid"]
    assert fake.signer.current.kid == kid
    assert requests.post(f"{control}/spoil", json={"kind": "expired"}, timeout=5).ok
    assert requests.post(f"{control}/spoil", json={"kind": "nope"}, timeout=5).status_code == 422
    assert requests.post(f"{control}/mode", json={"mode": "hs256"}, timeout=5).json() == {
        "mode": "hs256"
    }
    assert requests.get(f"{control}/users", timeout=5).json()["users"][0]["email"] == (
        "ada@example.org"
    )
