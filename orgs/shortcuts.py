"""What every organization page's view does the same way: find one of the organization's
objects (or 404: missing and foreign look the same) and link to another of its pages."""

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


def found_or_404(lookup: Callable[[], T]) -> T:
    """Run a selector that fetches one object; missing or foreign is a 404."""
    try:
        return lookup()
    except ObjectDoesNotExist as missing:
        raise Http404("Not found.") from missing


def org_url(request: HttpRequest, name: str, **kwargs) -> str:
    """The URL of another page of the request's organization."""
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})
