"""Invitations: how anyone becomes a member of an organization.

An owner invites an email address with a role; the address gets a link with a random token
(only its SHA-256 is stored); whoever opens it signs in with an account of that address and
accepts, and only then is a member. What the owner sees and what the email says are the same
whether or not an account exists for the address, so inviting tells nobody who has one.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from orgs import audit
from orgs.models import OPEN_INVITATION, Invitation, Membership, Organization, Role
from orgs.selectors import invitation_for_token_hash, memberships_of
from orgs.services import membership_create


def normalized_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation", kwargs={"token": token})


class Standing(StrEnum):
    """Where an invitation stands for the signed-in person who opened its link."""

    OPEN = "open"  # theirs to accept
    UNKNOWN = "unknown"  # no such link (mistyped, or refreshed by a newer invitation)
    REVOKED = "revoked"
    ACCEPTED = "accepted"  # used: each link makes one membership
    EXPIRED = "expired"
    WRONG_ACCOUNT = "wrong_account"  # sent to another address than the account's
    ALREADY_MEMBER = "already_member"


class InvitationUnavailable(Exception):
    def __init__(self, standing: Standing, invitation: Invitation | None = None) -> None:
        super().__init__(standing)
        self.standing = standing
        self.invitation = invitation


def invitation_standing(
    *, invitation: Invitation | None, user: AbstractBaseUser, now: datetime.datetime | None = None
) -> Standing:
    if invitation is None:
        return Standing.UNKNOWN
    if invitation.revoked_at is not None:
        return Standing.REVOKED
    if invitation.accepted_at is not None:
        return Standing.ACCEPTED
    if invitation.is_expired(now):
        return Standing.EXPIRED
    if normalized_email(user.email or "") != invitation.email:
        return Standing.WRONG_ACCOUNT
    if any(m.organization_id == invitation.organization_id for m in memberships_of(user=user)):
        return Standing.ALREADY_MEMBER
    return Standing.OPEN


def invitation_create(
    *, organization: Organization, email: str, role: Role, invited_by: AbstractBaseUser
) -> Invitation:
    """Invite `email` with `role` and email them the link. An address already invited (and
    not yet accepted or revoked) gets a fresh link and expiry: the old link stops working."""
    email = normalized_email(email)
    validate_email(email)
    role = Role(role)
    if Membership.objects.for_org(organization).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member."})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    fields = {
        "role": role,
        "token_hash": token_hash(token),
        "invited_by": invited_by,
        "created_at": now,
        "expires_at": now + datetime.timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    }
    with transaction.atomic():
        invitation = (
            Invitation.objects.for_org(organization)
            .select_for_update()
            .filter(OPEN_INVITATION, email=email)
            .first()
        )
        if invitation is None:
            invitation = Invitation.objects.create(organization=organization, email=email, **fields)
            action, changes = "invited", {"email": [None, email], "role": [None, role.label]}
        else:
            before = {"role": invitation.get_role_display(), "expires": invitation.expires_at}
            for name, value in fields.items():
                setattr(invitation, name, value)
            invitation.save(update_fields=list(fields))
            action = "invited again"  # a new link: the old one stops working
            changes = {"role": [before["role"], role.label]} if before["role"] != role.label else {}
            changes["expires"] = [before["expires"], invitation.expires_at]
        # Never the token or its hash: the link is the invitee's alone.
        _audit(invitation, invited_by, action, changes)
    # After the write (the link must work when it arrives); an email that fails leaves the
    # invitation pending, and inviting again sends a new link.
    _send_invitation_email(invitation=invitation, organization=organization, token=token)
    return invitation


def _send_invitation_email(*, invitation: Invitation, organization: Organization, token: str):
    inviter = invitation.invited_by
    inviter_name = (inviter.get_full_name() or inviter.get_username()) if inviter else "An owner"
    context = {
        "organization": organization,
        "inviter": inviter_name,
        "role": invitation.get_role_display(),
        "url": invitation_url(token),
        "expires_at": invitation.expires_at,
        "email": invitation.email,
    }
    subject = f"{inviter_name} invited you to {organization.name} on MissionOS"
    message = EmailMultiAlternatives(
        subject, render_to_string("orgs/invitation_email.txt", context), to=[invitation.email]
    )
    message.attach_alternative(render_to_string("orgs/invitation_email.html", context), "text/html")
    message.send()


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: AbstractBaseUser) -> Invitation:
    """Withdraw a pending invitation: its link answers that it was withdrawn."""
    stored = (
        Invitation.objects.for_org(invitation.organization_id)
        .select_for_update()
        .get(pk=invitation.pk)
    )
    if stored.accepted_at is not None:
        raise ValidationError(f"{stored.email} has already accepted.")
    if stored.revoked_at is None:
        stored.revoked_at = timezone.now()
        stored.save(update_fields=["revoked_at"])
        _audit(stored, actor, "revoked invitation", {"status": ["pending", "revoked"]})
    return stored


def _audit(invitation: Invitation, actor, action: str, changes: dict) -> None:
    audit.record(
        organization_id=invitation.organization_id,
        action=action,
        kind="invitation",
        target_id=invitation.pk,
        label=invitation.email,
        changes=changes,
        actor=actor,
    )


@transaction.atomic
def invitation_accept(*, token: str, user: AbstractBaseUser) -> Membership:
    """Make the signed-in `user` a member as the invitation says, once: the link is used up.

    Raises InvitationUnavailable with the reason when the link is unknown, withdrawn, used,
    expired, or for another address. An invitee who is already a member keeps their role."""
    invitation = invitation_for_token_hash(token_hash=token_hash(token), lock=True)
    standing = invitation_standing(invitation=invitation, user=user)
    if standing not in (Standing.OPEN, Standing.ALREADY_MEMBER):
        raise InvitationUnavailable(standing, invitation)
    if standing == Standing.ALREADY_MEMBER:
        membership = Membership.objects.for_org(invitation.organization).get(user=user)
        _audit(invitation, user, "accepted invitation", {"status": ["pending", "accepted"]})
    else:
        membership = membership_create(
            organization=invitation.organization, user=user, role=Role(invitation.role)
        )
        audit.record(
            organization_id=membership.organization_id,
            action="joined",
            kind="membership",
            target_id=membership.pk,
            label=user.get_username(),
            changes={
                "role": [None, membership.get_role_display()],
                "invitation": [None, invitation.email],
            },
            actor=user,
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership
