"""The input rules every form applies (missionos.forms.CleanInputForm), and the faults the fuzz
(tests/test_fuzz_forms.py) found, each pinned by a test of its own."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from missionos.forms import CleanInputForm, plain_decimal
from missionos.text import control_characters, without_control_characters
from okrs.forms import CheckInForm, ProjectForm, TaskForm
from orgs.forms import InvitationForm, PersonForm
from sync.forms import ConnectionForm, TokenForm
from sync.models import Connection, SyncConflict
from tests.factories import KeyResultFactory, ObjectiveFactory, TaskFactory

PRODUCT = ("missionos", "orgs", "okrs", "sync", "health")


def product_forms() -> list[type[forms.BaseForm]]:
    """Every form class the product defines (all its modules imported first)."""
    for package in PRODUCT:
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        for subclass in todo.pop().__subclasses__():
            todo.append(subclass)
            module = subclass.__module__
            # The admin's forms are exempt, as the admin is from the URL walk: staff only, and
            # most of its forms are built by Django (tests/orgs/test_url_coverage.py).
            if module.split(".")[0] in PRODUCT and not module.endswith(".admin"):
                found.append(subclass)
    return found


def test_every_form_of_the_product_applies_the_input_rules():
    classes = product_forms()
    assert {"PersonForm", "CheckInForm", "MappingForm", "TokenForm"} <= {
        c.__name__ for c in classes
    }
    lacking = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, CleanInputForm)]
    assert not lacking, f"give these forms missionos.forms.CleanInputForm first: {lacking}"


def test_control_characters_are_found_and_dropped():
    assert control_characters("a\x00b\x1f\x00c\x7f\x85\t\n\r") == "\x00\x1f\x7f\x85"
    assert control_characters("tab\tnewline\nreturn\r, emoji 👩‍👩‍👧, RTL \u200f") == ""
    assert without_control_characters("Ti\x00tle\x0b \x9fdone\n") == "Title done\n"


@given(st.decimals(min_value=-(10**11), max_value=10**11, places=4, allow_nan=False))
def test_a_stored_decimal_is_shown_as_written_and_reads_back_the_same(value):
    shown = plain_decimal(value)
    assert Decimal(shown) == value
    assert "E" not in shown and not ("." in shown and shown.endswith(("0", ".")))


# -- regressions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_key_results_form_shows_its_figures_without_the_columns_zeros(owner_client, org):
    """Seen on every edit page: a target of 20 showed as "20.0000", a weight of 1 as "1.00"."""
    key_result = KeyResultFactory(
        organization=org,
        start_value=Decimal("41"),
        target_value=Decimal("20.5"),
        weight=Decimal("1"),
    )
    key_result.refresh_from_db()  # as stored: Decimal("20.5000")
    page = owner_client.get(
        reverse("key_result_edit", args=[org.slug, key_result.pk])
    ).content.decode()
    assert 'value="41"' in page and 'value="20.5"' in page and 'value="1"' in page
    assert "20.5000" not in page and "1.00" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["\x00", "nul\x00inside", "bell\x07", "esc\x1b[31m", "c1\x85"])
def test_control_characters_are_a_form_error_beside_the_field(org, text):
    """Found by the fuzz on Postgres: NUL cannot be stored; the other control characters were
    stored as they came. Now every text field refuses them, in every form."""
    person = PersonForm({"name": f"Dana {text} Scully", "email": ""}, organization=org)
    assert not person.is_valid()
    assert "control characters" in " ".join(person.errors["name"]) or "Null" in str(
        person.errors["name"]
    )
    invitation = InvitationForm({"email": f"x{text}y@example.org", "role": "member"})
    assert not invitation.is_valid() and "email" in invitation.errors
    key_result = KeyResultFactory(organization=org)
    check_in = CheckInForm({"value": "3", "note": f"fine {text} here"}, key_result=key_result)
    assert not check_in.is_valid() and "note" in check_in.errors
    # Tab, line feed and carriage return are text.
    note = CheckInForm({"value": "3", "note": "one\r\n\ttwo"}, key_result=key_result)
    assert note.is_valid(), note.errors


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["9223372036854775808", "-9223372036854775809", "9" * 40])
def test_an_id_no_database_integer_holds_is_an_invalid_choice(org, pk):
    """Found by the fuzz on SQLite: a project's objectives (a ModelMultipleChoiceField) with
    2**63 raised OverflowError (500); a single choice field too, on the way."""
    objective = ObjectiveFactory(organization=org)
    form = ProjectForm(
        {"name": "Night clinics", "status": "planned", "objectives": [str(objective.pk), pk]},
        organization=org,
    )
    assert not form.is_valid()
    assert "objectives" in form.errors
    task = TaskForm({"title": "T", "status": "todo", "assignee": pk}, organization=org)
    assert not task.is_valid() and "assignee" in task.errors


@pytest.mark.parametrize(
    "token", ["patNorthwind\u202e.0123456789abcdef", "pat 0123456789", "p" * 256, "pat\x00abc"]
)
def test_a_token_airtable_cannot_have_issued_is_refused_at_once(token):
    """Found by the fuzz: a token with a character no HTTP header carries was sent anyway and
    retried for 14 seconds before the form said anything."""
    for form in (
        TokenForm({"token": token}),
        ConnectionForm({"name": "B", "base_id": "appX", "token": token}),
    ):
        assert not form.is_valid()
        assert "token" in form.errors


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    ['"><img src=x onerror=fuzz(2)>', "org_home", "/o/acme/\r\nSet-Cookie: x=1", "//evil.example/"],
)
def test_a_conflict_goes_back_only_to_a_page_of_this_site(owner_client, org, target):
    """Found by the fuzz: `next` that is no path was taken for a view's name by `redirect`
    (NoReverseMatch, 500); one with a line break could not be a header."""
    task = TaskFactory(organization=org)
    connection = Connection.objects.create(
        organization=org, name="Base", base_id="appACME00000001", token_encrypted="x"
    )
    conflict = SyncConflict.objects.create(
        organization=org, connection=connection, entity="task", row_id=task.pk, attribute="title"
    )
    url = reverse("sync_conflict_resolve", args=[org.slug, conflict.pk])
    response = owner_client.post(url, {"keep": "bogus", "next": target})
    assert response.status_code == 302
    assert response.url == reverse("org_home", args=[org.slug])
    kept = owner_client.post(url, {"keep": "bogus", "next": "/o/acme/projects/"})
    assert kept.url == "/o/acme/projects/"


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["pathway", "owner"])
def test_a_filter_by_an_id_no_database_holds_filters_by_nothing(owner_client, org, param):
    """Found by the fuzz on SQLite: /projects/?pathway=2**63 raised OverflowError (500)."""
    url = reverse("project_list", args=[org.slug])
    response = owner_client.get(url, {param: "9223372036854775808"})
    assert response.status_code == 200


def test_every_text_field_of_every_form_has_a_limit():
    unlimited = [
        f"{form_class.__name__}.{name}"
        for form_class in product_forms()
        for name, field in getattr(form_class, "base_fields", {}).items()
        if isinstance(field, forms.CharField)
        and not isinstance(field, forms.RegexField)  # a pattern bounds it
        and not isinstance(field.widget, forms.PasswordInput)  # the password validators do
        and not field.max_length
    ]
    assert not unlimited, f"text fields without a limit: {unlimited}"


@pytest.mark.django_db
def test_a_pasted_10000_character_note_is_refused_with_the_limit_named():
    key_result = KeyResultFactory()
    form = CheckInForm(
        data={"value": "1", "confidence": "5", "note": "x" * 10_000}, key_result=key_result
    )
    assert form.fields["note"].help_text == "Up to 2,000 characters."
    assert not form.is_valid()
    assert form.errors["note"] == ["Keep this to 2000 characters or fewer (it has 10000)."]
    assert (
        ProjectForm(organization=key_result.organization).fields["description"].help_text
        == "Up to 5,000 characters."
    )
