"""Supabase Auth's pages, under /auth/ (404 unless Supabase is configured)."""

from django.urls import path

from orgs.supabase import views

urlpatterns = [
    path("link/", views.sign_in_link, name="supabase_link"),
    path("code/", views.enter_code, name="supabase_code"),
    path("callback/", views.callback, name="supabase_callback"),
    path("signup/", views.sign_up, name="supabase_signup"),
    path("reset/", views.reset_password, name="supabase_reset"),
    path("reset/new/", views.set_password, name="supabase_set_password"),
]
