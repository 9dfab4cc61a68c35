"""Signing in through Supabase Auth in Chromium, against the fake in devtools/fakesupabase/:
password, magic link opened from the fake's mailbox, a refused token's message, a first
sign-in creating the account and a verified address linking an existing local account.
Screenshots at 1280 and 390 px wide go to artifacts/screenshots/supabase-*.png."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from orgs.models import Membership, Role, SupabaseIdentity
from tests.browser.conftest import shoot, supabase_sign_in
from tests.factories import OrganizationFactory, UserFactory
from tests.orgs.supabase_helpers import PASSWORD

User = get_user_model()


def password_sign_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/login/")
    supabase_sign_in(page, email)


def test_password_sign_in_creates_the_account(live_server, page, supabase, screenshot_dir):
    supabase.create_user("grace@example.org", PASSWORD)
    page.goto(live_server.url + "/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to MissionOS")
    expect(page.get_by_role("link", name="Email me a sign-in link or code")).to_be_visible()
    shoot(page, screenshot_dir, "supabase-login")

    password_sign_in(page, live_server, "grace@example.org")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not belong to an organization yet"
    )
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_contain_text("grace")
    user = User.objects.get(email="grace@example.org")
    assert SupabaseIdentity.objects.get().user == user


def test_a_verified_address_links_the_existing_account(live_server, page, supabase):
    dana = UserFactory(username="dana", email="Dana@Example.org")
    unit = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=dana, organization=unit, role=Role.MEMBER)
    supabase.create_user("dana@example.org", PASSWORD)

    password_sign_in(page, live_server, "dana@example.org")

    expect(page.get_by_role("heading", level=1)).to_have_text("North Unit")
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_contain_text("dana")
    assert User.objects.count() == 1
    assert SupabaseIdentity.objects.get().user == dana


def test_magic_link_from_the_mailbox(live_server, page, supabase, screenshot_dir):
    supabase.create_user("ada@example.org", PASSWORD)
    page.goto(live_server.url + "/login/")
    page.get_by_role("link", name="Email me a sign-in link or code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in by email")
    shoot(page, screenshot_dir, "supabase-link")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Email me a link and code").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("status").filter(has_text="ada@example.org")).to_be_visible()
    shoot(page, screenshot_dir, "supabase-check-email")

    page.goto(supabase.last_mail("ada@example.org", "magiclink").link)

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not belong to an organization yet"
    )
    assert SupabaseIdentity.objects.get().user.email == "ada@example.org"


def test_a_refused_token_shows_why(live_server, page, supabase, screenshot_dir):
    supabase.create_user("ada@example.org", PASSWORD)
    supabase.spoil_next_token("tampered")

    password_sign_in(page, live_server, "ada@example.org")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Sign-in refused: the token from Supabase could not be trusted")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to MissionOS")
    shoot(page, screenshot_dir, "supabase-refused")
    assert not User.objects.exists()


def test_an_expired_link_says_what_to_do(live_server, page, supabase, screenshot_dir):
    supabase.create_user("ada@example.org", PASSWORD)
    page.goto(live_server.url + "/auth/link/")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Email me a link and code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    supabase.expire_mail()

    page.goto(supabase.last_mail("ada@example.org").link)

    expect(page.get_by_role("alert")).to_contain_text("invalid or has expired")
    expect(page.get_by_role("link", name="Email me a new link")).to_be_visible()
    shoot(page, screenshot_dir, "supabase-link-error")
