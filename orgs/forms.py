"""Forms for organization-owned records, and for memberships."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from missionos.dates import validate_kept_date
from missionos.forms import CleanInputForm
from orgs import selectors
from orgs.audit import audit_kind_choices
from orgs.models import CheckInCadence, OrgOwned, Person, Role
from orgs.selectors import AuditFilters


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class OrgModelForm(CleanInputForm, forms.ModelForm):
    """A ModelForm bound to one organization.

    Every choice of an organization-owned model is limited to that organization, so an id from
    another organization is refused beside its field ("Select a valid choice"), and the saved
    instance always carries the organization. Choices leave out archived rows and people who
    departed, except the one already chosen.
    """

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.instance.organization = organization
        for name, field in self.fields.items():
            model = getattr(getattr(field, "queryset", None), "model", None)
            if model is None or not issubclass(model, OrgOwned):
                continue
            # The current choice stays choosable even once archived (a project linked to an
            # archived pathway can still be edited), like a departed person already chosen.
            current = getattr(self.instance, f"{name}_id", None)
            chosen = Q(pk=current)
            if isinstance(field, forms.ModelMultipleChoiceField) and self.instance.pk:
                chosen = Q(pk__in=getattr(self.instance, name).values("pk"))
            queryset = model.objects.for_org(organization, include_archived=True).filter(
                Q(archived_at__isnull=True) | chosen
            )
            if model is Person:
                queryset = queryset.filter(Q(departed_on__isnull=True) | Q(pk=current))
            field.queryset = queryset


class PersonForm(OrgModelForm):
    class Meta:
        model = Person
        fields = ["name", "email", "user", "departed_on", "check_in_cadence"]
        widgets = {"departed_on": DateInput()}
        labels = {
            "departed_on": "Departed on",
            "user": "MissionOS account",
            "check_in_cadence": "Check-in cadence",
        }
        help_texts = {
            "departed_on": "Leave empty while the person is still here.",
            "user": "Links their tasks and key results to this member's “My work”.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only members of this organization can be linked.
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(memberships__organization=self.organization)
            .order_by("username")
        )
        # Left out (an older form, a script): the cadence stays as it is, weekly for a new one.
        self.fields["check_in_cadence"].required = False

    def clean_check_in_cadence(self):
        return self.cleaned_data["check_in_cadence"] or (
            self.instance.check_in_cadence or CheckInCadence.WEEKLY
        )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        holder = selectors.person_with_email(
            organization=self.organization, email=email, other_than=self.instance.pk
        )
        if holder is not None:
            raise forms.ValidationError(selectors.email_taken_message(holder))
        return email

    def clean_user(self):
        user = self.cleaned_data["user"]
        taken = (
            Person.objects.for_org(self.organization, include_archived=True)
            .filter(user=user)
            .exclude(pk=self.instance.pk)
        )
        if user is not None and taken.exists():
            raise forms.ValidationError(
                f"{user.get_username()} is already linked to {taken.first().name}."
            )
        return user


class InvitationForm(CleanInputForm, forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="They get a link to accept; they become a member only once they do.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(CleanInputForm, forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AuditFilterForm(CleanInputForm, forms.Form):
    """The audit log's filters, from the query string. A filter that does not hold is said
    beside itself and left out; the others still apply."""

    actor = forms.ChoiceField(label="Who", required=False)
    kind = forms.ChoiceField(label="Record", required=False)
    action = forms.ChoiceField(label="Action", required=False)
    since = forms.DateField(
        label="From", required=False, widget=DateInput(), validators=[validate_kept_date]
    )
    until = forms.DateField(
        label="To", required=False, widget=DateInput(), validators=[validate_kept_date]
    )

    def __init__(self, data, *, actors: list[str], actions: list[str]):
        super().__init__(data, label_suffix="")
        self.fields["actor"].choices = [("", "Anyone"), *((name, name) for name in actors)]
        self.fields["kind"].choices = [("", "Any record"), *audit_kind_choices()]
        self.fields["action"].choices = [("", "Any action"), *((name, name) for name in actions)]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", "Choose a day on or after the first one.")
        return cleaned

    def filters(self) -> AuditFilters:
        """The filters that hold (call after `is_valid()`)."""
        cleaned = self.cleaned_data
        return AuditFilters(
            actor=cleaned.get("actor") or "",
            kind=cleaned.get("kind") or "",
            action=cleaned.get("action") or "",
            since=cleaned.get("since"),
            until=cleaned.get("until"),
        )
