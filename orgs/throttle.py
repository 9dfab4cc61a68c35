"""Login throttling: django-axes, counted per address first and per account as a ceiling.

Axes counts failed sign-ins by each of settings.AXES_LOCKOUT_PARAMETERS (the address, the
account) and locks when any count reaches one limit. Here the account gets a higher limit of
its own (settings.LOGIN_FAILURES_PER_ACCOUNT): a guesser at one address is stopped after a few
tries, while a real user is locked out of their own account only by failures from many places,
and never for longer than the cool-off (a failure while locked is not counted, so a lock lifts
on time however long the guessing goes on).
"""

from __future__ import annotations

from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orgs.supabase.config import supabase_config


class AddressFirstHandler(AxesDatabaseHandler):
    """Axes' database handler with the account's failures weighed against its own limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # One queryset per lockout parameter, in their order: address, then account.
        by_address, by_account = (
            sum(attempt.failures_since_start for attempt in attempts)
            for attempts in self.get_user_attempts(request, credentials)
        )
        # In units of the address's limit, which is the one axes compares with.
        account_share = (
            by_account * settings.LOGIN_FAILURES_PER_ADDRESS // settings.LOGIN_FAILURES_PER_ACCOUNT
        )
        return max(by_address, account_share)


class ThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked address or account before any password is checked. A sign-in without
    a request (a management command, a shell) has no address to count and is not throttled;
    every login page passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# What axes keeps of the name (AccessAttempt.username is a varchar(255)).
ACCOUNT_NAME_MAX = 255


def account_name(request: HttpRequest, credentials: dict | None) -> str:
    """The account a sign-in names, as counted: case and surrounding spaces do not make
    another account (an email address, or a username, is matched without them). Cut to what
    axes keeps: Django's login form does not bound the username it passes on, and a longer
    one failed the count's insert on Postgres (a 500 where a refusal was due)."""
    name = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(name).strip().lower()[:ACCOUNT_NAME_MAX]


def client_address(request: HttpRequest) -> str | None:
    """The address to count: REMOTE_ADDR, or behind settings.TRUSTED_PROXY_HOPS proxies that
    each append to X-Forwarded-For, the address the outermost of them saw (entries further
    left are whatever the client sent, and not to be trusted)."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked sign-in gets: what happened, for how long, and what to do instead."""
    cool_off: timedelta = get_cool_off(request) or timedelta(0)
    response = render(
        request,
        "registration/locked_out.html",
        {
            "minutes": max(1, round(cool_off.total_seconds() / 60)),
            "supabase": supabase_config() is not None,
        },
        status=429,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
