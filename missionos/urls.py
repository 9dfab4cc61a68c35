from django.contrib import admin
from django.urls import include, path

from okrs.views import my_work

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("orgs.urls")),
    path("my-work/", my_work.my_work, name="my_work"),
    path("notifications/", my_work.notifications, name="notifications"),
    path("notifications/unsubscribe/", my_work.reminder_unsubscribe, name="reminder_unsubscribe"),
    path("o/<slug:org_slug>/", include("orgs.org_urls")),
    path("o/<slug:org_slug>/", include("okrs.urls")),
    path("o/<slug:org_slug>/sync/", include("sync.urls")),
    path("o/<slug:org_slug>/health/", include("health.urls")),
    # Airtable's webhook pings: outside any organization (the hook's id says whose).
    path("sync/airtable/", include("sync.notify_urls")),
]
