"""Cycles, pathways, objectives, key results, check-ins, projects and tasks.

Every row carries its organization (OrgOwned) even where a parent implies it, so that each
query is scoped the same way and a composite unique can include it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from missionos.dates import validate_kept_date
from orgs.models import OrgOwned, OrgScoped, Person

TITLE_MAX = 200
VALUE_DIGITS = {"max_digits": 18, "decimal_places": 4}
# The values a key result or a check-in keeps: 4 places and at most 11 digits before the point,
# 15 significant digits in all. The column (decimal(18, 4)) holds more on Postgres, but SQLite
# (the local mode) keeps numbers as doubles and reads 15 significant digits back: a value past
# 15 digits changes there, and one near 10^14 reads back as 10^14, which no longer fits the
# column and fails every page that reads it. Forms and the sync refuse what is outside.
VALUE_MAX = Decimal("99999999999.9999")
VALUE_VALIDATORS = [MinValueValidator(-VALUE_MAX), MaxValueValidator(VALUE_MAX)]
# Dates a person or the sync fills are kept within missionos.dates' range (1900-2199).
DATE_VALIDATORS = [validate_kept_date]
CONFIDENCE_VALIDATORS = [MinValueValidator(0), MaxValueValidator(10)]

# Kinds of activity-feed targets these models are (registered in okrs/apps.py).
CYCLE_TARGET = "cycle"
PATHWAY_TARGET = "pathway"
OBJECTIVE_TARGET = "objective"
PROJECT_TARGET = "project"


class Cycle(OrgOwned):
    """A planning period, typically a quarter."""

    name = models.CharField(max_length=80)
    starts_on = models.DateField(validators=DATE_VALIDATORS)
    ends_on = models.DateField(validators=DATE_VALIDATORS)

    class Meta(OrgOwned.Meta):
        ordering = ["-starts_on"]
        constraints = [
            *OrgOwned.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="cycle_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def activity_target(self) -> tuple[str, int | None, str]:
        return CYCLE_TARGET, self.pk, ""

    def clean(self) -> None:
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": "The cycle must end after it starts."})


class Pathway(OrgOwned):
    """One of an organization's handful of strategic pathways."""

    name = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=5000)
    # Postgres' smallint, on every database (SQLite would take any integer).
    position = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(32767)])

    class Meta(OrgOwned.Meta):
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def activity_target(self) -> tuple[str, int | None, str]:
        return PATHWAY_TARGET, self.pk, ""


class Objective(OrgOwned):
    # Nullable in the database only: a synced record whose link is broken in Airtable is kept
    # (and reported); forms still require it. The same holds for the links below, except a key
    # result's objective and a task's project, which may stay empty on an edit (they say why).
    pathway = models.ForeignKey(
        Pathway, on_delete=models.RESTRICT, related_name="objectives", null=True
    )
    cycle = models.ForeignKey(
        Cycle, on_delete=models.RESTRICT, related_name="objectives", null=True, blank=True
    )
    title = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=5000)
    owner = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="objectives"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text="A higher objective this one supports (alignment).",
    )
    # The objective of an earlier cycle this one continues (okrs.services.cycle_carry_over,
    # which makes at most one copy of an objective per cycle, under a lock on the cycle). Not a
    # unique constraint: a cycle is synced from Airtable, and the sync never fails on a rule a
    # cell can break (tests/sync/test_constraints.py).
    carried_over_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="carried_over_to",
    )

    class Meta(OrgOwned.Meta):
        ordering = ["pathway__position", "title"]

    def __str__(self) -> str:
        return self.title

    def activity_target(self) -> tuple[str, int | None, str]:
        return OBJECTIVE_TARGET, self.pk, ""


class MetricType(models.TextChoices):
    NUMBER = "number", "Number"
    PERCENTAGE = "percentage", "Percentage"
    CURRENCY = "currency", "Currency"
    YES_NO = "yes_no", "Yes / no"
    MILESTONE = "milestone", "Milestones"


