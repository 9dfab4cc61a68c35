"""Forms for OKRs, projects and tasks. Cross-field rules live on the models (`clean()`),
so these and the services enforce the same ones."""

from __future__ import annotations

from django import forms

from missionos.forms import CleanInputForm
from okrs.models import (
    COMMENT_MAX,
    VALUE_DIGITS,
    VALUE_MAX,
    Cycle,
    KeyResult,
    MetricType,
    Objective,
    Pathway,
    Project,
    Task,
    TaskStatus,
)
from orgs.forms import DateInput, OrgModelForm
from orgs.models import CheckInCadence, Person


class CycleForm(OrgModelForm):
    class Meta:
        model = Cycle
        fields = ["name", "starts_on", "ends_on"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}


class PathwayForm(OrgModelForm):
    class Meta:
        model = Pathway
        fields = ["name", "description", "position"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ObjectiveForm(OrgModelForm):
    class Meta:
        model = Objective
        fields = ["title", "pathway", "cycle", "owner", "parent", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"parent": "Supports objective"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An objective cannot support itself.
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(
                pk=self.instance.pk
            )


class KeyResultForm(OrgModelForm):
    class Meta:
        model = KeyResult
        fields = [
            "title",
            "metric_type",
            "start_value",
            "target_value",
            "unit",
            "weight",
            "owner",
        ]
        help_texts = {
            "start_value": "Where it stood when the objective was set.",
            "target_value": "Below the start for a metric that should go down. Yes/no uses 0 → 1.",
            "weight": "How much this key result counts in its objective (0 to leave it out).",
        }

    def save(self, commit=True):
        key_result = super().save(commit=False)
        if key_result.pk is None:
            # A new key result stands at its start until the first check-in.
            key_result.current_value = key_result.start_value
        if commit:
            key_result.save()
        return key_result


class CheckInForm(CleanInputForm, forms.Form):
    value = forms.DecimalField(
        label="New value", min_value=-VALUE_MAX, max_value=VALUE_MAX, **VALUE_DIGITS
    )
    confidence = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10,
        help_text="0 (no chance) to 10 (certain)",
    )
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, key_result: KeyResult, **kwargs):
        # One form per key result on a page: ids must not repeat, or labels point elsewhere.
        kwargs.setdefault("auto_id", f"id_kr{key_result.pk}_%s")
        super().__init__(*args, **kwargs)
        self.key_result = key_result
        self.fields["value"].widget.attrs.update({"step": "any", "inputmode": "decimal"})
        if key_result.metric_type == MetricType.YES_NO:
            self.fields["value"].help_text = "1 when done, 0 when not."

    def clean_value(self):
        # The model's rule, checked here too so that it shows beside the field.
        value = self.cleaned_data["value"]
        self.key_result.validate_check_in_value(value)
        return value


class CommentForm(CleanInputForm, forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Plain text. Mention someone here with @ and their name, e.g. @Jo Smith.",
    )

    def __init__(self, *args, prefix_id: str = "", **kwargs):
        # One comment form per record on a page: ids must not repeat.
        if prefix_id:
            kwargs.setdefault("auto_id", f"id_{prefix_id}_%s")
        super().__init__(*args, **kwargs)


class ProjectForm(OrgModelForm):
    class Meta:
        model = Project
        fields = [
            "name",
            "pathway",
            "objectives",
            "owner",
            "status",
            "starts_on",
            "ends_on",
            "description",
        ]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "objectives": forms.CheckboxSelectMultiple(attrs={"class": "checkbox-list"}),
        }
        labels = {"starts_on": "Start date", "ends_on": "End date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        objectives = self.fields["objectives"]
        objectives.queryset = objectives.queryset.select_related("cycle", "pathway").order_by(
            "-cycle__starts_on", "pathway__position", "title"
        )
        # Near-identical titles exist in real plans: say which pathway and cycle each is in.
        objectives.label_from_instance = lambda o: (
            f"{o.title} · {o.pathway.name if o.pathway else 'no pathway'}"
            + (f" · {o.cycle.name}" if o.cycle else "")
        )


class TaskForm(OrgModelForm):
    class Meta:
        model = Task
        fields = ["title", "assignee", "status", "due_on", "project"]
        widgets = {"due_on": DateInput()}
        labels = {"due_on": "Due date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.project_id is not None:
            # A task stays in its project here; only one that lost it (a synced task whose
            # project is gone in Airtable) is offered one, and may keep none.
            del self.fields["project"]
        else:
            self.fields["project"].required = False
            self.fields["project"].empty_label = "No project (as in Airtable)"
            self.fields[
                "project"
            ].help_text = (
                "Its project is missing in Airtable. Choose one to put it in, or leave it empty."
            )


class TaskStatusForm(CleanInputForm, forms.Form):
    status = forms.ChoiceField(choices=TaskStatus.choices)


class ObjectiveReviewForm(CleanInputForm, forms.Form):
    """The closing note of an objective's end-of-cycle review."""

    note = forms.CharField(
        label="Closing note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What was learned, why it ended where it did, what happens next.",
    )


class CarryOverForm(CleanInputForm, forms.Form):
    """Which unfinished objectives of a cycle to copy, and into which later cycle."""

    objectives = forms.ModelMultipleChoiceField(
        queryset=Objective.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Unfinished objectives to carry over",
        error_messages={"required": "Choose at least one objective to carry over."},
    )
    next_cycle = forms.ModelChoiceField(
        queryset=Cycle.objects.none(), label="Into", empty_label=None
    )

    def __init__(self, *args, objectives, cycles, offered=None, **kwargs):
        """`objectives`: those accepted; `offered`: those shown as choices (all when None)."""
        super().__init__(*args, **kwargs)
        self.fields["objectives"].queryset = objectives
        if offered is not None:
            self.fields["objectives"].widget.choices = [(o.pk, str(o)) for o in offered]
        self.fields["next_cycle"].queryset = cycles


class NotificationsForm(CleanInputForm, forms.Form):
    check_in_reminders = forms.BooleanField(
        label="Weekly check-in reminder",
        required=False,
        help_text="One email a week listing the check-ins due from you, in all your organizations.",
    )
    CADENCE_PREFIX = "cadence_"

    def __init__(self, *args, people: list[Person] = (), **kwargs):
        """`people`: the user's own directory entries (orgs.selectors.own_people), one select
        of their check-in cadence each, named after the organization."""
        super().__init__(*args, **kwargs)
        self.people = list(people)
        for person in self.people:
            self.fields[self.cadence_field(person)] = forms.ChoiceField(
                label=f"Check-in cadence in {person.organization.name}",
                choices=CheckInCadence.choices,
                initial=person.check_in_cadence,
                help_text="How often a check-in falls due on the key results you own there.",
                # Left out (an older form, a script): that cadence stays as it is.
                required=False,
                error_messages={"invalid_choice": "Choose weekly, every two weeks or monthly."},
            )

    @classmethod
    def cadence_field(cls, person: Person) -> str:
        return f"{cls.CADENCE_PREFIX}{person.pk}"

    def cadence_fields(self) -> list[forms.BoundField]:
        return [self[self.cadence_field(person)] for person in self.people]

    def clean(self):
        cleaned = super().clean()
        # A cadence for a person not offered (someone else's, another organization's): refused.
        offered = {self.cadence_field(person) for person in self.people}
        posted = {name for name in self.data if name.startswith(self.CADENCE_PREFIX)}
        if posted - offered:
            raise forms.ValidationError("You can set only your own check-in cadence.")
        return cleaned

    def cadences(self) -> dict[int, str]:
        """The cadences chosen (person id -> cadence), those left out not included."""
        return {
            person.pk: self.cleaned_data[self.cadence_field(person)]
            for person in self.people
            if self.cleaned_data.get(self.cadence_field(person))
        }
