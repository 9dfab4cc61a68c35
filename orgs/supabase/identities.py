"""The Supabase user behind a verified token, as exactly one Django user."""

from __future__ import annotations

import logging
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from orgs.supabase.errors import SignInRefused
from orgs.supabase.models import SupabaseIdentity

logger = logging.getLogger("orgs.supabase")


def _refuse(code: str, message: str) -> SignInRefused:
    logger.warning("Supabase sign-in refused: %s", code)
    return SignInRefused(code, message)


def _free_username(email: str) -> str:
    User = get_user_model()
    base = re.sub(r"[^\w.@+-]", "", email.split("@")[0])[:140] or "user"
    candidate, n = base, 1
    while User.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}{n}"
    return candidate


@transaction.atomic
def user_for_supabase_user(
    *, supabase_user_id: str, email: str, email_confirmed: bool
) -> AbstractBaseUser:
    """The Django user of this Supabase user: the one linked before; else, for a confirmed
    address only, the local account with that address (case-insensitive), linked now, or a
    new account. An unconfirmed address links and creates nothing."""
    User = get_user_model()
    email = (email or "").strip()
    identity = (
        SupabaseIdentity.objects.select_for_update()
        .select_related("user")
        .filter(supabase_user_id=supabase_user_id)
        .first()
    )
    if identity is not None:
        if not identity.user.is_active:
            raise _refuse("inactive", "This account is deactivated. Ask an administrator.")
        if email and identity.email != email:
            identity.email = email
            identity.save(update_fields=["email"])
        return identity.user
    if not email or not email_confirmed:
        raise _refuse(
            "unconfirmed_email",
            f"Confirm your email address {email} first: open the link Supabase sent you, then "
            "sign in again.",
        )
    matches = list(User.objects.filter(email__iexact=email).order_by("pk")[:2])
    if len(matches) > 1:
        raise _refuse(
            "ambiguous_email",
            f"More than one MissionOS account uses {email}. Ask an administrator to link yours.",
        )
    if matches:
        user = matches[0]
        if SupabaseIdentity.objects.filter(user=user).exists():
            raise _refuse(
                "linked_elsewhere",
                f"The MissionOS account for {email} is linked to another sign-in. "
                "Ask an administrator.",
            )
        if not user.is_active:
            raise _refuse("inactive", "This account is deactivated. Ask an administrator.")
        logger.info("Supabase user linked to the existing account %s", user.pk)
    else:
        user = User.objects.create_user(username=_free_username(email), email=email)
        logger.info("Supabase user signed in for the first time: account %s created", user.pk)
    SupabaseIdentity.objects.create(user=user, supabase_user_id=supabase_user_id, email=email)
    return user
