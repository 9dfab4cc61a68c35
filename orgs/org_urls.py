"""Organization pages, mounted under /o/<org_slug>/."""

from django.urls import path

from missionos import exports
from orgs import views
from orgs.exports import TABLES

urlpatterns = [
    path("events/", views.org_events, name="org_events"),
    path("audit/", views.audit_log, name="audit_log"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
    path("people/", views.people_list, name="people_list"),
    path("people/new/", views.person_edit, name="person_create"),
    path("people/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("members/", views.member_list, name="member_list"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "members/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    # The directory's download: "export/people.csv" (export_people_csv).
    *exports.urlpatterns_for(TABLES),
]
