"""Authentication: Django's model backend, with the user's memberships in the same query."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser

from orgs.selectors import memberships_with_user
from orgs.supabase.config import is_configured as supabase_configured


class MembershipsBackend(ModelBackend):
    """Every page needs the signed-in user (Django loads them by the id in the session) and
    their memberships (the organization in the URL, the switcher in the header). This loads
    both in one query, each membership joined to the user and its organization, and leaves
    them on `user.loaded_memberships` (orgs.selectors.memberships_of). A user in no organization
    costs the usual user query. Passwords, permissions and inactive users are ModelBackend's,
    except that with Supabase Auth configured passwords are Supabase's (orgs.supabase.backend)
    and local ones are not checked at all."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if supabase_configured():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id) -> AbstractBaseUser | None:
        memberships = memberships_with_user(user_id=user_id)
        if not memberships:
            user = super().get_user(user_id)
            if user is not None:
                user.loaded_memberships = []
            return user
        user = memberships[0].user
        for membership in memberships:
            membership.user = user  # one user object, as a query through the user would give
        user.loaded_memberships = memberships
        return user if self.user_can_authenticate(user) else None
