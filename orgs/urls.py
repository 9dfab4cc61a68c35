"""Pages outside any one organization: landing, login, logout, invitation links, and the
health check."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from orgs import views
from orgs.supabase.views import SignInView

urlpatterns = [
    path("", views.home, name="home"),
    # Django's login view; with Supabase Auth configured, its form and pages (orgs/supabase/).
    path("login/", SignInView.as_view(), name="login"),
    path("auth/", include("orgs.supabase.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.health, name="health"),
    path("help/", views.help_page, name="help"),
    # An emailed invitation: outside any organization until it is accepted.
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
