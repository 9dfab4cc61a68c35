"""Tenancy that cannot be bypassed by accident.

Every organization-owned model's default manager returns a queryset that refuses to run until
it has been scoped:

- `for_org(organization)`: one organization's rows (the pages, the services, the sync);
- `for_member(user)`: the rows of every organization the user belongs to (cross-org pages);
- `unscoped()`: every organization's rows, on purpose (the admin for superusers, maintenance
  across organizations); greppable, so every exception is visible in review.

A related manager (`objective.key_results`, prefetches) is scoped by its parent row, which was
itself read through a scoped query, so it runs as it is. Building a queryset is free; the check
happens when it would hit the database (fetch, count, exists, aggregate, update, delete), so an
unscoped queryset used only as a correlated subquery (`OuterRef`) is fine.

Rows the sync archived (soft-deleted, `archived_at`) are left out of `for_org`, `for_member`
and `unscoped` unless `include_archived=True` says otherwise; `live()` and `live_q()` say
"not archived" for related managers and joins, so nobody types the rule by hand.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Self

from django.db import models
from django.db.models import Q

_allow_unscoped: ContextVar[bool] = ContextVar("allow_unscoped", default=False)


class UnscopedQueryError(RuntimeError):
    """An organization-owned query ran without saying whose rows it wants."""


@contextlib.contextmanager
def unscoped_queries() -> Iterator[None]:
    """Let Django's own machinery query unscoped inside the block: its uniqueness checks
    (`validate_unique`, `validate_constraints`) query the default manager, and the constraints
    they check carry the organization themselves."""
    token = _allow_unscoped.set(True)
    try:
        yield
    finally:
        _allow_unscoped.reset(token)


class UniquenessChecksUnscoped:
    """Model mixin: Django's uniqueness checks (`full_clean`) query the default manager; every
    unique constraint of a scoped model carries the organization or the user itself."""

    def validate_unique(self, exclude=None) -> None:
        with unscoped_queries():
            super().validate_unique(exclude)

    def validate_constraints(self, exclude=None) -> None:
        with unscoped_queries():
            super().validate_constraints(exclude)


def live_q(path: str = "") -> Q:
    """ "Not archived", for a row reached through `path` ("tasks", "objective__pathway")."""
    return Q(**{f"{path}__archived_at__isnull" if path else "archived_at__isnull": True})


class ScopedQuerySet(models.QuerySet):
    """A queryset that runs only once something has said whose rows it reads."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tenancy_scope: str | None = None

    def _clone(self) -> Self:
        clone = super()._clone()
        clone._tenancy_scope = self._tenancy_scope
        return clone

    def _scoped(self, scope: str) -> Self:
        clone = self._chain()
        clone._tenancy_scope = scope
        return clone

    def unscoped(self) -> Self:
        """Every organization's rows, on purpose."""
        return self._scoped("unscoped")

    @property
    def tenancy_scope(self) -> str | None:
        """How the query was scoped: "org", "member", "user", "unscoped", "parent" (a related
        manager), or None (it would raise)."""
        if self._tenancy_scope is not None:
            return self._tenancy_scope
        return "parent" if "instance" in self._hints else None

    def _require_scope(self) -> None:
        if self.tenancy_scope is None and not _allow_unscoped.get():
            name = self.model.__name__
            raise UnscopedQueryError(
                f"{name} rows belong to organizations: scope the query with "
                f"{name}.objects.for_org(organization) (or for_member(user)), or say "
                f"{name}.objects.unscoped() where every organization's rows are meant "
                f"(query run at {_caller()})."
            )

    # Every way a queryset reaches the database passes one of these.
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._require_scope()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._require_scope()
        return super().iterator(*args, **kwargs)

    def aiterator(self, *args, **kwargs):
        self._require_scope()
        return super().aiterator(*args, **kwargs)

    def count(self) -> int:
        if self._result_cache is None:
            self._require_scope()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._require_scope()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._require_scope()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs) -> int:
        self._require_scope()
        return super().update(**kwargs)

    update.alters_data = True

    def delete(self):
        self._require_scope()
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True

    def in_bulk(self, *args, **kwargs):
        self._require_scope()
        return super().in_bulk(*args, **kwargs)

    def explain(self, *args, **kwargs) -> str:
        self._require_scope()
        return super().explain(*args, **kwargs)


def _caller() -> str:
    """The first frame outside Django and this module: where the unscoped query was run."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/django/" not in frame.filename and not frame.filename.endswith("tenancy.py"):
            return f"{frame.filename}:{frame.lineno}"
    return "unknown"


class OrgScopedQuerySet(ScopedQuerySet):
    """The one way to read organization-owned rows: `Model.objects.for_org(org)`."""

    def _live_unless(self, include_archived: bool) -> Self:
        if include_archived or not hasattr(self.model, "archived_at"):
            return self
        return self.filter(live_q())

    def live(self) -> Self:
        """Leave out rows the sync archived (for related managers: `objective.key_results`)."""
        return self._live_unless(False)

    def for_org(self, organization, *, include_archived: bool = False) -> Self:
        return self._scoped("org").filter(organization=organization)._live_unless(include_archived)

    def for_member(self, user, *, include_archived: bool = False) -> Self:
        """Rows of every organization the user belongs to (the cross-organization pages)."""
        return (
            self._scoped("member")
            .filter(organization__memberships__user=user)
            ._live_unless(include_archived)
        )

    def unscoped(self, *, include_archived: bool = False) -> Self:
        """Every organization's rows, on purpose (the admin for superusers, maintenance)."""
        return self._scoped("unscoped")._live_unless(include_archived)


class MembershipQuerySet(ScopedQuerySet):
    """Memberships are the tenancy itself: read them for a user or for an organization."""

    def for_user(self, user) -> Self:
        return self._scoped("user").filter(user=user)

    def for_org(self, organization) -> Self:
        return self._scoped("org").filter(organization=organization)

    def for_member(self, user) -> Self:
        """The memberships of every organization the user belongs to (the admin)."""
        return self._scoped("member").filter(organization__memberships__user=user)
