"""The sign-in forms when Supabase Auth is configured."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from missionos.forms import CleanInputForm
from orgs.supabase.backend import refusal_of


class SupabaseLoginForm(CleanInputForm, AuthenticationForm):
    """Email and password, checked by Supabase through the auth backend; a refusal with a reason
    (an unconfirmed address, a token that failed verification) shows that reason."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            refusal = refusal_of(self.request) if self.request is not None else None
            if refusal is not None:
                raise ValidationError(refusal.message, code=refusal.code) from None
            raise


class EmailForm(CleanInputForm, forms.Form):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class CodeForm(CleanInputForm, forms.Form):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    code = forms.RegexField(
        label="Code from the email",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "Enter the 6 digits from the email."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


class NewPasswordForm(CleanInputForm, forms.Form):
    """A password twice; Django's validators run too (Supabase then applies its own rules)."""

    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password, not only digits.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            try:
                password_validation.validate_password(first)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpForm(NewPasswordForm):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    field_order = ["email", "password1", "password2"]