class KeyResult(OrgOwned):
    # Blank too: a synced key result whose objective is gone in Airtable can still be edited
    # and checked in on (no form here moves a key result to another objective).
    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, related_name="key_results", null=True, blank=True
    )
    title = models.CharField(max_length=TITLE_MAX)
    metric_type = models.CharField(
        max_length=12, choices=MetricType.choices, default=MetricType.NUMBER
    )
    start_value = models.DecimalField(**VALUE_DIGITS, default=0, validators=VALUE_VALIDATORS)
    current_value = models.DecimalField(**VALUE_DIGITS, default=0, validators=VALUE_VALIDATORS)
    target_value = models.DecimalField(**VALUE_DIGITS, validators=VALUE_VALIDATORS)
    unit = models.CharField(max_length=24, blank=True)
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=1, validators=[MinValueValidator(0)]
    )
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=CONFIDENCE_VALIDATORS, help_text="0 (none) to 10 (sure)"
    )
    owner = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="key_results"
    )
    carried_over_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="carried_over_to",
    )

    class Meta(OrgOwned.Meta):
        ordering = ["objective", "id"]

    def __str__(self) -> str:
        return self.title

    def activity_target(self) -> tuple[str, int | None, str]:
        return OBJECTIVE_TARGET, self.objective_id, f"kr-{self.pk}"

    def clean(self) -> None:
        super().clean()
        if self.metric_type == MetricType.YES_NO:
            self.start_value, self.target_value = Decimal(0), Decimal(1)
        if (
            self.start_value is not None
            and self.target_value is not None
            and self.start_value == self.target_value
        ):
            raise ValidationError(
                {"target_value": "The target must differ from the start, or nothing can move."}
            )

    def validate_check_in_value(self, value: Decimal) -> None:
        """Refuse a check-in value that this key result's metric cannot take: a yes/no key
        result is 1 (done) or 0 (not done). `CheckIn.clean` calls this, so the services and
        the admin refuse it; the check-in form calls it to show the error beside its field."""
        if self.metric_type == MetricType.YES_NO and value not in (0, 1):
            raise ValidationError(
                "A yes/no key result takes 1 (done) or 0 (not done).", code="yes_no_value"
            )


