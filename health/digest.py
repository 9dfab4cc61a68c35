"""The weekly data health email to an organization's admins: what is new, what was fixed, and
how the score moved, with links to the page. An admin switches it off on the page."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from health.models import DigestOptOut, Finding, HealthSnapshot
from orgs.models import Membership, Organization, Role

WEEK = datetime.timedelta(days=7)


@dataclass
class Digest:
    organization: Organization
    new: list[Finding]
    resolved: list[Finding]
    score: float | None
    score_before: float | None
    url: str

    @property
    def is_empty(self) -> bool:
        return not self.new and not self.resolved and self.score == self.score_before


def digest_for(organization: Organization, *, now: datetime.datetime) -> Digest:
    since = now - WEEK
    findings = Finding.objects.for_org(organization)
    new = list(findings.filter(first_seen_at__gte=since, resolved_at=None).order_by("kind", "pk"))
    resolved = list(findings.filter(resolved_at__gte=since).order_by("kind", "pk"))
    snapshots = HealthSnapshot.objects.for_org(organization)
    latest = snapshots.filter(computed_at__lte=now).first()
    before = snapshots.filter(computed_at__lte=since).first()
    path = reverse("health_page", kwargs={"org_slug": organization.slug})
    return Digest(
        organization=organization,
        new=new,
        resolved=resolved,
        score=latest.score if latest else None,
        score_before=before.score if before else None,
        url=settings.SITE_URL.rstrip("/") + path,
    )


def digest_recipients(organization: Organization) -> list[str]:
    """Admins and owners with an email address who have not switched the digest off."""
    opted_out = DigestOptOut.objects.for_org(organization).values_list("user_id", flat=True)
    admins = (
        Membership.objects.for_org(organization)
        .filter(role__in=[Role.ADMIN, Role.OWNER])
        .exclude(user_id__in=list(opted_out))
        .exclude(user__email="")
        .select_related("user")
    )
    return sorted({membership.user.email for membership in admins})


def digest_send(*, organization: Organization, now: datetime.datetime | None = None) -> int:
    """Send this week's digest. -> how many were sent (none in a week with nothing to say)."""
    digest = digest_for(organization, now=now or timezone.now())
    recipients = digest_recipients(organization)
    if digest.is_empty or not recipients:
        return 0
    context = {
        "digest": digest,
        "new_shown": digest.new[:20],
        "resolved_shown": digest.resolved[:20],
    }
    subject = (
        f"Data health of {organization.name}: {len(digest.new)} new, {len(digest.resolved)} fixed"
    )
    text = render_to_string("health/digest.txt", context)
    html = render_to_string("health/digest.html", context)
    sent = 0
    for address in recipients:  # one message each: no admin learns the others' addresses
        message = EmailMultiAlternatives(subject, text, to=[address])
        message.attach_alternative(html, "text/html")
        sent += message.send()
    return sent


def digest_switch(*, organization: Organization, user, enabled: bool) -> None:
    opt_outs = DigestOptOut.objects.for_org(organization).filter(user=user)
    if enabled:
        opt_outs.delete()
    elif not opt_outs.exists():
        DigestOptOut.objects.create(organization=organization, user=user)


def digest_enabled(*, organization: Organization, user) -> bool:
    return not DigestOptOut.objects.for_org(organization).filter(user=user).exists()
