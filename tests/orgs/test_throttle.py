"""Login throttling (django-axes, orgs/throttle.py): per address first, per account as a
ceiling, a clear page when locked, reset on success, and a lock that always lifts."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from orgs.throttle import client_address
from tests.factories import PASSWORD
from tests.orgs import supabase_helpers

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia(owner):
    return owner


@pytest.fixture
def axes_clock(clock, monkeypatch):
    """The stopped clock, read by axes too (it imports `now` where it stamps an attempt and
    where it computes the cool-off's threshold)."""
    monkeypatch.setattr("axes.handlers.proxy.now", clock)
    monkeypatch.setattr("axes.attempts.now", clock)
    return clock


def attempt(username: str, password: str, address: str = "198.51.100.7") -> Client:
    browser = Client(REMOTE_ADDR=address)
    browser.last = browser.post(reverse("login"), {"username": username, "password": password})
    return browser


def signed_in(browser: Client) -> bool:
    return SESSION_KEY in browser.session


def fail(times: int, username: str = "olivia", address: str = "198.51.100.7") -> list[int]:
    """The statuses of `times` wrong passwords: the login page again (200) until the one
    that reaches a limit, which gets the locked page (429)."""
    return [attempt(username, "wrong guess", address).last.status_code for _ in range(times)]


def test_five_wrong_passwords_from_one_address_lock_it_with_a_clear_page(olivia):
    assert fail(5) == [200, 200, 200, 200, 429]
    locked = attempt("olivia", PASSWORD)  # even the right password, from there
    assert locked.last.status_code == 429 and not signed_in(locked)
    page = locked.last.content.decode()
    assert "Too many sign-in attempts" in page and "15 minutes" in page
    assert locked.last["Retry-After"] == "900"
    # Another address, and the account itself, are not locked by one address's guessing.
    assert signed_in(attempt("olivia", PASSWORD, address="203.0.113.9"))


def test_what_is_kept_of_a_failed_attempt_holds_no_password_or_token(olivia):
    from axes.models import AccessAttempt

    browser = Client(REMOTE_ADDR="198.51.100.7", enforce_csrf_checks=True)
    token = browser.get(reverse("login")).context["csrf_token"]
    browser.post(
        reverse("login"),
        {"username": "olivia", "password": "hunter2-typed", "csrfmiddlewaretoken": str(token)},
    )
    (kept,) = AccessAttempt.objects.all()
    assert kept.failures_since_start == 1 and kept.username == "olivia"
    assert "hunter2-typed" not in kept.post_data and str(token) not in kept.post_data


def test_four_failures_then_success_resets_the_count(olivia):
    assert fail(4) == [200] * 4
    assert signed_in(attempt("olivia", PASSWORD))
    assert fail(4) == [200] * 4
    assert signed_in(attempt("olivia", PASSWORD))


def test_guessing_one_account_from_many_addresses_locks_the_account_for_a_while(olivia, axes_clock):
    statuses = [fail(1, address=f"192.0.2.{number}")[0] for number in range(20)]
    assert statuses == [200] * 19 + [429]
    assert attempt("olivia", PASSWORD, address="203.0.113.9").last.status_code == 429
    assert attempt("someone-else", "x", address="203.0.113.9").last.status_code == 200  # no lock
    axes_clock.advance(minutes=15, seconds=1)
    assert signed_in(attempt("olivia", PASSWORD, address="203.0.113.9"))


def test_an_address_lock_lifts_after_the_cool_off_however_long_the_guessing_goes_on(
    olivia, axes_clock
):
    assert fail(5)[-1] == 429
    for _ in range(10):  # still guessing while locked: not counted, does not extend the lock
        axes_clock.advance(minutes=1)
        assert attempt("olivia", "wrong guess").last.status_code == 429
    axes_clock.advance(minutes=5, seconds=1)  # 15 minutes after the fifth failure
    assert signed_in(attempt("olivia", PASSWORD))


@pytest.mark.parametrize("length", [255, 256, 100_000])
def test_a_name_of_any_length_is_refused_and_counted_not_a_500(olivia, length):
    from axes.models import AccessAttempt

    name = "o" * length
    assert fail(2, username=name) == [200, 200]
    (kept,) = AccessAttempt.objects.all()
    assert kept.failures_since_start == 2 and kept.username == name[:255]


def test_case_and_spaces_do_not_make_another_account(olivia):
    for variant in ("olivia", "Olivia", " OLIVIA ", "oLiViA"):
        for number in range(5):
            attempt(variant, "wrong guess", address=f"192.0.2.{len(variant)}{number}")
    assert attempt("olivia", PASSWORD, address="203.0.113.9").last.status_code == 429


def test_the_supabase_password_form_is_throttled_too(supabase_auth):
    supabase_auth.create_user("ada@example.org", supabase_helpers.PASSWORD)
    browser = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        supabase_helpers.sign_in(browser, "ada@example.org", "wrong").status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    response = supabase_helpers.sign_in(browser, "ada@example.org")
    assert response.status_code == 429 and SESSION_KEY not in browser.session
    assert "reset it" in response.content.decode()


@pytest.mark.parametrize(
    ("hops", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.1", "10.0.0.2", "10.0.0.2"),  # no proxy: the header is the client's word
        (1, "203.0.113.1", "10.0.0.2", "203.0.113.1"),
        (1, "6.6.6.6, 203.0.113.1", "10.0.0.2", "203.0.113.1"),  # a forged entry is ignored
        (2, "6.6.6.6, 203.0.113.1, 10.0.0.3", "10.0.0.2", "203.0.113.1"),
        (2, "", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_address_counted_behind_trusted_proxies(
    settings, rf, hops, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_HOPS = hops
    request = rf.post("/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
