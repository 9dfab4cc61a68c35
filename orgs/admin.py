"""Django admin for organizations, memberships and the people directory.

`OrgOwnedAdmin` is the base for every organization-owned model (here and in `okrs.admin`):
organization first in the filters, the sync provenance shown read-only, and foreign keys to
large tables picked through autocomplete so no change page renders thousands of options.
Cross-organization links are refused by the models' own `clean()`, which the admin forms run.

The admin is scoped like every other page (`TenantScopedAdmin`): a staff user sees, filters by
and links to the rows of the organizations they belong to; only superusers see every
organization's (`unscoped()`, on purpose).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet

from orgs.changes import record_written
from orgs.models import Membership, Organization, OrgOwned, OrgScoped, Person

PROVENANCE_FIELDS = ("source_table", "source_record_id", "last_synced_at")
TIMESTAMP_FIELDS = ("created_at", "updated_at")


def is_changelist(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match and match.url_name and match.url_name.endswith("_changelist"))


def admin_rows(model: type[models.Model], user) -> QuerySet:
    """The rows of `model` a staff user may see in the admin: those of their organizations,
    archived ones included; every organization's for a superuser."""
    if issubclass(model, OrgScoped):
        if user.is_superuser:
            return model.objects.unscoped(include_archived=True)
        return model.objects.for_member(user, include_archived=True)
    if model is Membership:
        if user.is_superuser:
            return Membership.objects.unscoped()
        return Membership.objects.for_member(user)
    if model is Organization:
        if user.is_superuser:
            return Organization.objects.all()
        # A subquery, not a join: the list's member count must count every membership.
        mine = Membership.objects.for_user(user).values("organization")
        return Organization.objects.filter(pk__in=mine)
    return model._default_manager.all()


class TenantScopedAdmin:
    """For every model admin and inline: lists, change pages, foreign-key choices (select,
    autocomplete, validation) and the organization filter hold only the staff user's
    organizations' rows."""

    def get_queryset(self, request):
        queryset = admin_rows(self.model, request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_field_queryset(self, db, db_field, request):
        related = db_field.remote_field.model
        queryset = admin_rows(related, request.user).using(db)
        related_admin = self.admin_site._registry.get(related)
        ordering = related_admin.get_ordering(request) if related_admin else ()
        return queryset.order_by(*ordering) if ordering else queryset

    def get_list_filter(self, request):
        # A filter on a foreign key lists only the related rows that appear in this (scoped)
        # list, never every organization's.
        return [
            (name, admin.RelatedOnlyFieldListFilter)
            if isinstance(name, str) and _is_relation(self.model, name)
            else name
            for name in super().get_list_filter(request)
        ]


def _is_relation(model: type[models.Model], name: str) -> bool:
    try:
        return model._meta.get_field(name).is_relation
    except FieldDoesNotExist:  # a lookup path ("a__b"): leave it as Django reads it
        return False


class OrgOwnedAdmin(TenantScopedAdmin, admin.ModelAdmin):
    """Shared settings for organization-owned rows."""

    readonly_fields = (*PROVENANCE_FIELDS, *TIMESTAMP_FIELDS)
    list_per_page = 50
    show_full_result_count = False  # no extra COUNT(*) over the whole table on every page

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_changelist(request):
            queryset = self.annotate_changelist(queryset)
        return queryset

    def annotate_changelist(self, queryset):
        """Counts for the list columns: only on the list page, not in autocomplete lookups."""
        return queryset

    def save_model(self, request, obj, form, change):
        # An edit here is a MissionOS edit like any other: it goes back to Airtable.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_written(record=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            for instance in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                if isinstance(instance, OrgOwned):
                    record_written(record=instance, actor=request.user)

    def get_fieldsets(self, request, obj=None):
        """The editable fields first, then provenance and timestamps in a collapsed section."""
        tail = (*PROVENANCE_FIELDS, "archived_at", *TIMESTAMP_FIELDS)
        fields = [name for name in self.get_fields(request, obj) if name not in tail]
        return [
            (None, {"fields": fields}),
            (
                "Sync provenance and history",
                {"classes": ["collapse"], "fields": list(tail)},
            ),
        ]


class SameOrganizationInlineFormSet(BaseInlineFormSet):
    """Inline rows take the organization of their parent: the inline form has no such field."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.organization_id = self.instance.organization_id
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        form.instance.organization_id = self.instance.organization_id
        return form


class MembershipInline(TenantScopedAdmin, admin.TabularInline):
    model = Membership
    fields = ("user", "role", "last_used_at", "created_at")
    readonly_fields = ("last_used_at", "created_at")
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("name",)
    readonly_fields = ("created_at",)
    inlines = (MembershipInline,)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_changelist(request):
            queryset = queryset.annotate(member_count=Count("memberships"))
        return queryset

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Organization) -> int:
        return obj.member_count


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin, admin.ModelAdmin):
    list_display = ("user", "organization", "role", "last_used_at", "created_at")
    list_filter = ("organization", "role")
    list_select_related = ("user", "organization")
    search_fields = ("user__username", "user__email", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    readonly_fields = ("created_at",)


class DepartedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "departed"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Departed")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(departed_on__isnull=True)
        if self.value() == "yes":
            return queryset.filter(departed_on__isnull=False)
        return queryset


@admin.register(Person)
class PersonAdmin(OrgOwnedAdmin):
    list_display = ("name", "email", "organization", "user", "departed_on", "is_active")
    list_filter = ("organization", DepartedFilter, "departed_on")
    list_select_related = ("organization", "user")
    search_fields = ("name", "email", "user__username")
    autocomplete_fields = ("organization", "user")

    @admin.display(boolean=True, description="Active", ordering="departed_on")
    def is_active(self, obj: Person) -> bool:
        return obj.is_active
