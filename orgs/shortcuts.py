"""What every organization page's view does the same way: find one of the organization's
objects (or 404: missing and foreign look the same) and link to another of its pages.

Each app registers the URL kwargs that name its objects (`register_url_object("task_id",
Task)` in its `AppConfig.ready()`), so that a request refused for its role can first answer
404 for an object that is not the organization's: the answer to a foreign id never depends on
the visitor's role (tests/orgs/test_url_coverage.py checks every kwarg of the URLconf is here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from orgs.tenancy import ScopedQuerySet

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)


def org_object_or_404(
    request: HttpRequest, model_or_queryset: type[M] | ScopedQuerySet, **lookups
) -> M:
    """One object of the request's organization (`request.org`), or 404. Given a queryset,
    it is narrowed to the organization too (e.g. with `select_related`)."""
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset.objects.all()
    )
    return get_object_or_404(queryset.for_org(request.org), **lookups)


# URL kwarg -> the organization-owned model whose id it carries.
URL_OBJECTS: dict[str, type[models.Model]] = {}


def register_url_object(kwarg: str, model: type[models.Model]) -> None:
    URL_OBJECTS[kwarg] = model


def url_objects_or_404(request: HttpRequest, kwargs: dict) -> None:
    """404 unless every object the URL names (by a registered kwarg) is the organization's."""
    for kwarg, value in kwargs.items():
        model = URL_OBJECTS.get(kwarg)
        if model is None:
            continue
        # An archived object is still the organization's (its restore page says so by role).
        rows = (
            model.objects.for_org(request.org, include_archived=True)
            if hasattr(model, "archived_at")
            else model.objects.for_org(request.org)
        )
        if not rows.filter(pk=value).exists():
            raise Http404("Not found.")


def found_or_404(lookup: Callable[[], T]) -> T:
    """Run a selector that fetches one object; missing or foreign is a 404."""
    try:
        return lookup()
    except ObjectDoesNotExist as missing:
        raise Http404("Not found.") from missing


def org_url(request: HttpRequest, name: str, **kwargs) -> str:
    """The URL of another page of the request's organization."""
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})
