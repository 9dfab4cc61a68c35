"""Django admin for cycles, pathways, objectives, key results, check-ins, projects and tasks.

Built on `orgs.admin.OrgOwnedAdmin`: organization first in the filters, sync provenance
read-only, autocomplete for foreign keys. Filters on a parent (pathway, cycle) list only the
chosen organization's rows, so the sidebar stays short however many organizations there are.
Saves go through `okrs.services` where one exists, so derived fields stay consistent
(a task's completion time, a project's last activity, a key result's current value).
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin
from django.db.models import Count, Max
from django.utils import timezone

from okrs import services
from okrs.models import (
    CheckIn,
    Cycle,
    KeyResult,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.admin import OrgOwnedAdmin, SameOrganizationInlineFormSet, TenantScopedAdmin, admin_rows
from orgs.tenancy import live_q

ORG_PARAM = "organization__id__exact"  # the query parameter of the organization list filter
STALE_AFTER = datetime.timedelta(days=90)


def _selected_org_id(request) -> str | None:
    value = request.GET.get(ORG_PARAM, "")
    return value if value.isdigit() else None


def org_scoped_filter(field: str, model, title: str) -> type[admin.SimpleListFilter]:
    """A filter on `field` listing only the selected organization's rows; hidden until one is."""

    class OrgScopedFilter(admin.SimpleListFilter):
        parameter_name = f"{field}_id"

        def lookups(self, request, model_admin):
            org_id = _selected_org_id(request)
            if org_id is None:
                return []
            rows = admin_rows(model, request.user).filter(organization_id=org_id)
            return [(str(obj.pk), str(obj)) for obj in rows]

        def queryset(self, request, queryset):
            value = self.value()
            if value and value.isdigit():
                return queryset.filter(**{f"{field}_id": value})
            return queryset

    OrgScopedFilter.title = title
    OrgScopedFilter.__name__ = f"{field.title()}ScopedFilter"
    return OrgScopedFilter


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(live_q())
        if self.value() == "yes":
            return queryset.exclude(live_q())
        return queryset


PathwayFilter = org_scoped_filter("pathway", Pathway, "pathway")
CycleFilter = org_scoped_filter("cycle", Cycle, "cycle")


@admin.register(Cycle)
class CycleAdmin(OrgOwnedAdmin):
    list_display = ("name", "organization", "starts_on", "ends_on", "objective_count")
    list_filter = ("organization", ArchivedFilter)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)

    def annotate_changelist(self, queryset):
        return queryset.annotate(objective_count=Count("objectives"))

    @admin.display(description="Objectives", ordering="objective_count")
    def objective_count(self, obj: Cycle) -> int:
        return obj.objective_count


@admin.register(Pathway)
class PathwayAdmin(OrgOwnedAdmin):
    list_display = ("name", "organization", "position", "objective_count", "project_count")
    list_filter = ("organization", ArchivedFilter)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)

    def annotate_changelist(self, queryset):
        return queryset.annotate(
            objective_count=Count("objectives", distinct=True),
            project_count=Count("projects", distinct=True),
        )

    @admin.display(description="Objectives", ordering="objective_count")
    def objective_count(self, obj: Pathway) -> int:
        return obj.objective_count

    @admin.display(description="Projects", ordering="project_count")
    def project_count(self, obj: Pathway) -> int:
        return obj.project_count


class KeyResultInline(TenantScopedAdmin, admin.TabularInline):
    model = KeyResult
    formset = SameOrganizationInlineFormSet
    fields = (
        "title",
        "metric_type",
        "start_value",
        "current_value",
        "target_value",
        "unit",
        "weight",
        "confidence",
        "owner",
    )
    autocomplete_fields = ("owner",)
    show_change_link = True
    extra = 0


