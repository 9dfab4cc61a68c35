"""The URL Airtable pings after a change (the change feed), mounted at /sync/airtable/: it
belongs to no organization, since Airtable knows none."""

from django.urls import path

from sync import views

urlpatterns = [path("notify/", views.feed_notify, name="sync_feed_notify")]
