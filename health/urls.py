"""Data health pages, mounted under /o/<org_slug>/health/."""

from django.urls import path

from health import views

urlpatterns = [
    path("", views.health_page, name="health_page"),
    path("compute/", views.health_recompute, name="health_recompute"),
    path("findings/<int:finding_id>/dismiss/", views.finding_dismiss, name="finding_dismiss"),
    path("fix/", views.action_preview, name="health_fix"),
    path("fixes/<int:action_id>/undo/", views.action_undo, name="health_undo"),
    path("digest/", views.digest_update, name="health_digest"),
]