class HasKeyResultsFilter(admin.SimpleListFilter):
    title = "key results"
    parameter_name = "has_key_results"

    def lookups(self, request, model_admin):
        return [("yes", "Has key results"), ("no", "No key results")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(key_result_count__gt=0)
        if self.value() == "no":
            return queryset.filter(key_result_count=0)
        return queryset


@admin.register(Objective)
class ObjectiveAdmin(OrgOwnedAdmin):
    list_display = ("title", "organization", "pathway", "cycle", "owner", "key_result_count")
    list_filter = ("organization", PathwayFilter, CycleFilter, HasKeyResultsFilter, ArchivedFilter)
    list_select_related = ("organization", "pathway", "cycle", "owner")
    search_fields = ("title", "description", "owner__name", "pathway__name")
    autocomplete_fields = ("organization", "pathway", "cycle", "owner", "parent")
    inlines = (KeyResultInline,)

    def annotate_changelist(self, queryset):
        return queryset.annotate(
            key_result_count=Count("key_results", filter=live_q("key_results"))
        )

    @admin.display(description="Key results", ordering="key_result_count")
    def key_result_count(self, obj: Objective) -> int:
        return obj.key_result_count


class CheckInInline(TenantScopedAdmin, admin.TabularInline):
    """The key result's history, read-only here: new check-ins go through the check-in admin."""

    model = CheckIn
    fields = ("checked_in_at", "value", "confidence", "note", "author")
    readonly_fields = fields
    ordering = ("-checked_in_at",)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(KeyResult)
class KeyResultAdmin(OrgOwnedAdmin):
    list_display = (
        "title",
        "objective",
        "organization",
        "metric_type",
        "start_value",
        "current_value",
        "target_value",
        "unit",
        "confidence",
        "owner",
        "last_check_in",
    )
    list_filter = ("organization", "metric_type", ArchivedFilter)
    list_select_related = ("organization", "objective", "owner")
    search_fields = ("title", "objective__title", "owner__name")
    autocomplete_fields = ("organization", "objective", "owner")
    inlines = (CheckInInline,)

    def annotate_changelist(self, queryset):
        return queryset.annotate(last_check_in=Max("check_ins__checked_in_at"))

    def get_readonly_fields(self, request, obj=None):
        """Once a key result has live check-ins, its current value follows the latest one."""
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.check_ins.live().exists():
            readonly += ("current_value",)
        return readonly

    @admin.display(description="Last check-in", ordering="last_check_in")
    def last_check_in(self, obj: KeyResult):
        return obj.last_check_in


def _follow_latest_check_ins(request, key_result_ids) -> None:
    """After check-ins change here, their key results follow their latest (okrs.services)."""
    for key_result in admin_rows(KeyResult, request.user).filter(pk__in=set(key_result_ids)):
        services.key_result_follow_latest_check_in(key_result=key_result)


@admin.register(CheckIn)
class CheckInAdmin(OrgOwnedAdmin):
    list_display = ("key_result", "organization", "value", "confidence", "author", "checked_in_at")
    list_filter = ("organization", ArchivedFilter)
    list_select_related = ("organization", "key_result", "author")
    search_fields = ("key_result__title", "note", "author__username")
    autocomplete_fields = ("organization", "key_result", "author")
    date_hierarchy = "checked_in_at"

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)
        previous = form.initial.get("key_result")
        _follow_latest_check_ins(request, [obj.key_result_id, *([previous] if previous else [])])

    def delete_model(self, request, obj):
        key_result_id = obj.key_result_id
        super().delete_model(request, obj)
        _follow_latest_check_ins(request, [key_result_id])

    def delete_queryset(self, request, queryset):
        key_result_ids = list(queryset.values_list("key_result_id", flat=True))
        super().delete_queryset(request, queryset)
        _follow_latest_check_ins(request, key_result_ids)


class ProjectAdminForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = (
            "organization",
            "name",
            "description",
            "pathway",
            "objectives",
            "owner",
            "status",
            "starts_on",
            "ends_on",
            "last_activity_at",
            "archived_at",
        )

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization")
        objectives = cleaned.get("objectives")
        if (
            organization is not None
            and objectives is not None
            and objectives.exclude(organization=organization).exists()
        ):
            self.add_error("objectives", "Choose objectives from this organization.")
        return cleaned


class StaleFilter(admin.SimpleListFilter):
    """Active projects nobody has touched for three months: abandoned but never closed."""

    title = "activity"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", "Active, idle 90+ days")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                status=ProjectStatus.ACTIVE, last_activity_at__lt=timezone.now() - STALE_AFTER
            )
        return queryset


@admin.register(Project)
class ProjectAdmin(OrgOwnedAdmin):
    form = ProjectAdminForm
    list_display = (
        "name",
        "organization",
        "pathway",
        "owner",
        "status",
        "starts_on",
        "ends_on",
        "last_activity_at",
        "task_count",
    )
    list_filter = ("organization", "status", StaleFilter, PathwayFilter, ArchivedFilter)
    list_select_related = ("organization", "pathway", "owner")
    search_fields = ("name", "description", "owner__name", "pathway__name")
    autocomplete_fields = ("organization", "pathway", "owner", "objectives")

    def annotate_changelist(self, queryset):
        return queryset.annotate(task_count=Count("tasks", filter=live_q("tasks")))

    @admin.display(description="Tasks", ordering="task_count")
    def task_count(self, obj: Project) -> int:
        return obj.task_count

    def save_model(self, request, obj, form, change):
        # The objectives (many-to-many) are saved afterwards by save_related.
        services.project_save(project=obj, actor=request.user)


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("none", "No due date")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.exclude(status=TaskStatus.DONE).filter(due_on__lt=timezone.localdate())
        if self.value() == "none":
            return queryset.filter(due_on__isnull=True)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee_state"

    def lookups(self, request, model_admin):
        return [("none", "Unassigned"), ("departed", "Assigned to someone who left")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        if self.value() == "departed":
            return queryset.filter(assignee__departed_on__isnull=False)
        return queryset


@admin.register(Task)
class TaskAdmin(OrgOwnedAdmin):
    list_display = (
        "title",
        "project",
        "organization",
        "assignee",
        "status",
        "due_on",
        "is_overdue",
        "completed_at",
    )
    list_filter = ("organization", "status", OverdueFilter, AssigneeFilter, ArchivedFilter)
    list_select_related = ("organization", "project", "assignee")
    search_fields = ("title", "project__name", "assignee__name")
    autocomplete_fields = ("organization", "project", "assignee")

    @admin.display(boolean=True, description="Overdue")
    def is_overdue(self, obj: Task) -> bool:
        return bool(
            obj.due_on and obj.status != TaskStatus.DONE and obj.due_on < timezone.localdate()
        )

    def save_model(self, request, obj, form, change):
        # Stamps or clears completed_at from the status and touches the project's activity.
        services.task_save(task=obj, actor=request.user)
