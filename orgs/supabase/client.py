"""One supabase-py client per request, and Supabase's errors in plain words."""

from __future__ import annotations

import logging
from types import TracebackType

from supabase import ClientOptions, create_client
from supabase_auth import SyncMemoryStorage
from supabase_auth.errors import AuthApiError, AuthError, AuthRetryableError

from orgs.supabase.config import SupabaseConfig
from orgs.supabase.errors import SignInRefused

logger = logging.getLogger("orgs.supabase")


class AuthCall:
    """A supabase-py client for one request: a client rewrites its own Authorization header on
    sign-in, so none is shared between people. It keeps nothing (no refresh thread, no stored
    session); its PKCE code verifier is read back with `code_verifier()` for the Django session.

        with AuthCall(config) as call:
            call.auth.sign_in_with_password({...})
    """

    def __init__(self, config: SupabaseConfig) -> None:
        self.config = config
        self.storage = SyncMemoryStorage()
        self.client = create_client(
            config.url,
            config.anon_key,
            ClientOptions(
                auto_refresh_token=False,
                persist_session=False,
                storage=self.storage,
                flow_type="pkce",
            ),
        )
        self.auth = self.client.auth

    def code_verifier(self) -> str | None:
        """The PKCE verifier of the last request that sent a code challenge."""
        for key, value in self.storage.storage.items():
            if key.endswith("-code-verifier") and value:
                return value.partition("/")[0]  # a recovery's ends in "/PASSWORD_RECOVERY"
        return None

    def __enter__(self) -> AuthCall:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.auth.close()


# Supabase's error codes, as the person should read them.
MESSAGES = {
    "invalid_credentials": "That email and password do not match an account.",
    "email_not_confirmed": (
        "Confirm your email address first: open the link we sent you, then sign in."
    ),
    "otp_expired": "That code or link has expired or was already used. Ask for a new one.",
    "flow_state_not_found": (
        "This sign-in link has already been used or has expired. Ask for a new one."
    ),
    "flow_state_expired": "This sign-in link has expired. Ask for a new one.",
    "bad_code_verifier": (
        "This link was asked for in another browser. Open it in the browser you asked from, "
        "or type the code from the email."
    ),
    "weak_password": "Choose a stronger password.",
    "same_password": "Choose a password different from your old one.",
    "user_already_exists": "An account already uses this address: sign in instead.",
    "signup_disabled": "New accounts cannot be created here.",
    "over_email_send_rate_limit": "Too many emails were sent to this address. Wait a minute.",
    "over_request_rate_limit": "Too many attempts. Wait a minute, then try again.",
    "session_not_found": "Your session with Supabase has ended. Start again.",
    "bad_jwt": "Your session with Supabase is no longer valid. Start again.",
}


def refusal_for(error: AuthError) -> SignInRefused:
    """Supabase's answer as a refusal to show (its message for a weak password), and one line
    in the log with its code."""
    if isinstance(error, AuthRetryableError):
        code, message = "unreachable", "Supabase Auth could not be reached. Try again shortly."
    elif isinstance(error, AuthApiError):
        code = error.code or f"http_{error.status}"
        message = MESSAGES.get(code, "Supabase Auth refused the request. Try again.")
        if code == "weak_password" and error.message:
            message = f"Choose a stronger password: {error.message}"
    else:
        code, message = "auth_error", "Supabase Auth refused the request. Try again."
    logger.info("Supabase Auth refused a request: %s", code)
    return SignInRefused(code, message)
