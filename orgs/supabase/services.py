"""The Supabase Auth flows. Each call makes its own supabase-py client (client.AuthCall) and
returns what the page needs; every session Supabase hands back goes through `signed_in_user`
(token verified here, then the identity mapping) before anyone is signed in to Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.views.decorators.debug import sensitive_variables
from supabase_auth.errors import AuthError
from supabase_auth.types import Session

from orgs.supabase.client import AuthCall, refusal_for
from orgs.supabase.config import SupabaseConfig
from orgs.supabase.errors import SignInRefused
from orgs.supabase.identities import user_for_supabase_user
from orgs.supabase.tokens import verify_access_token


@dataclass(frozen=True)
class Sent:
    """A mail Supabase sent (a link with a PKCE challenge): keep `code_verifier` in the Django
    session for the link's return."""

    code_verifier: str | None


@dataclass(frozen=True)
class RecoverySession:
    """A password-reset link's session, held in the Django session until the new password is
    set; its user is not signed in to MissionOS before that."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: int


@sensitive_variables("session")
def signed_in_user(session: Session | None, config: SupabaseConfig) -> AbstractBaseUser:
    """The Django user for a Supabase session: its access token verified, its user the token's."""
    if session is None:
        raise SignInRefused("no_session", "Supabase did not sign you in. Try again.")
    claims = verify_access_token(session.access_token, config)
    return _user_from(claims, session, config)


def _user_from(claims: dict[str, Any], session: Session, config: SupabaseConfig):
    user = session.user
    if str(user.id) != str(claims["sub"]):
        raise SignInRefused(
            "user_mismatch", "Sign-in refused: Supabase's answer did not match its token."
        )
    return user_for_supabase_user(
        supabase_user_id=str(claims["sub"]),
        email=user.email or "",
        email_confirmed=user.email_confirmed_at is not None,
    )


def _call(config: SupabaseConfig, method: str, *args: Any) -> tuple[Any, str | None]:
    with AuthCall(config) as call:
        try:
            result = getattr(call.auth, method)(*args)
        except AuthError as error:
            raise refusal_for(error) from error
        return result, call.code_verifier()


# The functions below hold a password, a code or a Supabase session, and so does every frame
# under them (supabase-py's request body and Authorization header): an error report shows
# none of their variables.
@sensitive_variables()
def password_sign_in(*, email: str, password: str, config: SupabaseConfig) -> AbstractBaseUser:
    response, _ = _call(config, "sign_in_with_password", {"email": email, "password": password})
    return signed_in_user(response.session, config)


def send_sign_in_link(*, email: str, redirect_to: str, config: SupabaseConfig) -> Sent:
    """Mail a magic link and a 6-digit code to an existing account. An unknown address gets
    nothing, and the same answer (nobody learns who has an account)."""
    options = {"email_redirect_to": redirect_to, "should_create_user": False}
    try:
        _, verifier = _call(config, "sign_in_with_otp", {"email": email, "options": options})
    except SignInRefused as refusal:
        if refusal.code != "otp_disabled":
            raise
        return Sent(code_verifier=None)
    return Sent(code_verifier=verifier)


@sensitive_variables()
def code_sign_in(*, email: str, code: str, config: SupabaseConfig) -> AbstractBaseUser:
    params = {"email": email, "token": code, "type": "email"}
    response, _ = _call(config, "verify_otp", params)
    return signed_in_user(response.session, config)


@sensitive_variables()
def exchange_code(*, auth_code: str, code_verifier: str, config: SupabaseConfig) -> Session:
    """A link's `?code=` and the verifier kept from its request -> Supabase's session
    (not yet verified: pass it to `signed_in_user` or `recovery_session`)."""
    params = {"auth_code": auth_code, "code_verifier": code_verifier}
    response, _ = _call(config, "exchange_code_for_session", params)
    if response.session is None:
        raise SignInRefused("no_session", "Supabase did not sign you in. Ask for a new link.")
    return response.session


@sensitive_variables()
def sign_up(
    *, email: str, password: str, redirect_to: str, config: SupabaseConfig
) -> tuple[Sent, AbstractBaseUser | None]:
    """Create a Supabase account: -> the confirmation mail's verifier, and the signed-in user
    when the project confirms addresses without a mail (then there is a session at once)."""
    credentials = {
        "email": email,
        "password": password,
        "options": {"email_redirect_to": redirect_to},
    }
    response, verifier = _call(config, "sign_up", credentials)
    if response.session is not None:
        return Sent(code_verifier=None), signed_in_user(response.session, config)
    return Sent(code_verifier=verifier), None


def send_password_reset(*, email: str, redirect_to: str, config: SupabaseConfig) -> Sent:
    _, verifier = _call(config, "reset_password_for_email", email, {"redirect_to": redirect_to})
    return Sent(code_verifier=verifier)


@sensitive_variables()
def recovery_session(session: Session, config: SupabaseConfig) -> RecoverySession:
    """A recovery link's session, its token verified and its user mapped (so that a refusal
    comes before the new password is asked for)."""
    claims = verify_access_token(session.access_token, config)
    _user_from(claims, session, config)
    return RecoverySession(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_at=int(session.expires_at or claims["exp"]),
    )


@sensitive_variables()
def set_new_password(
    *, recovery: RecoverySession, password: str, config: SupabaseConfig
) -> AbstractBaseUser:
    """Set the password with the recovery session (update_user), then -> the Django user."""
    claims = verify_access_token(recovery.access_token, config)
    with AuthCall(config) as call:
        try:
            auth = call.auth.set_session(recovery.access_token, recovery.refresh_token)
            call.auth.update_user({"password": password})
        except AuthError as error:
            raise refusal_for(error) from error
    if auth.session is None:
        raise SignInRefused("no_session", "Your reset link has expired. Ask for a new one.")
    if auth.session.access_token != recovery.access_token:  # refreshed: verify the new one
        claims = verify_access_token(auth.session.access_token, config)
    return _user_from(claims, auth.session, config)
