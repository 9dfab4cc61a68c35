"""The input rules every form of the project applies, in one home: `CleanInputForm`.

Every form class (plain or model form) has it among its bases, so that a rule added here holds
everywhere at once (tests/test_fuzz_forms.py checks that no form of the project lacks it):

- **Text** (every CharField, and so every text, email, slug and password field) refuses NUL
  and the other control characters (tab, line feed and carriage return excepted): Postgres text
  columns cannot hold NUL at all, and the others are invisible, break Airtable's cells and the
  pages' layout, and are never meant. The field says so beside itself, with no 500.
- **Decimals** are shown as a person writes them: a key result's target stored as 20.0000
  (the column's four places) shows as 20 in its form, a weight of 1.50 as 1.5.
- **Ids** that no database integer holds (beyond 64 bits) are an invalid choice, not a query
  that overflows (SQLite raises OverflowError on `pk__in=[2**63]`).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from missionos.text import control_characters

# The range of a 64-bit signed integer: every id column of SQLite and Postgres (bigint).
ID_MIN, ID_MAX = -(2**63), 2**63 - 1


def row_id(value: object) -> int | None:
    """A row id from a query parameter or a form's raw data, or None for anything that names no
    row: not a number, not positive, or past what a bigint holds (which SQLite cannot even be
    asked about)."""
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:  # not a number, or more digits than Python reads
        return None
    return number if number is not None and 0 < number <= ID_MAX else None


def refuse_control_characters(value: object) -> None:
    found = control_characters(str(value))
    if found:
        shown = ", ".join(f"U+{ord(char):04X}" for char in found[:3])
        raise ValidationError(
            f"Remove the invisible control characters ({shown}) from this text.",
            code="control_characters",
        )


def plain_decimal(value: object) -> object:
    """A stored Decimal without the zeros its column's scale pads it with ("20.0000" -> "20"),
    never in exponent form; anything else (typed text, None) as it is."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return value
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown_plainly(field: forms.DecimalField):
    prepare_value = field.prepare_value
    return lambda value: plain_decimal(prepare_value(value))


def _fits_an_id(value: object) -> bool:
    try:
        number = int(str(value).strip())
    except ValueError:
        return True  # not a number: the field's own check says "Select a valid choice"
    return ID_MIN <= number <= ID_MAX


def _ids_that_fit(field: forms.ModelChoiceField):
    """`field.clean`, refusing an out-of-range id before it reaches the database."""
    clean = field.clean

    def checked(value):
        values = value if isinstance(value, list | tuple) else [value]
        if not all(_fits_an_id(v) for v in values if v not in field.empty_values):
            raise ValidationError(field.error_messages["invalid_choice"], code="invalid_choice")
        return clean(value)

    return checked


class CleanInputForm(forms.BaseForm):
    """The project's input rules (see the module), applied to every field of the form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # this form's own copies of its fields
            if isinstance(field, forms.CharField):
                field.validators.append(refuse_control_characters)
                if field.max_length and isinstance(field.widget, forms.Textarea):
                    # A long free-text field says its limit before anyone pastes past it.
                    field.help_text = field.help_text or f"Up to {field.max_length:,} characters."
                    field.error_messages["max_length"] = (
                        "Keep this to %(limit_value)s characters or fewer (it has %(show_value)s)."
                    )
            if isinstance(field, forms.DecimalField):
                field.prepare_value = _shown_plainly(field)
            if isinstance(field, forms.ModelChoiceField):  # and ModelMultipleChoiceField
                field.clean = _ids_that_fit(field)
