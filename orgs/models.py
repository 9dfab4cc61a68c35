"""Organizations, who belongs to them, and the tenancy mechanism every org-owned model uses."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from missionos.dates import validate_kept_date
from orgs.activity import target_choices
from orgs.roles import Role, least_role
from orgs.supabase.models import SupabaseIdentity as SupabaseIdentity  # Supabase Auth's users
from orgs.tenancy import MembershipQuerySet, OrgScopedQuerySet, UniquenessChecksUnscoped


class Organization(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lowercase letters, digits, hyphens.")],
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(UniquenessChecksUnscoped, models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set when the user switches into this organization; the latest one is where login lands.
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="unique_membership")
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def allows(self, action_or_role: str) -> bool:
        """Whether this member may do an action of `orgs.permissions` ("edit_plan"), or has
        at least a role (`Role.ADMIN`)."""
        return self.role_enum.allows(least_role(action_or_role))


class OrgScoped(UniquenessChecksUnscoped, models.Model):
    """Base for every organization-owned row: the tenant key and the manager that refuses to
    run a query nobody scoped (orgs.tenancy)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        """Refuse links to another organization's rows, whoever builds the object."""
        super().clean()
        errors = {}
        for field in self._meta.concrete_fields:
            if not (field.many_to_one and issubclass(field.related_model, OrgScoped)):
                continue
            if getattr(self, field.attname) is None:
                continue
            if getattr(self, field.name).organization_id != self.organization_id:
                errors[field.name] = "Choose one from this organization."
        if errors:
            raise ValidationError(errors)


class OrgOwned(OrgScoped):
    """Base for the organization's plan data: tenancy plus sync provenance.

    The provenance fields stay empty for rows created in MissionOS; the Airtable sync fills
    them. Synced rows are never hard-deleted: the sync sets `archived_at` instead.
    """

    source_table = models.CharField(max_length=64, blank=True, default="", editable=False)
    # NULL, not "", for rows made here: the unique constraint below applies only to synced rows.
    source_record_id = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    # Which connection (base) the row came from, its content hash as last written by the sync
    # (to skip unchanged records and to notice local edits), and the base's unmapped fields.
    source_connection_id = models.BigIntegerField(null=True, blank=True, editable=False)
    source_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    source_extra = models.JSONField(default=dict, blank=True, editable=False)
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_table", "source_record_id"],
                condition=models.Q(source_record_id__isnull=False),
                name="%(app_label)s_%(class)s_unique_source",
            )
        ]


# Marks in `source_extra` of a row archived in MissionOS (okrs.services.record_archive), which
# the sync reads too: archived here on purpose (a pull leaves it archived while its Airtable
# record lives on), and the record it was archived together with ("project:12"). And the mark
# of a row whose Airtable record is to be deleted (sync.writeback pushes the delete).
ARCHIVED_HERE = "archived_here"
ARCHIVED_WITH = "archived_with"
DELETE_IN_AIRTABLE = "delete_in_airtable"
DELETED_IN_AIRTABLE = "deleted_in_airtable"  # and the write-back did it


class CheckInCadence(models.TextChoices):
    """How often a person is expected to check in on the key results they own."""

    WEEKLY = "weekly", "Weekly"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"


class Person(OrgOwned):
    """An entry in the organization's directory. People who leave are kept, marked departed."""

    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
    )
    departed_on = models.DateField(null=True, blank=True, validators=[validate_kept_date])
    check_in_cadence = models.CharField(
        max_length=12,
        choices=CheckInCadence.choices,
        default=CheckInCadence.WEEKLY,
        help_text="How often they check in on the key results they own.",
    )

    class Meta(OrgOwned.Meta):
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            *OrgOwned.Meta.constraints,
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(user__isnull=False),
                name="unique_person_per_user",
                violation_error_message="That account is already linked to another person.",
            ),
            # One person per email in an organization, whatever its case: the service and
            # form name the person who has it (orgs.services.person_save); the sync keeps a
            # second one without it and lists an issue (sync.reconcile).
            models.UniqueConstraint(
                Lower("email"),
                "organization",
                condition=~models.Q(email=""),
                name="unique_person_email",
                violation_error_message="Another person already has that email.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def activity_target(self) -> tuple[str, int | None, str]:
        return PERSON_TARGET, self.pk, ""

    @property
    def is_active(self) -> bool:
        return self.departed_on is None


PERSON_TARGET = "person"  # registered in orgs/apps.py


class Activity(OrgScoped):
    """One line of the dashboard's activity feed: who changed what, and where to see it.

    Written by the services that make the change, in the same transaction. The subject is the
    title as it was, so the feed still reads right after a rename or an archive.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who to name when no member did it: "Airtable" for a check-in made there.
    actor_label = models.CharField(max_length=60, blank=True)
    verb = models.CharField(max_length=40)  # "checked in on", "moved", "edited", "synced"
    subject = models.CharField(max_length=300)
    detail = models.CharField(max_length=200, blank=True)  # "42%", "to Done"
    # A kind from orgs.activity's registry, which each app fills with its own pages.
    target = models.CharField(max_length=16, choices=target_choices)
    # None when there is nowhere to link (a task without a project).
    target_id = models.BigIntegerField(null=True, blank=True)
    anchor = models.CharField(max_length=40, blank=True)  # "kr-12": the row on the target page
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["organization", "-occurred_at"])]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.verb} {self.subject}"


class AuditEntry(OrgScoped):
    """One change for the audit log (orgs.audit): who did what to which record, when, and each
    field's value before and after. Written by the services that make the change, in the same
    transaction; never edited afterwards.

    The actor's name and the target's label are kept as they were, so the log still reads right
    after a member leaves or a record is renamed. `actor` is empty for what nobody signed in did
    (the sync pulling from Airtable: `actor_label` "Airtable").
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=40)  # "created", "edited", "changed role", "synced"
    # A kind of orgs.audit's registry ("task", "membership", "connection"), filled by each app.
    target_kind = models.CharField(max_length=24)
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=300)
    # {field: [before, after]}, values as shown (orgs.audit.shown); never a secret.
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="orgs_audit_org_time"),
            models.Index(fields=["organization", "target_kind"], name="orgs_audit_org_kind"),
            models.Index(fields=["organization", "actor_label"], name="orgs_audit_org_actor"),
            models.Index(fields=["organization", "action"], name="orgs_audit_org_action"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}"


# Neither accepted nor revoked (it may have expired): the one invitation an address may have.
OPEN_INVITATION = models.Q(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(OrgScoped):
    """An owner's offer of a role to whoever holds the emailed link (orgs.invitations).

    Only the link's token hash is stored; the token itself goes out in the email and nowhere
    else. An address has at most one pending invitation per organization: inviting it again
    refreshes that one (a new token and expiry, so the old link stops working).
    """

    email = models.EmailField()  # lower case, no spaces: orgs.invitations.normalized_email
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=OPEN_INVITATION,
                name="unique_open_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization_id} ({self.role})"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at
