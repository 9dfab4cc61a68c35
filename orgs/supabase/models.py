"""Which Django user a Supabase Auth user is (orgs.models imports this, so it is an orgs model)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SupabaseIdentity(models.Model):
    """One Supabase user (the token's `sub`) is exactly one Django user, and back."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supabase_identity"
    )
    supabase_user_id = models.UUIDField(unique=True)
    email = models.EmailField(blank=True)  # the Supabase address at the last sign-in
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        app_label = "orgs"
        verbose_name_plural = "Supabase identities"

    def __str__(self) -> str:
        return f"{self.email or self.supabase_user_id} → {self.user}"
