"""The Supabase project this deployment signs in with (settings SUPABASE_*), if any."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class SupabaseConfig:
    url: str
    anon_key: str
    jwt_secret: str = field(default="", repr=False)  # a server secret: never in a report

    @property
    def issuer(self) -> str:
        return f"{self.url}/auth/v1"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/auth/v1/.well-known/jwks.json"


def supabase_config() -> SupabaseConfig | None:
    """The project's settings, or None when Supabase is not configured (local accounts)."""
    url = (getattr(settings, "SUPABASE_URL", "") or "").rstrip("/")
    anon_key = getattr(settings, "SUPABASE_ANON_KEY", "") or ""
    if not (url and anon_key):
        return None
    return SupabaseConfig(url, anon_key, getattr(settings, "SUPABASE_JWT_SECRET", "") or "")


def is_configured() -> bool:
    return supabase_config() is not None
