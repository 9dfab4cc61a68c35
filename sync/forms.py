"""Forms for connecting a base, its token, its schedule, and its mapping."""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.core.validators import RegexValidator

from missionos.forms import CleanInputForm
from sync.mapping.catalogue import ENTITIES
from sync.mapping.document import EntityMapping, Mapping
from sync.mapping.names import normalize_value
from sync.mapping.propose import candidate_fields, propose_value_map
from sync.schema import BaseSchema

# Airtable's tokens are some 80 characters of printable ASCII; anything else is a paste gone
# wrong, refused at once rather than sent in a header that cannot carry it (retried for seconds).
TOKEN_MAX_LENGTH = 255
TOKEN_CHARACTERS = RegexValidator(
    r"^[\x21-\x7e]+$", "An Airtable token is letters, digits and punctuation, with no spaces."
)

MINUTE_CHOICES = [
    ("", "Off"),
    (15, "Every 15 minutes"),
    (30, "Every 30 minutes"),
    (60, "Every hour"),
    (180, "Every 3 hours"),
    (360, "Every 6 hours"),
    (1440, "Once a day"),
]


def full_sync_choices(minute: int) -> list[tuple]:
    """The nightly full sync's hours, each at the connection's own minute
    (sync.services.full_sync_minute)."""
    return [("", "Off")] + [
        (hour, f"Every night at {hour:02d}:{minute:02d} UTC") for hour in range(24)
    ]


class ConnectionForm(CleanInputForm, forms.Form):
    name = forms.CharField(max_length=120, help_text="How MissionOS shows this base.")
    base_id = forms.CharField(
        label="Base id",
        max_length=40,
        help_text="From the base's URL: airtable.com/appXXXXXXXXXXXXXX/…",
    )
    token = forms.CharField(
        label="Personal access token",
        max_length=TOKEN_MAX_LENGTH,
        validators=[TOKEN_CHARACTERS],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Scopes data.records:read and schema.bases:read, with access to this base. "
        "Stored encrypted; only its last four characters are ever shown.",
    )


class TokenForm(CleanInputForm, forms.Form):
    token = forms.CharField(
        label="New personal access token",
        max_length=TOKEN_MAX_LENGTH,
        validators=[TOKEN_CHARACTERS],
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class ScheduleForm(CleanInputForm, forms.Form):
    incremental_every_minutes = forms.TypedChoiceField(
        label="Incremental sync",
        choices=MINUTE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Pulls records changed since the last successful sync.",
    )
    full_at_hour = forms.TypedChoiceField(
        label="Full sync",
        choices=full_sync_choices(0),
        coerce=int,
        empty_value=None,
        required=False,
        help_text="Pulls everything: the only run that notices deleted records and archives them.",
    )

    def __init__(self, *args, full_sync_minute: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_at_hour"].choices = full_sync_choices(full_sync_minute)


class MappingForm(CleanInputForm, forms.Form):
    """One table picker per entity and one field picker per attribute of a mapped table.

    Field names are `table__<entity>` and `field__<entity>__<attribute>`; choosing another table
    for an entity takes effect on save, after which its fields can be picked.
    """

    def __init__(self, *args, mapping: Mapping, schema: BaseSchema, **kwargs):
        super().__init__(*args, **kwargs)
        self.mapping, self.schema = mapping, schema
        tables = [("", "— not synced —")] + [(t.id, t.name) for t in schema.tables]
        self.sections = []
        self._value_keys: dict[str, tuple[str, str]] = {}
        for entity, attrs in ENTITIES.items():
            current = mapping.entities.get(entity)
            table_field = f"table__{entity}"
            self.fields[table_field] = forms.ChoiceField(
                label=entity.replace("_", " ").capitalize(),
                choices=tables,
                required=False,
                initial=current.table_id if current else "",
            )
            attr_fields = []
            if current is not None:
                for attr_name in attrs:
                    name = f"field__{entity}__{attr_name}"
                    options = candidate_fields(mapping, schema, entity, attr_name)
                    self.fields[name] = forms.ChoiceField(
                        label=attr_name.replace("_", " "),
                        choices=[("", "—")] + [(f.id, f"{f.name} ({f.type})") for f in options],
                        required=False,
                        initial=current.fields.get(attr_name, ""),
                    )
                    attr_fields.append(name)
            self.sections.append((entity, table_field, attr_fields, self._value_fields(entity)))

    def _value_fields(self, entity: str) -> list[str]:
        """One select per option of each mapped choice field: what it means in MissionOS."""
        current = self.mapping.entities.get(entity)
        table = self.schema.table(current.table_id) if current else None
        names: list[str] = []
        if table is None:
            return names
        for attr_name, attr in ENTITIES[entity].items():
            schema_field = table.field(current.fields.get(attr_name, ""))
            if attr.kind != "choice" or schema_field is None:
                continue
            known = current.value_maps.get(attr_name, {})
            for index, option in enumerate(schema_field.choices):
                name = f"value__{entity}__{attr_name}__{index}"
                self.fields[name] = forms.ChoiceField(
                    label=f"{attr_name.replace('_', ' ')}: “{option}”",
                    choices=[("", "— not understood —")]
                    + [(v, v.replace("_", " ")) for v in attr.choices],
                    required=False,
                    initial=known.get(normalize_value(option), ""),
                )
                self._value_keys[name] = (attr_name, normalize_value(option))
                names.append(name)
        return names

    def mapping_data(self) -> dict:
        """The mapping to save. A newly chosen table starts with the best field for each
        required attribute; a changed choice field gets its value map proposed afresh."""
        data = self.mapping.to_dict()
        entities = {}
        for entity, table_field, attr_fields, value_fields in self.sections:
            table_id = self.cleaned_data.get(table_field) or ""
            if not table_id:
                continue
            table = self.schema.table(table_id)
            before = data["entities"].get(entity, {})
            if before.get("table_id") != table_id:
                fields = self._required_defaults(entity, table_id, table.name)
            else:
                fields = {
                    name.split("__")[2]: field_id
                    for name in attr_fields
                    if (field_id := self.cleaned_data.get(name))
                }
            edited: dict[str, dict[str, str]] = defaultdict(dict)
            for name in value_fields:
                attr, key = self._value_keys[name]
                if choice := self.cleaned_data.get(name):
                    edited[attr][key] = choice
            value_maps = {}
            for attr, field_id in fields.items():
                if before.get("fields", {}).get(attr) == field_id and any(
                    self._value_keys[n][0] == attr for n in value_fields
                ):
                    value_maps[attr] = edited.get(attr, {})
                    continue
                if before.get("fields", {}).get(attr) == field_id and attr in before.get(
                    "value_maps", {}
                ):
                    value_maps[attr] = before["value_maps"][attr]
                elif ENTITIES[entity][attr].kind == "choice" and table.field(field_id):
                    value_maps[attr] = propose_value_map(
                        ENTITIES[entity][attr], table.field(field_id)
                    )
            entities[entity] = {
                "table_id": table_id,
                "table_name": table.name,
                "fields": fields,
                "field_names": {
                    a: table.field(f).name for a, f in fields.items() if table.field(f)
                },
                "value_maps": value_maps,
            }
        return {**data, "entities": entities}

    def _required_defaults(self, entity: str, table_id: str, table_name: str) -> dict[str, str]:
        trial = Mapping.from_dict(self.mapping.to_dict())
        trial.entities[entity] = EntityMapping(entity, table_id, table_name, {}, {})
        fields: dict[str, str] = {}
        for attr_name, attr in ENTITIES[entity].items():
            if attr.required and (
                options := candidate_fields(trial, self.schema, entity, attr_name)
            ):
                fields[attr_name] = options[0].id
        return fields