class CheckIn(OrgOwned):
    """One step of a key result's progress history."""

    key_result = models.ForeignKey(
        KeyResult, on_delete=models.CASCADE, related_name="check_ins", null=True
    )
    value = models.DecimalField(**VALUE_DIGITS, validators=VALUE_VALIDATORS)
    confidence = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=CONFIDENCE_VALIDATORS
    )
    note = models.TextField(blank=True, max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    checked_in_at = models.DateTimeField(
        default=timezone.now, db_index=True, validators=DATE_VALIDATORS
    )
    # Set when a person edits it (its earlier versions are its `revisions`), and when a person
    # deletes it: a deleted check-in is archived (`archived_at`, out of every figure) and kept,
    # shown as deleted to admins, who may restore it. Archived without `deleted_by`: the sync
    # found it deleted in Airtable.
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta(OrgOwned.Meta):
        ordering = ["-checked_in_at"]
        get_latest_by = "checked_in_at"
        # Partial on live rows, as for_org reads them: a key result's latest check-in (the key
        # result list, progress) and the organization's newest first (dashboard, check-in list).
        indexes = [
            models.Index(
                "key_result",
                models.F("checked_in_at").desc(),
                condition=models.Q(archived_at__isnull=True),
                name="checkin_live_by_kr",
            ),
            models.Index(
                "organization",
                models.F("checked_in_at").desc(),
                models.F("id").desc(),
                condition=models.Q(archived_at__isnull=True),
                name="checkin_live_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_result}: {self.value}"

    def clean(self) -> None:
        super().clean()
        # No key result or no valid value: the field errors already say so.
        if self.key_result_id is not None and self.value is not None:
            try:
                self.key_result.validate_check_in_value(self.value)
            except ValidationError as error:
                raise ValidationError({"value": error.error_list}) from None


class ObjectiveReview(OrgScoped):
    """The closing note of an objective at its cycle's end (one per objective: an objective
    belongs to one cycle; its continuation in the next cycle is another objective)."""

    objective = models.OneToOneField(Objective, on_delete=models.CASCADE, related_name="review")
    note = models.TextField(blank=True, max_length=5000)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Review of {self.objective}"

    def activity_target(self) -> tuple[str, int | None, str]:
        return OBJECTIVE_TARGET, self.objective_id, "review"


class CheckInReminderOptOut(models.Model):
    """A user who switched off the weekly check-in reminder (all their organizations: the
    email is one per person, across them). Not organization-owned: it is the user's own."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="check_in_reminder_opt_out"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} switched check-in reminders off"


class CheckInReminderSent(models.Model):
    """The weekly check-in reminder sent to a user for the week starting `week_of` (a
    Monday): what keeps a second run of beat in the same week from sending it again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_of = models.DateField()
    due_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week_of"], name="one_reminder_per_week")
        ]

    def __str__(self) -> str:
        return f"Check-in reminder to {self.user} for the week of {self.week_of}"


class CheckInRevision(OrgScoped):
    """A check-in as it stood before an edit: the history an edit keeps."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="revisions")
    value = models.DecimalField(**VALUE_DIGITS)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    checked_in_at = models.DateTimeField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-edited_at", "-id"]

    def __str__(self) -> str:
        return f"{self.check_in_id} before {self.edited_at:%Y-%m-%d %H:%M}: {self.value}"


COMMENT_MAX = 2000


class Comment(OrgScoped):
    """A plain-text comment on an objective or on a key result (exactly one), with the people
    of the organization it mentions (`mentions`, `spans`: okrs.mentions)."""

    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    key_result = models.ForeignKey(
        KeyResult, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=COMMENT_MAX)
    # [[start, end, person_id], ...]: where in `body` each resolved @mention is.
    spans = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(objective__isnull=False, key_result__isnull=True)
                | models.Q(objective__isnull=True, key_result__isnull=False),
                name="comment_on_one_record",
            )
        ]
        indexes = [models.Index(fields=["organization", "created_at"])]

    def __str__(self) -> str:
        return self.body[:60]


class Mention(OrgScoped):
    """A person of the organization named in a comment: what "My work" lists."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "person"], name="unique_mention")]

    def __str__(self) -> str:
        return f"{self.person} in {self.comment_id}"


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DONE = "done", "Done"
    ABANDONED = "abandoned", "Abandoned"


class Project(OrgOwned):
    name = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=5000)
    pathway = models.ForeignKey(
        Pathway, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    objectives = models.ManyToManyField(Objective, blank=True, related_name="projects")
    owner = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    status = models.CharField(
        max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    starts_on = models.DateField(null=True, blank=True, validators=DATE_VALIDATORS)
    ends_on = models.DateField(null=True, blank=True, validators=DATE_VALIDATORS)
    last_activity_at = models.DateTimeField(default=timezone.now, validators=DATE_VALIDATORS)

    class Meta(OrgOwned.Meta):
        ordering = ["name"]
        # The project list's order (and the task list's project choices), live rows only.
        indexes = [
            models.Index(
                fields=["organization", "name", "id"],
                condition=models.Q(archived_at__isnull=True),
                name="project_live_by_name",
            )
        ]
        constraints = [
            *OrgOwned.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="project_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def activity_target(self) -> tuple[str, int | None, str]:
        return PROJECT_TARGET, self.pk, ""

    def clean(self) -> None:
        super().clean()
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date cannot be before the start date."})


class TaskStatus(models.TextChoices):
    TODO = "todo", "To do"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class Task(OrgOwned):
    # Blank too: a synced task whose project is gone in Airtable can still be edited and moved
    # (its edit form offers a project to put it in); new tasks are always made in a project.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="tasks", null=True, blank=True
    )
    title = models.CharField(max_length=TITLE_MAX)
    assignee = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.TODO)
    due_on = models.DateField(null=True, blank=True, validators=DATE_VALIDATORS)
    completed_at = models.DateTimeField(null=True, blank=True, validators=DATE_VALIDATORS)
    # When someone last did something with it, here or in Airtable (the sync takes Airtable's
    # last-modified time): what tells a live project from an abandoned one.
    last_activity_at = models.DateTimeField(default=timezone.now, validators=DATE_VALIDATORS)

    class Meta(OrgOwned.Meta):
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["organization", "status", "due_on"]),
            # Open work by due date, oldest first: the dashboard's overdue tasks and their list.
            # The condition is what open_tasks() asks (not done, not archived), so the planner
            # can use it; done tasks, most of an old organization's, are not in it.
            models.Index(
                fields=["organization", "due_on", "id"],
                condition=models.Q(archived_at__isnull=True) & ~models.Q(status=TaskStatus.DONE),
                name="task_open_by_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def activity_target(self) -> tuple[str, int | None, str]:
        return PROJECT_TARGET, self.project_id, f"task-{self.pk}"
