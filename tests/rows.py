"""Reading rows in assertions across the tenancy (orgs.tenancy)."""

from __future__ import annotations

from django.db import models

from orgs.tenancy import OrgScopedQuerySet, ScopedQuerySet


def every_row(model: type[models.Model]) -> models.QuerySet:
    """Every row of `model`, every organization's and archived ones included: for assertions
    that nothing (or exactly this) was written anywhere."""
    queryset = model.objects.all()
    if isinstance(queryset, OrgScopedQuerySet):
        return queryset.unscoped(include_archived=True)
    if isinstance(queryset, ScopedQuerySet):
        return queryset.unscoped()
    return queryset
