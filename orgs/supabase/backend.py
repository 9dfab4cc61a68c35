"""The Django auth backend for Supabase: `authenticate(request, username=email, password=…)`
asks Supabase Auth (supabase-py), verifies the token it hands back and maps its user. Being a
backend, the password path goes through Django's `authenticate()`, so login throttling
(django-axes) and `user_login_failed` see it like any other; `login()` rotates the session key.

When Supabase is configured it is the only backend that checks passwords
(orgs.auth.MembershipsBackend stops checking local ones); otherwise it answers None."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from orgs.auth import MembershipsBackend
from orgs.supabase import services
from orgs.supabase.config import supabase_config
from orgs.supabase.errors import SignInRefused

BACKEND_PATH = "orgs.supabase.backend.SupabaseBackend"


class SupabaseBackend(MembershipsBackend):
    """Users are loaded as MembershipsBackend loads them (one query with their memberships)."""

    @sensitive_variables("password")
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: object,
    ) -> AbstractBaseUser | None:
        config = supabase_config()
        if config is None or not username or not password:
            return None
        try:
            user = services.password_sign_in(email=username, password=password, config=config)
        except SignInRefused as refusal:
            note_refusal(request, refusal)
            return None
        return user if self.user_can_authenticate(user) else None


def note_refusal(request: HttpRequest | None, refusal: SignInRefused) -> None:
    """Leave the reason on the request for the login form (authenticate() only says None)."""
    if request is not None:
        request.supabase_refusal = refusal  # type: ignore[attr-defined]


def refusal_of(request: HttpRequest) -> SignInRefused | None:
    return getattr(request, "supabase_refusal", None)
