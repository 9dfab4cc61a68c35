"""Pages outside any one organization: landing, login, logout, invitation links, and the
health check."""

from django.contrib.auth import views as auth_views
from django.urls import path

from orgs import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz/", views.health, name="health"),
    # An emailed invitation: outside any organization until it is accepted.
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
