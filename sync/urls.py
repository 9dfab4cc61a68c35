"""Airtable sync pages, mounted under /o/<org_slug>/sync/."""

from django.urls import path

from sync import views

urlpatterns = [
    path("", views.connection_list, name="sync_connections"),
    path("<int:connection_id>/", views.connection_detail, name="sync_connection"),
    path("<int:connection_id>/sync-now/", views.sync_now, name="sync_now"),
    path("<int:connection_id>/schedule/", views.schedule_update, name="sync_schedule"),
    path("<int:connection_id>/token/", views.token_update, name="sync_token"),
    path("<int:connection_id>/mapping/", views.mapping_edit, name="sync_mapping"),
    path("<int:connection_id>/writes/", views.writes_update, name="sync_writes"),
    path("conflicts/<int:conflict_id>/", views.conflict_resolve, name="sync_conflict_resolve"),
    path("runs/<int:run_id>/", views.run_detail, name="sync_run"),
    path("runs/<int:run_id>/progress/", views.run_progress, name="sync_run_progress"),
]
