"""The one create/edit flow every record form of every app uses."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    save: Callable[[forms.BaseForm], object],
    success_url: Callable[[object], str],
    title: str,
    cancel_url: str,
    saved_message: str,
    other_actions: list[tuple[str, str]] = (),
) -> HttpResponse:
    """GET shows the form; a valid POST saves through `save` and redirects; an invalid one
    re-renders with the errors beside their fields (status 400) and saves nothing.
    `other_actions`: (label, url) links shown under the form (an edit page's "Archive…")."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, saved_message)
            return redirect(success_url(saved))
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "title": title,
        "cancel_url": cancel_url,
        "other_actions": other_actions,
    }
    return render(request, "form_page.html", context, status=status)
