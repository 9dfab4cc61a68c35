"""The audit log page's text: stored values, field names, kinds and where a record is."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import reverse

from orgs import audit
from orgs.activity import target_kind
from orgs.models import AuditEntry

register = template.Library()


@register.filter
def audit_value(value: object) -> str:
    return audit.value_text(value)


@register.filter
def audit_field(name: str) -> str:
    return audit.field_label(name)


@register.filter
def audit_kind_label(name: str) -> str:
    kind = audit.audit_kind(name)
    return kind.label if kind else name


@register.simple_tag
def audit_link(entry: AuditEntry, request: HttpRequest) -> str:
    """The page of the entry's record, when the activity feed knows one of that kind and the
    member may open it; "" otherwise (a task, a membership, a record of nowhere)."""
    kind = target_kind(entry.target_kind)
    if kind is None or not kind.url_name or entry.target_id is None:
        return ""
    if not request.membership.allows(kind.required):
        return ""
    return reverse(
        kind.url_name, kwargs={"org_slug": request.org.slug, kind.url_kwarg: entry.target_id}
    )
